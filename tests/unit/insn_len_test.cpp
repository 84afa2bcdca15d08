// SPDX-License-Identifier: MIT
//
// pciem_insn_length(), which lets the fault handler step over an
// instruction it refuses to emulate, checked against GNU as: every
// instruction is assembled between two global labels, so its length is
// the distance between them (nm), independent of our decoder.
#include "pciem_insn_len.h"
#include "tool_run.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using pciem_test::run_capture;

using pciem_test::have_tool;

// Instructions a driver might aim at MMIO that the emulator refuses,
// with MEM standing for the memory operand.
const char* const kTemplates[] = {
    "cmpl $0, MEM",          "cmpl $0x12345678, MEM", "cmpb $1, MEM",
    "cmpw $0x1234, MEM",     "cmpq $-2, MEM",         "orl $1, MEM",
    "andl %eax, MEM",        "addq %r9, MEM",         "subw %cx, MEM",
    "xorb %dl, MEM",         "testb $1, MEM",         "testl $0x80000000, MEM",
    "testw $4, MEM",         "testq %rdx, MEM",       "xchgl %eax, MEM",
    "xchgq %r12, MEM",       "lock orl $0, MEM",      "lock incl MEM",
    "lock xaddl %eax, MEM",  "lock cmpxchgl %ecx, MEM", "lock btsl $3, MEM",
    "incq MEM",              "notl MEM",              "negw MEM",
    "shll $3, MEM",          "sarq MEM",              "rolb %cl, MEM",
    "imull $12345, MEM, %eax", "imulq $3, MEM, %r8",  "movdqa MEM, %xmm0",
    "movdqu %xmm9, MEM",     "movaps MEM, %xmm1",     "movnti %eax, MEM",
    "movnti %r10, MEM",      "movd MEM, %xmm2",       "movq %xmm3, MEM",
    "pshufd $0x1b, MEM, %xmm4", "pinsrd $1, MEM, %xmm5", "pmovzxbw MEM, %xmm6",
    "cmovnel MEM, %eax",     "bsfl MEM, %edx",        "btl $5, MEM",
    "shldl $4, %eax, MEM",   "pushq MEM",             "popq MEM",
    "clflush MEM",           "prefetcht0 MEM",        "fldl MEM",
    "crc32l MEM, %eax",      "popcntq MEM, %rax",     "setne MEM",
    // AMD XOP: map 8 (imm8), map 9 (none), map 0ah (imm32)
    "vpcmov %xmm1, MEM, %xmm2, %xmm3", "vprotb $3, MEM, %xmm1", "vfrczps MEM, %xmm1",
    "bextr $0x1234, MEM, %eax", "lwpins $1, MEM, %eax",
};

const char* const kMems[] = {
    "(%rax)",           "(%r12)",          "(%rsp)",           "(%rbp)",
    "(%r13)",           "8(%rdi)",         "-128(%rsi)",       "0x1000(%rbx)",
    "-0x12345678(%r9)", "(%rax,%rcx,4)",   "0x10(%r8,%r15,8)", "(,%rdx,2)",
    "0x40(%rip)",       "%gs:0x10(%rax)",  "%ds:(%rdi)",
};

TEST(InsnLength, MatchesTheAssembler)
{
    if (!have_tool("as") || !have_tool("nm") || !have_tool("objcopy"))
        GTEST_SKIP() << "GNU binutils (as, nm, objcopy) not installed";
    char dir[] = "/tmp/pciem-insnlen.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string d = dir;
    std::vector<std::string> insns;
    std::ostringstream src;
    src << ".text\n";
    for (const char* t : kTemplates) {
        for (const char* m : kMems) {
            std::string s = t;
            s.replace(s.find("MEM"), 3, m);
            src << ".globl L" << insns.size() << "\nL" << insns.size() << ": " << s << "\n";
            insns.push_back(s);
        }
    }
    // Also prefixed forms: operand size, REX, segment, repeated prefixes.
    // The moffs forms of MOV take an offset as wide as the address.
    for (const char* s : {"data16 lock orl $0, (%rax)", "rex.W cmpl $0, (%rax)",
                          ".byte 0x2e, 0x3e; testb $1, 0x7f(%rdx)", "lock addr32 orl $1, (%eax)",
                          "movabs 0x1122334455667788, %eax", "movabs %al, 0x1122334455667788",
                          "addr32 movabs 0x12345678, %eax", "addr32 mov 0x12345678, %al",
                          "addr32 movw %ax, 0x1234", "addr32 movq %rax, 0x12345678"}) {
        src << ".globl L" << insns.size() << "\nL" << insns.size() << ": " << s << "\n";
        insns.push_back(s);
    }
    src << ".globl L" << insns.size() << "\nL" << insns.size() << ": nop\n";
    {
        std::ofstream(d + "/t.s") << src.str();
    }
    ASSERT_EQ(std::system(("as --64 -o " + d + "/t.o " + d + "/t.s").c_str()), 0);
    ASSERT_EQ(std::system(("objcopy -O binary -j .text " + d + "/t.o " + d + "/t.bin").c_str()), 0);
    std::map<size_t, size_t> addr;
    std::istringstream nm(run_capture("nm " + d + "/t.o"));
    std::string a, type, name;
    while (nm >> a >> type >> name)
        if (name[0] == 'L')
            addr[std::stoul(name.substr(1))] = std::stoul(a, nullptr, 16);
    std::ifstream bin(d + "/t.bin", std::ios::binary);
    std::vector<uint8_t> text((std::istreambuf_iterator<char>(bin)), {});
    ASSERT_EQ(addr.size(), insns.size() + 1);

    for (size_t i = 0; i < insns.size(); i++) {
        size_t len = addr[i + 1] - addr[i];
        // An exact-size copy: the decoder must not read past it.
        std::vector<uint8_t> exact(text.begin() + addr[i], text.begin() + addr[i] + len);
        EXPECT_EQ(pciem_insn_length(exact.data(), exact.size()), static_cast<int>(len))
            << insns[i];
        if (len > 1) {
            EXPECT_EQ(pciem_insn_length(exact.data(), len - 1), -1)
                << insns[i] << " truncated by one byte";
        }
    }
    std::system(("rm -rf " + d).c_str());
}

TEST(InsnLength, UndecodableEncodingsAreRefused)
{
    const std::vector<std::vector<uint8_t>> refused = {
        {0xc5, 0xfd, 0x6f, 0x00},              // VEX vmovdqa (%rax),%ymm0
        {0x62, 0xf1, 0x7c, 0x48, 0x28, 0x00},  // EVEX vmovaps
        {0x0f, 0x0f, 0x00, 0x9e},              // 3DNow!
        {0x90},                                // nop: touches no memory
        {0x8f, 0xeb, 0x78, 0x10, 0x00},        // XOP with map 0bh: no such map
        {0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0,
         0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0x83, 0x08, 0x00},  // > 15 bytes
        {},
    };
    for (const auto& b : refused)
        EXPECT_EQ(pciem_insn_length(b.data(), b.size()), -1);
}

}  // namespace
