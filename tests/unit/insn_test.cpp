// SPDX-License-Identifier: GPL-2.0 OR MIT
//
// Tests of the x86-64 MMIO instruction decoder/emulator (kernel/insn).
//
// The main check uses an independent oracle: a few thousand instruction
// variants are written as Intel-syntax assembly, assembled with GNU as,
// and disassembled with objdump. objdump's view of every instruction
// (length, mnemonic, register, width, immediate, address expression) is
// what the decoder must agree with, and a register/memory model written
// from objdump's operands is what the emulator must agree with. Neither
// side shares code with the unit under test.

#include "pciem_insn.h"
#include "tool_run.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

// ---------------------------------------------------------------------------
// Register names as objdump -M intel prints them.

const std::array<const char*, 16> kReg64 = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                            "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
const std::array<const char*, 16> kReg32 = {"eax",  "ecx",  "edx",  "ebx", "esp",  "ebp",
                                            "esi",  "edi",  "r8d",  "r9d", "r10d", "r11d",
                                            "r12d", "r13d", "r14d", "r15d"};
const std::array<const char*, 16> kReg16 = {"ax",   "cx",   "dx",   "bx",  "sp",   "bp",
                                            "si",   "di",   "r8w",  "r9w", "r10w", "r11w",
                                            "r12w", "r13w", "r14w", "r15w"};
const std::array<const char*, 16> kReg8 = {"al",   "cl",   "dl",   "bl",  "spl",  "bpl",
                                           "sil",  "dil",  "r8b",  "r9b", "r10b", "r11b",
                                           "r12b", "r13b", "r14b", "r15b"};
const std::array<const char*, 4> kRegHigh = {"ah", "ch", "dh", "bh"};

struct RegName {
    int num = -1;
    unsigned width = 0;
    bool high = false;
};

std::optional<RegName> parse_reg(const std::string& s) {
    for (int i = 0; i < 16; i++) {
        if (s == kReg64[i])
            return RegName{i, 8, false};
        if (s == kReg32[i])
            return RegName{i, 4, false};
        if (s == kReg16[i])
            return RegName{i, 2, false};
        if (s == kReg8[i])
            return RegName{i, 1, false};
    }
    for (int i = 0; i < 4; i++)
        if (s == kRegHigh[i])
            return RegName{i, 1, true};
    return std::nullopt;
}

uint64_t mask(unsigned w) {
    return w >= 8 ? ~0ULL : (1ULL << (8 * w)) - 1;
}

uint64_t sext(uint64_t v, unsigned w) {
    if (w >= 8)
        return v;
    v &= mask(w);
    if (v >> (8 * w - 1))
        v |= ~mask(w);
    return v;
}

// ---------------------------------------------------------------------------
// Running the toolchain.

using pciem_test::have_tool;
using pciem_test::run_capture;

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// ---------------------------------------------------------------------------
// objdump's view of one instruction.

struct MemOperand {
    unsigned width = 0; // from the "DWORD PTR" size keyword
    int base = -1;
    int index = -1;
    unsigned scale = 1;
    bool rip = false;
    bool absolute_form = false; // "ds:0x..." with no brackets
    uint64_t disp = 0;
};

struct Operand {
    enum { Reg, Mem, Imm } type;
    RegName reg;
    MemOperand mem;
    uint64_t imm = 0;
};

struct OracleInsn {
    uint64_t offset = 0;
    std::vector<uint8_t> bytes;
    std::string text; // the whole disassembly, for messages
    bool rep = false;
    std::string mnemonic;
    std::vector<Operand> ops;
};

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t");
    size_t e = s.find_last_not_of(" \t");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

uint64_t parse_num(const std::string& s) {
    return std::strtoull(s.c_str(), nullptr, 0);
}

bool parse_mem(std::string s, MemOperand& m) {
    static const std::map<std::string, unsigned> kSizes = {
        {"BYTE", 1}, {"WORD", 2}, {"DWORD", 4}, {"QWORD", 8}};
    size_t ptr = s.find(" PTR ");
    if (ptr != std::string::npos) {
        auto it = kSizes.find(s.substr(0, ptr));
        if (it == kSizes.end())
            return false;
        m.width = it->second;
        s = s.substr(ptr + 5);
    }
    if (s.size() > 3 && s[2] == ':')
        s = s.substr(3); // segment: zero base in 64-bit mode
    if (s.empty())
        return false;
    if (s[0] != '[') {
        m.absolute_form = true;
        m.disp = parse_num(s);
        return true;
    }
    if (s.back() != ']')
        return false;
    s = s.substr(1, s.size() - 2);
    // Terms separated by + or -; the sign belongs to the following term.
    size_t i = 0;
    bool neg = false;
    while (i < s.size()) {
        size_t j = s.find_first_of("+-", i);
        std::string term = s.substr(i, j == std::string::npos ? std::string::npos : j - i);
        size_t star = term.find('*');
        if (star != std::string::npos) {
            std::string r = term.substr(0, star);
            if (r != "riz") {
                auto reg = parse_reg(r);
                if (!reg || reg->width != 8)
                    return false;
                m.index = reg->num;
            }
            m.scale = (unsigned)parse_num(term.substr(star + 1));
        } else if (term == "rip") {
            m.rip = true;
        } else if (auto reg = parse_reg(term)) {
            if (reg->width != 8)
                return false;
            m.base = reg->num;
        } else {
            uint64_t v = parse_num(term);
            m.disp += neg ? -v : v;
        }
        if (j == std::string::npos)
            break;
        neg = s[j] == '-';
        i = j + 1;
    }
    return true;
}

