// SPDX-License-Identifier: GPL-2.0 OR MIT
//
// Tests of the AArch64 MMIO load/store decoder/emulator (kernel/insn_arm64).
//
// The oracle is Debian's aarch64-linux-gnu-objdump: tens of thousands of
// instruction words, random within each load/store encoding group and
// random overall, are disassembled, and objdump's text is turned into an
// expected access (direction, width, sign extension, registers, address
// form, writeback). The decoder must accept exactly the words objdump
// names as the plain loads and stores PCIem emulates, refuse the
// exclusive, atomic and unprivileged ones with their own codes, and the
// emulator must produce what a register model written from objdump's
// operands produces. Nothing is shared with the unit under test.

#include "pciem_a64.h"
#include "tool_run.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr const char* kObjdump = "aarch64-linux-gnu-objdump";

uint64_t mask(unsigned bytes) { return bytes >= 8 ? ~0ULL : (1ULL << (8 * bytes)) - 1; }

int64_t sext(uint64_t v, unsigned bits) {
    uint64_t m = 1ULL << (bits - 1);
    v &= bits >= 64 ? ~0ULL : (m << 1) - 1;
    return static_cast<int64_t>((v ^ m) - m);
}

int decode_word(uint32_t w, pciem_a64_insn* out) {
    uint8_t b[4];
    std::memcpy(b, &w, 4); // little-endian host, as the guest's text
    return pciem_a64_decode(b, 4, out);
}

// A fake bus: reads answer a hash of the address, writes are logged.
struct Access {
    bool write;
    uint64_t addr;
    unsigned size;
    uint64_t val;
};

struct Bus {
    std::vector<Access> log;
    int fail_at = -1;
    static uint64_t answer(uint64_t a) { return (a * 0x9e3779b97f4a7c15ULL) ^ (a >> 7); }
};

int bus_read(void* ctx, uint64_t addr, unsigned size, uint64_t* val) {
    auto* b = static_cast<Bus*>(ctx);
    if (static_cast<int>(b->log.size()) == b->fail_at)
        return -5;
    *val = Bus::answer(addr) & mask(size);
    b->log.push_back({false, addr, size, *val});
    return 0;
}

int bus_write(void* ctx, uint64_t addr, unsigned size, uint64_t val) {
    auto* b = static_cast<Bus*>(ctx);
    if (static_cast<int>(b->log.size()) == b->fail_at)
        return -5;
    b->log.push_back({true, addr, size, val});
    return 0;
}

const pciem_a64_ops kOps = {bus_read, bus_write};

pciem_a64_regs random_regs(std::mt19937_64& rnd) {
    pciem_a64_regs r{};
    for (auto& x : r.x)
        x = rnd();
    r.sp = 0xffff800010000000ULL + (rnd() & 0xffff0);
    r.pc = 0xffff800008000000ULL + (rnd() & 0xfffc);
    return r;
}

// ---------------------------------------------------------------------------
// Hand-written cases: what drivers' accessors compile to.

TEST(A64, ReadlIsLdrW) {
    pciem_a64_insn i;
    ASSERT_EQ(0, decode_word(0xb9400000, &i)); // ldr w0, [x0]
    EXPECT_TRUE(i.load);
    EXPECT_EQ(4, i.width);
    EXPECT_EQ(4, i.reg_width);
    EXPECT_EQ(0, i.rt);
    EXPECT_EQ(0, i.rn);
    pciem_a64_regs r{};
    r.x[0] = 0x1000;
    r.pc = 0x4000;
    Bus b;
    ASSERT_EQ(0, pciem_a64_emulate(&i, &r, 0x1000, &kOps, &b));
    ASSERT_EQ(1u, b.log.size());
    EXPECT_EQ(0x1000u, b.log[0].addr);
    EXPECT_EQ(Bus::answer(0x1000) & 0xffffffff, r.x[0]);
    EXPECT_EQ(0x4004u, r.pc);
}

TEST(A64, WriteqZeroRegisterStoresZero) {
    pciem_a64_insn i;
    ASSERT_EQ(0, decode_word(0xf900043f, &i)); // str xzr, [x1, #8]
    pciem_a64_regs r{};
    r.x[1] = 0x2000;
    Bus b;
    ASSERT_EQ(0, pciem_a64_emulate(&i, &r, 0x2008, &kOps, &b));
    ASSERT_EQ(1u, b.log.size());
    EXPECT_TRUE(b.log[0].write);
    EXPECT_EQ(0x2008u, b.log[0].addr);
    EXPECT_EQ(0u, b.log[0].val);
}