bool parse_operand(const std::string& s, Operand& op) {
    if (auto r = parse_reg(s)) {
        op.type = Operand::Reg;
        op.reg = *r;
        return true;
    }
    if (s.find("PTR") != std::string::npos || s.find('[') != std::string::npos ||
        s.find("ds:") == 0) {
        op.type = Operand::Mem;
        return parse_mem(s, op.mem);
    }
    if (s.rfind("0x", 0) == 0) {
        op.type = Operand::Imm;
        op.imm = parse_num(s);
        return true;
    }
    return false;
}

// Parse "objdump -d -M intel --insn-width=16" output. A line holding only
// a prefix objdump considers ignored ("rex.W", "rex") is folded into the
// next instruction, which is what the CPU executes.
bool parse_objdump(const std::string& out, std::vector<OracleInsn>& insns, std::string& err) {
    std::istringstream in(out);
    std::string line;
    std::optional<OracleInsn> pending;
    while (std::getline(in, line)) {
        // "   3:\t8a 65 00   \tmov    ah,BYTE PTR [rbp+0x0]"
        size_t colon = line.find(":\t");
        if (colon == std::string::npos)
            continue;
        std::string addr = trim(line.substr(0, colon));
        if (addr.empty() || addr.find_first_not_of("0123456789abcdef") != std::string::npos)
            continue;
        size_t tab2 = line.find('\t', colon + 2);
        std::string hex = line.substr(colon + 2, tab2 == std::string::npos ? std::string::npos
                                                                           : tab2 - colon - 2);
        std::string text = tab2 == std::string::npos ? "" : trim(line.substr(tab2 + 1));
        size_t hash = text.find('#');
        if (hash != std::string::npos)
            text = trim(text.substr(0, hash));

        OracleInsn insn;
        if (pending) {
            insn = *pending;
            pending.reset();
        } else {
            insn.offset = std::strtoull(addr.c_str(), nullptr, 16);
        }
        std::istringstream hs(hex);
        std::string b;
        while (hs >> b)
            insn.bytes.push_back((uint8_t)std::strtoul(b.c_str(), nullptr, 16));
        insn.text += (insn.text.empty() ? "" : " ") + text;

        // Prefix words, then the mnemonic.
        std::istringstream ts(text);
        std::string word;
        std::string rest;
        bool got_mnemonic = false;
        while (ts >> word) {
            if (word == "rep" || word == "repz") {
                insn.rep = true;
            } else if (word == "ds" || word == "es" || word == "cs" || word == "ss" ||
                       word == "data16" || word.rfind("rex", 0) == 0) {
                // no effect the oracle needs to model
            } else {
                insn.mnemonic = word;
                got_mnemonic = true;
                std::getline(ts, rest);
                break;
            }
        }
        if (!got_mnemonic) {
            pending = insn;
            continue;
        }
        rest = trim(rest);
        size_t pos = 0;
        while (!rest.empty() && pos != std::string::npos) {
            size_t comma = rest.find(',', pos);
            std::string o = trim(
                rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
            Operand op{};
            if (!parse_operand(o, op)) {
                err = "cannot parse operand '" + o + "' in: " + insn.text;
                return false;
            }
            insn.ops.push_back(op);
            pos = comma == std::string::npos ? comma : comma + 1;
        }
        insns.push_back(insn);
    }
    return true;
}

// ---------------------------------------------------------------------------
// The instruction variants fed to the assembler.

const char* size_kw(unsigned w) {
    switch (w) {
    case 1:
        return "BYTE";
    case 2:
        return "WORD";
    case 4:
        return "DWORD";
    default:
        return "QWORD";
    }
}

const char* reg_name(int num, unsigned w) {
    switch (w) {
    case 1:
        return kReg8[num];
    case 2:
        return kReg16[num];
    case 4:
        return kReg32[num];
    default:
        return kReg64[num];
    }
}

std::string hexs(int64_t v) {
    char buf[32];
    if (v < 0)
        std::snprintf(buf, sizeof(buf), "-0x%llx", (unsigned long long)-v);
    else
        std::snprintf(buf, sizeof(buf), "+0x%llx", (unsigned long long)v);
    return buf;
}

// Every addressing form: each base with no/disp8/disp32 displacements of
// both signs (RSP/R12 need a SIB, RBP/R13 a displacement), each index with
// each scale over rotating bases, index without base, RIP-relative, and
// an absolute disp32 (SIB with neither base nor index).
std::vector<std::string> address_modes() {
    std::vector<std::string> modes;
    const int64_t disps[] = {0x7f, -0x80, 0x12345, -0x12345, 0x7fffffff, -0x80000000LL};
    for (int b = 0; b < 16; b++) {
        modes.push_back(std::string("[") + kReg64[b] + "]");
        for (int64_t d : disps)
            modes.push_back(std::string("[") + kReg64[b] + hexs(d) + "]");
    }
    const int64_t idisps[] = {0, -8, 0x40, -0x1000, 0x7fffffff};
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4)
            continue; // RSP cannot be an index
        for (int s : {1, 2, 4, 8}) {
            int b = (i * 5 + s + k) % 16;
            int64_t d = idisps[k % 5];
            std::string m =
                std::string("[") + kReg64[b] + "+" + kReg64[i] + "*" + std::to_string(s);
            if (d)
                m += hexs(d);
            modes.push_back(m + "]");
            modes.push_back(std::string("[") + kReg64[i] + "*" + std::to_string(s) +
                            hexs(k % 2 ? -0x10 - k : 0x20 + k) + "]");
            k++;
        }
    }
    for (int64_t d : {0x10LL, -0x10LL, 0x12345678LL, -0x12345678LL, 0LL})
        modes.push_back("[rip" + hexs(d) + "]");
    modes.push_back("ds:0x1234");
    modes.push_back("ds:0x7ffffff0");
    return modes;
}

bool uses_rex_reg(const std::string& mode) {
    for (size_t i = 0; i + 1 < mode.size(); i++)
        if (mode[i] == 'r' && mode[i + 1] >= '0' && mode[i + 1] <= '9')
            return true;
    return false;
}

std::string generate_source() {
    std::ostringstream s;
    s << ".intel_syntax noprefix\n.text\n";
    const auto modes = address_modes();
    const int64_t imms[] = {0, -1, 0x7f, -0x80, 0x1234, -0x1235, 0x7fffffff, -0x80000000LL, 0x55};
    int k = 0;
    for (const auto& m : modes) {
        const bool rex_mode = uses_rex_reg(m);
        for (unsigned w : {1u, 2u, 4u, 8u}) {
            int r1 = (k * 3) % 16, r2 = (k * 7 + 5) % 16;
            std::string ld = reg_name(r1, w), st = reg_name(r2, w);
            // High-byte registers cannot be encoded alongside REX.
            if (w == 1 && !rex_mode && k % 3 == 0)
                ld = kRegHigh[k % 4];
            if (w == 1 && !rex_mode && k % 3 == 1)
                st = kRegHigh[(k + 1) % 4];
            s << "mov " << ld << ", " << size_kw(w) << " PTR " << m << "\n";
            s << "mov " << size_kw(w) << " PTR " << m << ", " << st << "\n";
            int64_t imm = imms[k % 9];
            if (w == 1)
                imm = (int8_t)imm;
            else if (w == 2)
                imm = (int16_t)imm;
            else
                imm = (int32_t)imm;
            s << "mov " << size_kw(w) << " PTR " << m << ", " << imm << "\n";
            k++;
        }
        // movzx/movsx in every destination/source width pairing.
        for (const char* mn : {"movzx", "movsx"}) {
            for (unsigned sw : {1u, 2u}) {
                unsigned dw = (k % 3 == 0) ? 2 : (k % 3 == 1 ? 4 : 8);
                if (dw == sw)
                    dw = 4;
                s << mn << " " << reg_name((k * 5 + 1) % 16, dw) << ", " << size_kw(sw) << " PTR "
                  << m << "\n";
                k++;
            }
        }
        s << "movsxd " << reg_name((k * 11) % 16, 8) << ", DWORD PTR " << m << "\n";
        k++;
    }
    // Segment overrides with no effect in 64-bit mode.
    s << "ds mov eax, DWORD PTR [rax]\n";
    s << "mov rax, QWORD PTR ss:[rbx]\n";
    s << "mov DWORD PTR es:[r9+0x10], ecx\n";
    s << "cs mov BYTE PTR [r9], 5\n";
    s << "mov ecx, DWORD PTR ds:[rbp-0x8]\n";
    // moffs forms with a full 64-bit address.
    for (const char* r : {"al", "ax", "eax", "rax"}) {
        s << "movabs " << r << ", ds:0x1122334455667788\n";
        s << "movabs ds:0xffffc90000001000, " << r << "\n";
    }
    // String forms, every width, with and without REP.
    for (const char* p : {"", "rep "})
        for (const char* i :
             {"movsb", "movsw", "movsd", "movsq", "stosb", "stosw", "stosd", "stosq"})
            s << p << i << "\n";
    // Prefix placements as encodings the assembler would not choose:
    // a REX separated from the opcode is ignored, the last of two counts,
    // REX.W beats 66, and a REX turns AH into SPL.
    s << ".byte 0x48,0x66,0x8b,0x00\n";
    s << ".byte 0x40,0x3e,0x88,0x20\n";
    s << ".byte 0x41,0x40,0x8b,0x00\n";
    s << ".byte 0x40,0x41,0x8b,0x00\n";
    s << ".byte 0x66,0x48,0xc7,0x00,0x85,0xff,0xff,0xff\n";
    s << ".byte 0x66,0x48,0xa5\n";
    s << ".byte 0x3e,0x26,0x2e,0x36,0x66,0x8b,0x04,0x24\n";
    // SIB with index "none" and an explicit base (as would not emit it).
    s << ".byte 0x8b,0x04,0x20\n";
    // 15 bytes, the architectural maximum.
    s << ".byte 0x3e,0x3e,0x3e,0x48,0xc7,0x84,0x88,0x78,0x56,0x34,"
         "0x12,0xff,0xff,0xff,0xff\n";
    return s.str();
}

// ---------------------------------------------------------------------------
// Fake memory for the emulator: reads return a pattern derived from the
// address, writes are recorded.

struct Access {
    bool write;
    uint64_t addr;
    unsigned size;
    uint64_t val;
    bool operator==(const Access& o) const {
        return write == o.write && addr == o.addr && size == o.size && val == o.val;
    }
};