TEST(A64, PostIndexWritesBackBase) {
    pciem_a64_insn i;
    ASSERT_EQ(0, decode_word(0xf8408420, &i)); // ldr x0, [x1], #8
    EXPECT_EQ(PCIEM_A64_POST, i.mode);
    pciem_a64_regs r{};
    r.x[1] = 0x3000;
    Bus b;
    ASSERT_EQ(0, pciem_a64_emulate(&i, &r, 0x3000, &kOps, &b));
    EXPECT_EQ(0x3000u, b.log.at(0).addr);
    EXPECT_EQ(0x3008u, r.x[1]);
}

TEST(A64, PairPreIndexOnSp) {
    pciem_a64_insn i;
    ASSERT_EQ(0, decode_word(0xa9c10bf0, &i)); // ldp x16, x2, [sp, #16]!
    EXPECT_TRUE(i.pair);
    pciem_a64_regs r{};
    r.sp = 0x5000;
    Bus b;
    ASSERT_EQ(0, pciem_a64_emulate(&i, &r, 0x5010, &kOps, &b));
    ASSERT_EQ(2u, b.log.size());
    EXPECT_EQ(0x5010u, b.log[0].addr);
    EXPECT_EQ(0x5018u, b.log[1].addr);
    EXPECT_EQ(b.log[0].val, r.x[16]);
    EXPECT_EQ(b.log[1].val, r.x[2]);
    EXPECT_EQ(0x5010u, r.sp);
}

TEST(A64, SignExtendingLoads) {
    pciem_a64_insn i;
    ASSERT_EQ(0, decode_word(0x38e1c820, &i)); // ldrsb w0, [x1, w1, sxtw]
    EXPECT_TRUE(i.sign_extend);
    EXPECT_EQ(4, i.reg_width);
    EXPECT_EQ(PCIEM_A64_SXTW, i.extend);
    pciem_a64_regs r{};
    r.x[1] = 0xfffffffffffffff0ULL; // w1 = -16, x1 = base
    Bus b;
    ASSERT_EQ(0, pciem_a64_emulate(&i, &r, 0, &kOps, &b));
    uint64_t want_addr = r.x[1] + static_cast<uint64_t>(-16);
    EXPECT_EQ(want_addr, b.log.at(0).addr);
    EXPECT_EQ(static_cast<uint64_t>(sext(b.log[0].val, 8)) & 0xffffffff, r.x[0]);
}

TEST(A64, FailedPairLoadLeavesRegisters) {
    pciem_a64_insn i;
    ASSERT_EQ(0, decode_word(0xa8c10bf0, &i)); // ldp x16, x2, [sp], #16
    std::mt19937_64 rnd(1);
    pciem_a64_regs r = random_regs(rnd), before = r;
    Bus b;
    b.fail_at = 1;
    EXPECT_EQ(-5, pciem_a64_emulate(&i, &r, r.sp, &kOps, &b));
    EXPECT_EQ(0, std::memcmp(&r, &before, sizeof(r)));
}

TEST(A64, Refusals) {
    pciem_a64_insn i;
    EXPECT_EQ(PCIEM_A64_EEXCLUSIVE, decode_word(0xc85f7c20, &i)); // ldxr x0, [x1]
    EXPECT_EQ(PCIEM_A64_EEXCLUSIVE, decode_word(0x0800fc20, &i)); // stlxrb w0, w0, [x1]
    EXPECT_EQ(PCIEM_A64_EATOMIC, decode_word(0xb8200020, &i));    // ldadd w0, w0, [x1]
    EXPECT_EQ(PCIEM_A64_EATOMIC, decode_word(0x88a07c22, &i));    // cas w0, w2, [x1]
    EXPECT_EQ(PCIEM_A64_EUNPRIV, decode_word(0xb8400820, &i));    // ldtr w0, [x1]
    EXPECT_EQ(PCIEM_A64_EFPSIMD, decode_word(0xbd400020, &i));    // ldr s0, [x1]
    EXPECT_EQ(PCIEM_A64_EUNPREDICTABLE, decode_word(0xf8408421, &i)); // ldr x1, [x1], #8
    EXPECT_EQ(PCIEM_A64_EUNPREDICTABLE, decode_word(0x29400000, &i)); // ldp w0, w0, [x0]
    EXPECT_EQ(PCIEM_A64_EOPCODE, decode_word(0x58000040, &i));        // ldr x0, <literal>
    EXPECT_EQ(PCIEM_A64_EOPCODE, decode_word(0xd503201f, &i));        // nop
    uint8_t three[3] = {0, 0, 0x40};
    EXPECT_EQ(PCIEM_A64_ETRUNC, pciem_a64_decode(three, 3, &i));
    EXPECT_STRNE("unknown error", pciem_a64_strerror(PCIEM_A64_EATOMIC));
}