uint64_t pattern(uint64_t addr, unsigned size) {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = addr + i;
        uint8_t b = (uint8_t)((a * 0x9e3779b97f4a7c15ULL) >> 56);
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

struct FakeBus {
    std::vector<Access> log;
    int fail_at = -1; // fail the Nth access (0-based)
    int fail_code = -5;

    static int read(void* ctx, uint64_t addr, unsigned size, uint64_t* val) {
        auto* bus = static_cast<FakeBus*>(ctx);
        if ((int)bus->log.size() == bus->fail_at)
            return bus->fail_code;
        *val = pattern(addr, size);
        bus->log.push_back({false, addr, size, *val});
        return 0;
    }
    static int write(void* ctx, uint64_t addr, unsigned size, uint64_t val) {
        auto* bus = static_cast<FakeBus*>(ctx);
        if ((int)bus->log.size() == bus->fail_at)
            return bus->fail_code;
        bus->log.push_back({true, addr, size, val});
        return 0;
    }
};

const pciem_insn_ops kOps = {FakeBus::read, FakeBus::write};

uint64_t rng_state = 0x123456789abcdefULL;
uint64_t rnd() {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

pciem_insn_regs random_regs() {
    pciem_insn_regs r{};
    for (auto& g : r.gpr)
        g = rnd();
    r.rip = 0xffffffffc0001000ULL + (rnd() & 0xfff);
    r.rflags = 0x202;
    return r;
}

uint64_t oracle_ea(const MemOperand& m, const pciem_insn_regs& r, size_t len) {
    uint64_t ea = m.disp;
    if (m.rip)
        ea += r.rip + len;
    if (m.base >= 0)
        ea += r.gpr[m.base];
    if (m.index >= 0)
        ea += r.gpr[m.index] * m.scale;
    return ea;
}

uint64_t oracle_reg_value(const pciem_insn_regs& r, const RegName& n) {
    uint64_t v = r.gpr[n.num];
    return n.high ? (v >> 8) & 0xff : v & mask(n.width);
}

void oracle_reg_write(pciem_insn_regs& r, const RegName& n, uint64_t val) {
    uint64_t& g = r.gpr[n.num];
    if (n.high)
        g = (g & ~0xff00ULL) | ((val & 0xff) << 8);
    else if (n.width == 4)
        g = val & 0xffffffffULL;
    else
        g = (g & ~mask(n.width)) | (val & mask(n.width));
}

// ---------------------------------------------------------------------------

class InsnOracle : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!have_tool("as") || !have_tool("objdump") || !have_tool("objcopy")) {
            skip_reason_ = "GNU as/objdump/objcopy not found (install binutils)";
            return;
        }
        char tmpl[] = "/tmp/pciem-insn-XXXXXX";
        if (!mkdtemp(tmpl)) {
            setup_error_ = "mkdtemp failed";
            return;
        }
        dir_ = tmpl;
        {
            std::ofstream src(dir_ + "/t.s");
            src << generate_source();
        }
        std::string asm_out = run_capture("as --64 -o " + dir_ + "/t.o " + dir_ + "/t.s 2>&1");
        if (!asm_out.empty()) {
            setup_error_ = "as failed: " + asm_out.substr(0, 2000);
            return;
        }
        run_capture("objcopy -O binary -j .text " + dir_ + "/t.o " + dir_ + "/t.bin");
        text_ = read_file(dir_ + "/t.bin");
        std::string dis = run_capture("objdump -d -M intel --insn-width=16 " + dir_ + "/t.o");
        if (!parse_objdump(dis, insns_, setup_error_))
            return;
        if (insns_.empty())
            setup_error_ = "objdump produced no instructions";
    }

    static void TearDownTestSuite() {
        if (!dir_.empty())
            run_capture("rm -rf " + dir_);
    }

    void SetUp() override {
        if (!skip_reason_.empty())
            GTEST_SKIP() << skip_reason_;
        ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    }

    static inline std::string skip_reason_;
    static inline std::string setup_error_;
    static inline std::string dir_;
    static inline std::vector<uint8_t> text_;
    static inline std::vector<OracleInsn> insns_;
};

// Decode from an exact-size heap copy so ASan flags any over-read.
int decode_exact(const std::vector<uint8_t>& bytes, size_t n, pciem_insn* out) {
    std::unique_ptr<uint8_t[]> buf(new uint8_t[n ? n : 1]);
    if (n)
        std::memcpy(buf.get(), bytes.data(), n);
    return pciem_insn_decode(buf.get(), n, out);
}

TEST_F(InsnOracle, BytesMatchObjcopy) {
    size_t total = 0;
    for (const auto& i : insns_) {
        ASSERT_LE(i.offset + i.bytes.size(), text_.size());
        EXPECT_EQ(0, std::memcmp(text_.data() + i.offset, i.bytes.data(), i.bytes.size()))
            << i.text;
        total += i.bytes.size();
    }
    EXPECT_EQ(total, text_.size());
    EXPECT_GT(insns_.size(), 2000u);
    std::printf("oracle: %zu instructions, %zu bytes\n", insns_.size(), total);
}