TEST(A64, Syndrome) {
    pciem_a64_insn i;
    EXPECT_EQ(PCIEM_A64_ENOSYNDROME, pciem_a64_from_syndrome(0x40, &i));
    // ISV, SAS=halfword, SSE, SRT=3, SF=0 (Wt), read: ldrsh w3, [...]
    uint32_t iss = 1u << 24 | 1u << 22 | 1u << 21 | 3u << 16;
    ASSERT_EQ(0, pciem_a64_from_syndrome(iss, &i));
    pciem_a64_regs r{};
    Bus b;
    ASSERT_EQ(0, pciem_a64_emulate(&i, &r, 0x7002, &kOps, &b));
    EXPECT_EQ(0x7002u, b.log.at(0).addr);
    EXPECT_EQ(2u, b.log[0].size);
    EXPECT_EQ(static_cast<uint64_t>(sext(b.log[0].val, 16)) & 0xffffffff, r.x[3]);
    // ISV, SAS=doubleword, SRT=31 (xzr), write: str xzr, [...]
    iss = 1u << 24 | 3u << 22 | 31u << 16 | 1u << 15 | 1u << 6;
    ASSERT_EQ(0, pciem_a64_from_syndrome(iss, &i));
    b.log.clear();
    ASSERT_EQ(0, pciem_a64_emulate(&i, &r, 0x7008, &kOps, &b));
    EXPECT_TRUE(b.log.at(0).write);
    EXPECT_EQ(0u, b.log[0].val);
    EXPECT_EQ(8u, b.log[0].size);
}

// ---------------------------------------------------------------------------
// The objdump oracle.

using pciem_test::run_capture;

// One register operand as objdump prints it.
struct Reg {
    int num = -1;      // 0-30, 31 for xzr/wzr/sp
    bool is_sp = false;
    unsigned bytes = 0; // 8 for x, 4 for w
};

std::optional<Reg> parse_reg(const std::string& s) {
    if (s == "sp")
        return Reg{31, true, 8};
    if (s == "wsp")
        return Reg{31, true, 4};
    if (s == "xzr")
        return Reg{31, false, 8};
    if (s == "wzr")
        return Reg{31, false, 4};
    if (s.size() < 2 || (s[0] != 'x' && s[0] != 'w'))
        return std::nullopt;
    for (size_t k = 1; k < s.size(); k++)
        if (s[k] < '0' || s[k] > '9')
            return std::nullopt;
    int n = std::atoi(s.c_str() + 1);
    if (n > 30)
        return std::nullopt;
    return Reg{n, false, s[0] == 'x' ? 8u : 4u};
}

// objdump's view of one load or store.
struct Expected {
    bool load = false;
    bool pair = false;
    bool sign = false;
    unsigned width = 0;
    Reg rt, rt2, rn, rm;
    enum { Off, Pre, Post, RegOff } mode = Off;
    int64_t imm = 0;
    std::string extend; // "", "lsl", "uxtw", "sxtw", "sxtx"
    unsigned shift = 0;
};

const std::set<std::string> kPlain = {
    "ldr",   "ldrb",   "ldrh",   "ldrsb", "ldrsh", "ldrsw", "str",    "strb",   "strh",
    "ldur",  "ldurb",  "ldurh",  "ldursb", "ldursh", "ldursw", "stur", "sturb",  "sturh",
    "ldp",   "stp",    "ldpsw",  "ldnp",  "stnp",  "ldar",  "ldarb",  "ldarh",  "stlr",
    "stlrb", "stlrh",  "ldlar",  "ldlarb", "ldlarh", "stllr", "stllrb", "stllrh"};

bool starts(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// Which refusal objdump's mnemonic calls for, if any.
std::optional<int> expected_refusal(const std::string& mn) {
    static const char* excl[] = {"ldxr", "stxr", "ldaxr", "stlxr", "ldxp", "stxp", "ldaxp", "stlxp"};
    for (auto* p : excl)
        if (starts(mn, p))
            return PCIEM_A64_EEXCLUSIVE;
    static const char* atomic[] = {"cas",  "swp",  "ldadd", "ldclr", "ldeor", "ldset", "ldsmax",
                                   "ldsmin", "ldumax", "ldumin", "stadd", "stclr", "steor",
                                   "stset", "stsmax", "stsmin", "stumax", "stumin", "ldapr"};
    for (auto* p : atomic)
        if (starts(mn, p))
            return PCIEM_A64_EATOMIC;
    if (starts(mn, "ldtr") || starts(mn, "sttr"))
        return PCIEM_A64_EUNPRIV;
    return std::nullopt;
}

// Split "x0, x1, [x2, #8]!" into tokens: "x0" "x1" "[" "x2" "#8" "]!".
std::vector<std::string> tokens(const std::string& ops) {
    std::vector<std::string> t;
    std::string cur;
    auto flush = [&] {
        if (!cur.empty())
            t.push_back(cur);
        cur.clear();
    };
    for (size_t k = 0; k < ops.size(); k++) {
        char c = ops[k];
        if (c == ',' || c == ' ' || c == '\t') {
            flush();
        } else if (c == '[') {
            flush();
            t.push_back("[");
        } else if (c == ']') {
            flush();
            if (k + 1 < ops.size() && ops[k + 1] == '!') {
                t.push_back("]!");
                k++;
            } else {
                t.push_back("]");
            }
        } else if (c == '/' && k + 1 < ops.size() && ops[k + 1] == '/') {
            break; // a comment
        } else {
            cur += c;
        }
    }
    flush();
    return t;
}

std::optional<int64_t> parse_imm(const std::string& s) {
    if (s.empty() || s[0] != '#')
        return std::nullopt;
    return std::strtoll(s.c_str() + 1, nullptr, 0);
}

// Build Expected from a plain load/store's mnemonic and operands.
std::optional<Expected> parse_plain(const std::string& mn, const std::string& ops,
                                    std::string& why) {
    Expected e;
    auto t = tokens(ops);
    e.pair = mn == "ldp" || mn == "stp" || mn == "ldpsw" || mn == "ldnp" || mn == "stnp";
    e.load = mn[0] == 'l';
    e.sign = mn == "ldpsw" || starts(mn, "ldrs") || starts(mn, "ldurs");
    size_t k = 0;
    auto reg_at = [&](Reg& r) {
        if (k >= t.size())
            return false;
        auto p = parse_reg(t[k++]);
        if (!p)
            return false;
        r = *p;
        return true;
    };
    if (!reg_at(e.rt) || (e.pair && !reg_at(e.rt2))) {
        why = "data register";
        return std::nullopt;
    }
    if (k >= t.size() || t[k++] != "[" || !reg_at(e.rn)) {
        why = "base";
        return std::nullopt;
    }
    if (k < t.size() && t[k][0] == '#') {
        e.imm = *parse_imm(t[k++]);
    } else if (k < t.size() && t[k] != "]" && t[k] != "]!") {
        e.mode = Expected::RegOff;
        if (!reg_at(e.rm)) {
            why = "offset register";
            return std::nullopt;
        }
        if (k < t.size() && t[k] != "]") {
            e.extend = t[k++];
            if (k < t.size() && t[k][0] == '#')
                e.shift = static_cast<unsigned>(*parse_imm(t[k++]));
        }
    }
    if (k >= t.size()) {
        why = "no ]";
        return std::nullopt;
    }
    if (t[k] == "]!") {
        e.mode = Expected::Pre;
        k++;
    } else {
        k++;
        if (k < t.size()) {
            e.mode = Expected::Post;
            e.imm = *parse_imm(t[k++]);
        }
    }
    // Access width: the suffix, else the data register's.
    std::string base = mn;
    if (mn.back() == 'b' && mn != "ldrsb" && mn != "ldursb" && !starts(mn, "ldp"))
        e.width = 1;
    else if (mn.back() == 'h')
        e.width = 2;
    if (mn == "ldrsb" || mn == "ldursb")
        e.width = 1;
    if (mn == "ldrsw" || mn == "ldursw" || mn == "ldpsw")
        e.width = 4;
    if (!e.width)
        e.width = e.rt.bytes;
    return e;
}

struct Word {
    uint32_t w;
    std::string mnemonic, ops, text;
};

class A64Oracle : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!pciem_test::have_tool(kObjdump)) {
            skip_ = std::string(kObjdump) + " not found (install binutils-aarch64-linux-gnu)";
            return;
        }
        char tmpl[] = "/tmp/pciem-a64-XXXXXX";
        if (!mkdtemp(tmpl))
            return;
        dir_ = tmpl;
        // Random words within each load/store group (fixed bits forced),
        // and random words overall, from a fixed seed.
        struct Group {
            uint32_t mask, value;
            int count;
        };
        const Group groups[] = {
            {0x3b000000, 0x39000000, 6000}, // unsigned offset
            {0x3b200000, 0x38000000, 6000}, // unscaled/pre/post/unpriv
            {0x3b200c00, 0x38200800, 4000}, // register offset
            {0x3b200c00, 0x38200000, 3000}, // atomics
            {0x3a000000, 0x28000000, 5000}, // pairs
            {0x3f000000, 0x08000000, 4000}, // exclusive/ordered
            {0x3f1ffc00, 0x081ffc00, 2000}, // the same, Rs and Rt2 all ones
            {0x00000000, 0x00000000, 8000}, // anything
        };
        std::mt19937 rnd(24);
        std::vector<uint32_t> ws;
        for (const auto& g : groups)
            for (int n = 0; n < g.count; n++)
                ws.push_back((rnd() & ~g.mask) | g.value);
        {
            std::ofstream f(dir_ + "/t.bin", std::ios::binary);
            for (uint32_t w : ws)
                f.write(reinterpret_cast<const char*>(&w), 4);
        }
        std::string dis = run_capture(std::string(kObjdump) + " -D -b binary -m aarch64 " + dir_ +
                                      "/t.bin");
        std::istringstream in(dis);
        std::string line;
        static const std::regex re(R"(^\s*[0-9a-f]+:\s+([0-9a-f]{8})\s+(\S+)\s*(.*)$)");
        std::smatch m;
        while (std::getline(in, line)) {
            if (!std::regex_match(line, m, re))
                continue;
            words_.push_back({static_cast<uint32_t>(std::stoul(m[1], nullptr, 16)), m[2], m[3],
                              line});
        }
        std::system(("rm -rf " + dir_).c_str());
    }

    void SetUp() override {
        if (!skip_.empty())
            GTEST_SKIP() << skip_;
    }

    static inline std::string skip_;
    static inline std::string dir_;
    static inline std::vector<Word> words_;
};