TEST_F(InsnOracle, DecodeMatchesObjdump) {
    int checked = 0;
    for (const auto& oi : insns_) {
        SCOPED_TRACE(oi.text);
        pciem_insn insn;
        ASSERT_EQ(0, decode_exact(oi.bytes, oi.bytes.size(), &insn));
        EXPECT_EQ(oi.bytes.size(), insn.len);

        const std::string& mn = oi.mnemonic;
        if (mn == "movs" || mn == "stos") {
            ASSERT_EQ(2u, oi.ops.size());
            EXPECT_EQ(mn == "movs" ? PCIEM_INSN_MOVS : PCIEM_INSN_STOS, insn.kind);
            EXPECT_EQ(oi.ops[0].mem.width, insn.width);
            EXPECT_EQ(oi.rep, insn.rep);
            checked++;
            continue;
        }
        EXPECT_FALSE(insn.rep);
        ASSERT_EQ(2u, oi.ops.size());
        const Operand &dst = oi.ops[0], &src = oi.ops[1];
        const Operand& mem = dst.type == Operand::Mem ? dst : src;
        ASSERT_EQ(Operand::Mem, mem.type);

        if (dst.type == Operand::Reg) {
            EXPECT_EQ(PCIEM_INSN_LOAD, insn.kind);
            EXPECT_EQ(dst.reg.num, insn.reg);
            EXPECT_EQ(dst.reg.high, insn.high_byte);
            EXPECT_EQ(dst.reg.width, insn.reg_width);
            EXPECT_EQ(mn == "movsx" || mn == "movsxd", insn.sign_extend);
            EXPECT_FALSE(insn.has_imm);
            // moffs: objdump shows no size keyword; it is the register's.
            EXPECT_EQ(mem.mem.width ? mem.mem.width : dst.reg.width, insn.width);
        } else {
            EXPECT_EQ(PCIEM_INSN_STORE, insn.kind);
            EXPECT_FALSE(insn.sign_extend);
            if (src.type == Operand::Imm) {
                EXPECT_TRUE(insn.has_imm);
                EXPECT_EQ(src.imm & mask(insn.width), insn.imm);
                EXPECT_EQ(mem.mem.width, insn.width);
            } else {
                EXPECT_FALSE(insn.has_imm);
                EXPECT_EQ(src.reg.num, insn.reg);
                EXPECT_EQ(src.reg.high, insn.high_byte);
                EXPECT_EQ(src.reg.width, insn.width);
            }
        }
        const bool moffs = mn == "movabs";
        EXPECT_EQ(moffs, insn.mem.absolute);
        EXPECT_EQ(mem.mem.rip, insn.mem.rip_relative);
        EXPECT_EQ(mem.mem.base, insn.mem.base);
        EXPECT_EQ(mem.mem.index, insn.mem.index);
        if (mem.mem.index >= 0) {
            EXPECT_EQ(mem.mem.scale, insn.mem.scale);
        }
        EXPECT_EQ(mem.mem.disp, (uint64_t)insn.mem.disp);

        pciem_insn_regs regs = random_regs();
        EXPECT_EQ(oracle_ea(mem.mem, regs, oi.bytes.size()), pciem_insn_ea(&insn, &regs));
        EXPECT_STRNE("?", pciem_insn_name(&insn));
        checked++;
    }
    EXPECT_EQ((int)insns_.size(), checked);
}

// Every proper prefix of a valid instruction is a truncated instruction.
TEST_F(InsnOracle, EveryTruncationRefused) {
    for (const auto& oi : insns_) {
        SCOPED_TRACE(oi.text);
        for (size_t n = 0; n < oi.bytes.size(); n++) {
            pciem_insn insn;
            ASSERT_EQ(PCIEM_INSN_ETRUNC, decode_exact(oi.bytes, n, &insn)) << "avail " << n;
        }
    }
}

TEST_F(InsnOracle, EmulateMatchesModel) {
    for (const auto& oi : insns_) {
        SCOPED_TRACE(oi.text);
        pciem_insn insn;
        ASSERT_EQ(0, decode_exact(oi.bytes, oi.bytes.size(), &insn));
        const size_t len = oi.bytes.size();
        const std::string& mn = oi.mnemonic;

        for (int round = 0; round < 4; round++) {
            pciem_insn_regs regs = random_regs();
            if (round & 1)
                regs.rflags |= PCIEM_RFLAGS_DF;
            regs.gpr[PCIEM_RCX] = round == 2 ? 0 : rnd() % 5 + (round == 3);
            pciem_insn_regs want = regs;
            std::vector<Access> expect;

            if (mn == "movs" || mn == "stos") {
                unsigned w = oi.ops[0].mem.width;
                uint64_t n = oi.rep ? regs.gpr[PCIEM_RCX] : 1;
                uint64_t step = regs.rflags & PCIEM_RFLAGS_DF ? -(uint64_t)w : w;
                for (uint64_t e = 0; e < n; e++) {
                    uint64_t v = regs.gpr[PCIEM_RAX] & mask(w);
                    if (mn == "movs") {
                        v = pattern(want.gpr[PCIEM_RSI], w);
                        expect.push_back({false, want.gpr[PCIEM_RSI], w, v});
                        want.gpr[PCIEM_RSI] += step;
                    }
                    expect.push_back({true, want.gpr[PCIEM_RDI], w, v});
                    want.gpr[PCIEM_RDI] += step;
                }
                if (oi.rep)
                    want.gpr[PCIEM_RCX] = 0;
            } else {
                const Operand &dst = oi.ops[0], &src = oi.ops[1];
                const MemOperand& m = dst.type == Operand::Mem ? dst.mem : src.mem;
                uint64_t ea = mn == "movabs" ? m.disp : oracle_ea(m, regs, len);
                if (dst.type == Operand::Reg) {
                    unsigned w = m.width ? m.width : dst.reg.width;
                    uint64_t v = pattern(ea, w);
                    expect.push_back({false, ea, w, v});
                    if (mn == "movsx" || mn == "movsxd")
                        v = sext(v, w);
                    oracle_reg_write(want, dst.reg, v);
                } else {
                    unsigned w = m.width ? m.width : src.reg.width;
                    uint64_t v = src.type == Operand::Imm ? src.imm & mask(w)
                                                          : oracle_reg_value(regs, src.reg);
                    expect.push_back({true, ea, w, v});
                }
            }
            want.rip += len;

            FakeBus bus;
            ASSERT_EQ(0, pciem_insn_emulate(&insn, &regs, &kOps, &bus));
            EXPECT_EQ(expect, bus.log) << "round " << round;
            for (int g = 0; g < 16; g++)
                EXPECT_EQ(want.gpr[g], regs.gpr[g]) << kReg64[g] << " round " << round;
            EXPECT_EQ(want.rip, regs.rip);
            EXPECT_EQ(want.rflags, regs.rflags);
        }
    }
}

// ---------------------------------------------------------------------------
// Hand-written cases.

int decode_bytes(std::initializer_list<uint8_t> b, pciem_insn* out) {
    std::vector<uint8_t> v(b);
    return decode_exact(v, v.size(), out);
}