TEST_F(A64Oracle, ObjdumpSawEveryWord) { EXPECT_EQ(38000u, words_.size()); }

// Every word: accepted exactly when objdump names a plain load/store on
// general registers; refused for the reason objdump's mnemonic gives.
TEST_F(A64Oracle, DecodeAgreesWithObjdump) {
    std::map<std::string, int> accepted;
    int unpredictable = 0;
    for (const auto& wd : words_) {
        SCOPED_TRACE(wd.text);
        pciem_a64_insn i;
        int ret = decode_word(wd.w, &i);
        if (auto r = expected_refusal(wd.mnemonic)) {
            EXPECT_EQ(*r, ret);
            continue;
        }
        if (!kPlain.count(wd.mnemonic)) {
            EXPECT_NE(0, ret) << "decoder accepts what objdump calls " << wd.mnemonic;
            continue;
        }
        // LDAR/STLR/LDLAR/STLLR with Rs or Rt2 not all ones: should-be-one
        // fields the decoder insists on (binutils checks them only for LDAR).
        if ((wd.w & 0x3f800000) == 0x08800000 &&
            (((wd.w >> 16) & 31) != 31 || ((wd.w >> 10) & 31) != 31)) {
            EXPECT_EQ(PCIEM_A64_EOPCODE, ret);
            continue;
        }
        std::string why;
        auto e = parse_plain(wd.mnemonic, wd.ops, why);
        if (!e) {
            // SIMD&FP registers (b0, q3...), literal forms.
            EXPECT_NE(0, ret) << "objdump operands not general registers (" << why << ")";
            continue;
        }
        bool wb = e->mode == Expected::Pre || e->mode == Expected::Post;
        bool unpred = (e->pair && e->load && e->rt.num == e->rt2.num) ||
                      (wb && !e->rn.is_sp &&
                       (e->rn.num == e->rt.num || (e->pair && e->rn.num == e->rt2.num)));
        if (unpred) {
            EXPECT_EQ(PCIEM_A64_EUNPREDICTABLE, ret);
            unpredictable++;
            continue;
        }
        ASSERT_EQ(0, ret) << pciem_a64_strerror(ret);
        accepted[wd.mnemonic]++;
        EXPECT_EQ(e->load, i.load);
        EXPECT_EQ(e->pair, i.pair);
        EXPECT_EQ(e->width, i.width);
        EXPECT_EQ(e->sign, i.sign_extend);
        EXPECT_EQ(e->rt.bytes, i.reg_width);
        EXPECT_EQ(e->rt.num, i.rt);
        if (e->pair) {
            EXPECT_EQ(e->rt2.num, i.rt2);
        }
        EXPECT_EQ(e->rn.num, i.rn);
        EXPECT_TRUE(e->rn.is_sp || e->rn.num != 31);
    }
    // The random set reaches every form, so each must have been seen.
    for (const char* mn : {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrsw", "str", "strb", "strh",
                           "ldur", "stur", "ldp", "stp", "ldpsw", "ldnp", "stnp", "ldar", "stlr"})
        EXPECT_GT(accepted[mn], 0) << mn;
    std::printf("oracle: %zu words; accepted:", words_.size());
    for (auto& [mn, n] : accepted)
        std::printf(" %s %d", mn.c_str(), n);
    std::printf("; unpredictable refused %d\n", unpredictable);
}