struct Refusal {
    const char* what;
    std::vector<uint8_t> bytes;
    int err;
};

TEST(InsnRefuse, Encodings) {
    const std::vector<uint8_t> p15(15, 0x66);
    // Built element by element: GCC 12 at -O2 misreports insert() of an
    // initializer list here as out of bounds (-Warray-bounds).
    std::vector<uint8_t> p14(14, 0x2e);
    p14.push_back(0x8b);
    p14.push_back(0x00);
    std::vector<uint8_t> p16(16, 0x66);
    // 4 prefixes + REX.W c7 /0 SIB disp32 imm32: 16 bytes, one too many.
    std::vector<uint8_t> long_imm = {0x3e, 0x3e, 0x3e, 0x3e, 0x48, 0xc7, 0x84, 0x88,
                                     0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff};
    const std::vector<Refusal> cases = {
        {"empty", {}, PCIEM_INSN_ETRUNC},
        {"lock mov", {0xf0, 0x89, 0x00}, PCIEM_INSN_EPREFIX},
        {"lock cmpxchg", {0xf0, 0x0f, 0xb1, 0x0a}, PCIEM_INSN_EPREFIX},
        {"fs mov", {0x64, 0x8b, 0x00}, PCIEM_INSN_ESEGMENT},
        {"gs mov", {0x65, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0}, PCIEM_INSN_ESEGMENT},
        {"gs rep movs", {0x65, 0xf3, 0xa5}, PCIEM_INSN_ESEGMENT},
        {"addr32 mov", {0x67, 0x8b, 0x00}, PCIEM_INSN_EADDRSIZE},
        {"addr32 moffs", {0x67, 0xa1, 0, 0, 0, 0}, PCIEM_INSN_EADDRSIZE},
        {"mov r,r", {0x8b, 0xc0}, PCIEM_INSN_EREGOPERAND},
        {"mov r,r store", {0x89, 0xc0}, PCIEM_INSN_EREGOPERAND},
        {"mov r8,r8", {0x8a, 0xe0}, PCIEM_INSN_EREGOPERAND},
        {"mov r,imm (c7 /0 mod 3)", {0xc7, 0xc0, 1, 0, 0, 0}, PCIEM_INSN_EREGOPERAND},
        {"movzx r,r", {0x0f, 0xb6, 0xc0}, PCIEM_INSN_EREGOPERAND},
        {"movsxd r,r", {0x48, 0x63, 0xc0}, PCIEM_INSN_EREGOPERAND},
        {"xbegin", {0xc7, 0xf8, 0, 0, 0, 0}, PCIEM_INSN_EREGOPERAND},
        {"c7 /7 memory", {0xc7, 0x38, 0, 0, 0, 0}, PCIEM_INSN_EOPCODE},
        {"c6 /1 memory", {0xc6, 0x08, 0}, PCIEM_INSN_EOPCODE},
        {"movdqa", {0x66, 0x0f, 0x6f, 0x00}, PCIEM_INSN_EOPCODE},
        {"movdqu", {0xf3, 0x0f, 0x6f, 0x00}, PCIEM_INSN_EOPCODE},
        {"movups", {0x0f, 0x10, 0x00}, PCIEM_INSN_EOPCODE},
        {"movnti", {0x0f, 0xc3, 0x00}, PCIEM_INSN_EOPCODE},
        {"cmp r32,m32", {0x3b, 0x00}, PCIEM_INSN_EOPCODE},
        {"cmp m32,imm32", {0x81, 0x38, 1, 0, 0, 0}, PCIEM_INSN_EOPCODE},
        {"test m32,r32", {0x85, 0x00}, PCIEM_INSN_EOPCODE},
        {"or m32,r32", {0x09, 0x00}, PCIEM_INSN_EOPCODE},
        {"xchg", {0x87, 0x00}, PCIEM_INSN_EOPCODE},
        {"cmpxchg", {0x0f, 0xb1, 0x0a}, PCIEM_INSN_EOPCODE},
        {"lods", {0xac}, PCIEM_INSN_EOPCODE},
        {"rep ins", {0xf3, 0x6d}, PCIEM_INSN_EOPCODE},
        {"movsxd without REX.W", {0x63, 0x00}, PCIEM_INSN_EOPCODE},
        {"mov to segment", {0x8e, 0x00}, PCIEM_INSN_EOPCODE},
        {"repne movs", {0xf2, 0xa5}, PCIEM_INSN_EPREFIX},
        {"repne stos", {0xf2, 0x48, 0xab}, PCIEM_INSN_EPREFIX},
        {"rep mov (xrelease)", {0xf3, 0x89, 0x00}, PCIEM_INSN_EPREFIX},
        {"repne mov (xacquire)", {0xf2, 0x8b, 0x00}, PCIEM_INSN_EPREFIX},
        {"rep movzx", {0xf3, 0x0f, 0xb6, 0x00}, PCIEM_INSN_EPREFIX},
        {"truncated opcode", {0x48}, PCIEM_INSN_ETRUNC},
        {"truncated 0f", {0x0f}, PCIEM_INSN_ETRUNC},
        {"truncated modrm", {0x8b}, PCIEM_INSN_ETRUNC},
        {"truncated sib", {0x8b, 0x04}, PCIEM_INSN_ETRUNC},
        {"truncated disp8", {0x8b, 0x44, 0x24}, PCIEM_INSN_ETRUNC},
        {"truncated disp32", {0x8b, 0x80, 0, 0, 0}, PCIEM_INSN_ETRUNC},
        {"truncated imm", {0xc7, 0x00, 1, 2, 3}, PCIEM_INSN_ETRUNC},
        {"truncated moffs", {0xa1, 1, 2, 3, 4, 5, 6, 7}, PCIEM_INSN_ETRUNC},
        {"15 prefixes", p15, PCIEM_INSN_ETOOLONG},
        {"16 prefixes", p16, PCIEM_INSN_ETOOLONG},
        {"14 prefixes + mov", p14, PCIEM_INSN_ETOOLONG},
        {"16-byte mov", long_imm, PCIEM_INSN_ETOOLONG},
    };
    for (const auto& c : cases) {
        pciem_insn insn;
        EXPECT_EQ(c.err, decode_exact(c.bytes, c.bytes.size(), &insn)) << c.what;
        EXPECT_STRNE("unknown error", pciem_insn_strerror(c.err));
    }
}

TEST(InsnRefuse, BadArguments) {
    pciem_insn insn;
    const uint8_t b[] = {0x8b, 0x00};
    EXPECT_EQ(PCIEM_INSN_EINVAL, pciem_insn_decode(nullptr, 2, &insn));
    EXPECT_EQ(PCIEM_INSN_EINVAL, pciem_insn_decode(b, 2, nullptr));
    ASSERT_EQ(0, pciem_insn_decode(b, 2, &insn));
    pciem_insn_regs regs{};
    FakeBus bus;
    EXPECT_EQ(PCIEM_INSN_EINVAL, pciem_insn_emulate(&insn, &regs, nullptr, &bus));
    pciem_insn bad = insn;
    bad.width = 3;
    EXPECT_EQ(PCIEM_INSN_EINVAL, pciem_insn_emulate(&bad, &regs, &kOps, &bus));
    bad = insn;
    bad.kind = 9;
    EXPECT_EQ(PCIEM_INSN_EINVAL, pciem_insn_emulate(&bad, &regs, &kOps, &bus));
    EXPECT_TRUE(bus.log.empty());
    EXPECT_STREQ("unknown error", pciem_insn_strerror(-1));
}

TEST(InsnDecode, MaxLengthAccepted) {
    // ds x3, REX.W, c7 /0 with SIB + disp32 + imm32: exactly 15 bytes.
    pciem_insn insn;
    ASSERT_EQ(0, decode_bytes({0x3e, 0x3e, 0x3e, 0x48, 0xc7, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12,
                               0xff, 0xff, 0xff, 0xff},
                              &insn));
    EXPECT_EQ(15, insn.len);
    EXPECT_EQ(~0ULL, insn.imm);
    EXPECT_EQ(8, insn.width);
    EXPECT_STREQ("mov m64<-imm32", pciem_insn_name(&insn));
}

TEST(InsnDecode, RexPlacement) {
    pciem_insn insn;
    // REX then 66: REX ignored, 16-bit load into AX.
    ASSERT_EQ(0, decode_bytes({0x48, 0x66, 0x8b, 0x00}, &insn));
    EXPECT_EQ(2, insn.width);
    // REX then DS: ignored, so reg 4 is AH again.
    ASSERT_EQ(0, decode_bytes({0x40, 0x3e, 0x88, 0x20}, &insn));
    EXPECT_TRUE(insn.high_byte);
    EXPECT_EQ(PCIEM_RAX, insn.reg);
    // REX directly before: SPL.
    ASSERT_EQ(0, decode_bytes({0x3e, 0x40, 0x88, 0x20}, &insn));
    EXPECT_FALSE(insn.high_byte);
    EXPECT_EQ(PCIEM_RSP, insn.reg);
    // moffs ignores REX.B and the high-byte rule: always AL.
    ASSERT_EQ(0, decode_bytes({0x41, 0xa0, 1, 2, 3, 4, 5, 6, 7, 8}, &insn));
    EXPECT_EQ(PCIEM_RAX, insn.reg);
    EXPECT_FALSE(insn.high_byte);
    EXPECT_EQ(0x0807060504030201LL, insn.mem.disp);
    // REX.B does not turn "no base" (SIB base 101, mod 00) into R13.
    ASSERT_EQ(0, decode_bytes({0x41, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0}, &insn));
    EXPECT_EQ(-1, insn.mem.base);
    EXPECT_EQ(-1, insn.mem.index);
    EXPECT_EQ(0x10, insn.mem.disp);
    // ...nor rm 101, mod 00 into [r13]: still RIP-relative.
    ASSERT_EQ(0, decode_bytes({0x41, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff}, &insn));
    EXPECT_TRUE(insn.mem.rip_relative);
    EXPECT_EQ(-16, insn.mem.disp);
    // REX.X makes index 100 R12 rather than "none".
    ASSERT_EQ(0, decode_bytes({0x42, 0x8b, 0x04, 0xa0}, &insn));
    EXPECT_EQ(PCIEM_R12, insn.mem.index);
    EXPECT_EQ(4, insn.mem.scale);
    EXPECT_EQ(PCIEM_RAX, insn.mem.base);
}

// ---------------------------------------------------------------------------
// Emulation details, spelled out.

struct Emu {
    pciem_insn insn{};
    pciem_insn_regs regs{};
    FakeBus bus;

    int run(std::initializer_list<uint8_t> b) {
        std::vector<uint8_t> v(b);
        int ret = decode_exact(v, v.size(), &insn);
        if (ret)
            return ret;
        return pciem_insn_emulate(&insn, &regs, &kOps, &bus);
    }
};