// The emulator against a register model built from objdump's operands.
TEST_F(A64Oracle, EmulateAgreesWithObjdumpModel) {
    std::mt19937_64 rnd(7);
    int checked = 0;
    for (const auto& wd : words_) {
        pciem_a64_insn i;
        if (decode_word(wd.w, &i))
            continue;
        SCOPED_TRACE(wd.text);
        std::string why;
        auto e = parse_plain(wd.mnemonic, wd.ops, why);
        ASSERT_TRUE(e) << why;
        pciem_a64_regs r = random_regs(rnd), before = r;
        auto val = [&](const Reg& g) -> uint64_t {
            if (g.num == 31)
                return g.is_sp ? before.sp : 0;
            return g.bytes == 4 ? before.x[g.num] & 0xffffffff : before.x[g.num];
        };
        uint64_t base = val(e->rn), ea = base;
        if (e->mode == Expected::Off || e->mode == Expected::Pre)
            ea = base + static_cast<uint64_t>(e->imm);
        if (e->mode == Expected::RegOff) {
            uint64_t off = val(e->rm);
            if (e->extend == "sxtw")
                off = static_cast<uint64_t>(sext(off, 32));
            ea = base + (off << e->shift);
        }
        Bus b;
        ASSERT_EQ(0, pciem_a64_emulate(&i, &r, ea, &kOps, &b));
        unsigned n = e->pair ? 2 : 1;
        ASSERT_EQ(n, b.log.size());
        pciem_a64_regs want = before;
        const Reg* rts[2] = {&e->rt, &e->rt2};
        for (unsigned k = 0; k < n; k++) {
            EXPECT_EQ(!e->load, b.log[k].write);
            EXPECT_EQ(ea + k * e->width, b.log[k].addr);
            EXPECT_EQ(e->width, b.log[k].size);
            if (!e->load) {
                EXPECT_EQ(val(*rts[k]) & mask(e->width), b.log[k].val);
            } else if (rts[k]->num != 31) {
                uint64_t v = b.log[k].val;
                if (e->sign)
                    v = static_cast<uint64_t>(sext(v, 8 * e->width));
                want.x[rts[k]->num] = v & mask(rts[k]->bytes);
            }
        }
        if (e->mode == Expected::Pre || e->mode == Expected::Post) {
            uint64_t wb = base + static_cast<uint64_t>(e->imm);
            if (e->rn.is_sp)
                want.sp = wb;
            else
                want.x[e->rn.num] = wb;
        }
        want.pc += 4;
        EXPECT_EQ(0, std::memcmp(&want, &r, sizeof(r)));
        checked++;
    }
    EXPECT_GT(checked, 5000);
}

} // namespace