TEST(InsnEmulate, PartialRegisterWrites) {
    Emu e;
    e.regs.gpr[PCIEM_RBX] = 0x1000;
    e.regs.gpr[PCIEM_RAX] = 0x1122334455667788ULL;
    ASSERT_EQ(0, e.run({0x8a, 0x23})); // mov ah, [rbx]
    uint64_t b = pattern(0x1000, 1);
    EXPECT_EQ(0x1122334455660088ULL | (b << 8), e.regs.gpr[PCIEM_RAX]);
    EXPECT_EQ(2u, e.regs.rip);

    e.regs.gpr[PCIEM_RAX] = 0x1122334455667788ULL;
    ASSERT_EQ(0, e.run({0x66, 0x8b, 0x03})); // mov ax, [rbx]
    EXPECT_EQ(0x1122334455660000ULL | pattern(0x1000, 2), e.regs.gpr[PCIEM_RAX]);

    e.regs.gpr[PCIEM_RAX] = 0x1122334455667788ULL;
    ASSERT_EQ(0, e.run({0x8b, 0x03})); // mov eax, [rbx]: zero-extends
    EXPECT_EQ(pattern(0x1000, 4), e.regs.gpr[PCIEM_RAX]);

    e.regs.gpr[PCIEM_RAX] = 0x1122334455667788ULL;
    ASSERT_EQ(0, e.run({0x48, 0x0f, 0xbe, 0x03})); // movsx rax, byte [rbx]
    EXPECT_EQ(sext(pattern(0x1000, 1), 1), e.regs.gpr[PCIEM_RAX]);

    e.regs.gpr[PCIEM_RAX] = 0x1122334455667788ULL;
    ASSERT_EQ(0, e.run({0x66, 0x0f, 0xbe, 0x03})); // movsx ax, byte [rbx]
    EXPECT_EQ(0x1122334455660000ULL | (sext(pattern(0x1000, 1), 1) & 0xffff),
              e.regs.gpr[PCIEM_RAX]);

    e.regs.gpr[PCIEM_RAX] = ~0ULL;
    ASSERT_EQ(0, e.run({0x0f, 0xbf, 0x03})); // movsx eax, word [rbx]
    EXPECT_EQ(sext(pattern(0x1000, 2), 2) & 0xffffffffULL, e.regs.gpr[PCIEM_RAX]);
    EXPECT_EQ(0u, e.regs.rflags); // no flag touched
}

TEST(InsnEmulate, RepStosDirectionAndCount) {
    Emu e;
    e.regs.gpr[PCIEM_RAX] = 0xa5a5a5a5deadbeefULL;
    e.regs.gpr[PCIEM_RDI] = 0x2000;
    e.regs.gpr[PCIEM_RCX] = 3;
    e.regs.rflags = PCIEM_RFLAGS_DF;
    ASSERT_EQ(0, e.run({0xf3, 0xab})); // rep stosd, downwards
    ASSERT_EQ(3u, e.bus.log.size());
    EXPECT_EQ((Access{true, 0x2000, 4, 0xdeadbeef}), e.bus.log[0]);
    EXPECT_EQ((Access{true, 0x1ffc, 4, 0xdeadbeef}), e.bus.log[1]);
    EXPECT_EQ((Access{true, 0x1ff8, 4, 0xdeadbeef}), e.bus.log[2]);
    EXPECT_EQ(0x1ff4u, e.regs.gpr[PCIEM_RDI]);
    EXPECT_EQ(0u, e.regs.gpr[PCIEM_RCX]);
    EXPECT_EQ(2u, e.regs.rip);

    // Count 0: nothing touched, but the instruction completes.
    Emu z;
    z.regs.gpr[PCIEM_RDI] = 0x2000;
    ASSERT_EQ(0, z.run({0xf3, 0x48, 0xa5}));
    EXPECT_TRUE(z.bus.log.empty());
    EXPECT_EQ(0x2000u, z.regs.gpr[PCIEM_RDI]);
    EXPECT_EQ(3u, z.regs.rip);
    EXPECT_STREQ("rep movs m64", pciem_insn_name(&z.insn));
}

TEST(InsnEmulate, RepInterruptedByError) {
    Emu e;
    e.regs.gpr[PCIEM_RSI] = 0x1000;
    e.regs.gpr[PCIEM_RDI] = 0x8000;
    e.regs.gpr[PCIEM_RCX] = 10;
    e.regs.rip = 0x400;
    e.bus.fail_at = 5;                        // read, write, read, write, read, [write fails]
    ASSERT_EQ(-5, e.run({0xf3, 0x66, 0xa5})); // rep movsw
    EXPECT_EQ(8u, e.regs.gpr[PCIEM_RCX]);
    EXPECT_EQ(0x1004u, e.regs.gpr[PCIEM_RSI]);
    EXPECT_EQ(0x8004u, e.regs.gpr[PCIEM_RDI]);
    EXPECT_EQ(0x400u, e.regs.rip); // restarts at the same instruction

    // A failed single load leaves every register alone.
    Emu l;
    l.regs.gpr[PCIEM_RAX] = 42;
    l.regs.rip = 0x400;
    l.bus.fail_at = 0;
    l.bus.fail_code = -14;
    ASSERT_EQ(-14, l.run({0x8b, 0x00}));
    EXPECT_EQ(42u, l.regs.gpr[PCIEM_RAX]);
    EXPECT_EQ(0x400u, l.regs.rip);
}

TEST(InsnEmulate, RipRelativeUsesNextInstruction) {
    Emu e;
    e.regs.rip = 0x1000;
    // mov dword [rip+0x10], 0x12345678 (10 bytes): target 0x1000+10+0x10.
    ASSERT_EQ(0, e.run({0xc7, 0x05, 0x10, 0, 0, 0, 0x78, 0x56, 0x34, 0x12}));
    ASSERT_EQ(1u, e.bus.log.size());
    EXPECT_EQ((Access{true, 0x101a, 4, 0x12345678}), e.bus.log[0]);
    EXPECT_EQ(0x100au, e.regs.rip);
}

} // namespace
