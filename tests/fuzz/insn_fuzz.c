// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for the MMIO instruction decoder/emulator
 * (kernel/insn/pciem_insn.c): the code runs in the page-fault path of
 * pciem.ko, where an over-read, an unbounded loop or a wrong register
 * write-back is an oops or silent corruption, so every input must be
 * either refused or handled with the invariants below intact.
 *
 * The input is the instruction bytes themselves (libFuzzer hands over an
 * exact-size heap buffer, so ASan catches any read past @size). Register
 * state and the fake device's answers are derived from a hash of the
 * input, so a crash reproduces from the artifact alone.
 */
#include "pciem_insn.h"
#include "pciem_insn_len.h"
#include "fuzz_check.h"

#include <stdio.h>
#include <stdlib.h>

/* Keep REP loops short: the invariant is "bounded by RCX", not "fast". */
#define RCX_CAP 64

struct bus {
    uint64_t seed;
    unsigned int accesses;
    unsigned int fail_at; /* access number that fails; ~0u: none */
    const struct pciem_insn* insn;
};

static int check_access(struct bus* b, unsigned int size) {
    /* Every access is one element of the decoded width. */
    CHECK(size == b->insn->width);
    CHECK(b->accesses <= 2 * RCX_CAP + 2);
    if (b->accesses++ == b->fail_at)
        return -5;
    return 0;
}

static int bus_read(void* ctx, uint64_t addr, unsigned int size, uint64_t* val) {
    struct bus* b = ctx;
    int ret = check_access(b, size);

    if (ret)
        return ret;
    /* Random-ish, and deliberately with bits above @size set. */
    *val = mix(addr ^ b->seed);
    return 0;
}

static int bus_write(void* ctx, uint64_t addr, unsigned int size, uint64_t val) {
    struct bus* b = ctx;

    (void)addr;
    /* The emulator must hand over only the low @size bytes. */
    CHECK(size == 8 || (val >> (8 * size)) == 0);
    return check_access(b, size);
}

static const struct pciem_insn_ops ops = {
    .read = bus_read,
    .write = bus_write,
};

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    struct pciem_insn insn, again;
    struct pciem_insn_regs regs, before;
    struct bus b;
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    size_t i;
    int ret;

    for (i = 0; i < size; i++)
        h = mix(h ^ data[i]) + i;

    /* The length decoder the fault handler steps over refusals with. */
    ret = pciem_insn_length(data, size);
    CHECK(ret == -1 || (ret >= 1 && ret <= PCIEM_INSN_MAX_LEN && (size_t)ret <= size));
    if (ret > 0)
        CHECK(pciem_insn_length(data, (size_t)ret) == ret);

    ret = pciem_insn_decode(data, size, &insn);
    CHECK(pciem_insn_strerror(ret) != NULL);
    if (ret) {
        CHECK(ret >= PCIEM_INSN_EINVAL && ret <= PCIEM_INSN_ETRUNC);
        /* Too short is only ever claimed when it is. */
        if (ret == PCIEM_INSN_ETRUNC)
            CHECK(size < PCIEM_INSN_MAX_LEN);
        return 0;
    }
    CHECK(insn.len >= 1 && insn.len <= PCIEM_INSN_MAX_LEN);
    CHECK(insn.len <= size);
    /* Both decoders agree on the length of what is emulated. */
    CHECK(pciem_insn_length(data, size) == insn.len);
    CHECK(insn.width == 1 || insn.width == 2 || insn.width == 4 || insn.width == 8);
    CHECK(insn.reg < PCIEM_NR_GPRS);
    CHECK(!insn.high_byte || (insn.width == 1 && insn.reg < 4));
    CHECK(insn.kind <= PCIEM_INSN_STOS);
    CHECK(pciem_insn_name(&insn)[0] != '?');

    /* The decode depends on exactly the first len bytes. */
    CHECK(pciem_insn_decode(data, insn.len, &again) == 0);
    CHECK(memcmp(&insn, &again, sizeof(insn)) == 0);
    CHECK(pciem_insn_decode(data, insn.len - 1u, &again) == PCIEM_INSN_ETRUNC);

    for (i = 0; i < PCIEM_NR_GPRS; i++)
        regs.gpr[i] = mix(h + i);
    regs.gpr[PCIEM_RCX] %= RCX_CAP;
    regs.rip = mix(h + 100);
    regs.rflags = (h & 1) ? PCIEM_RFLAGS_DF | 0x202 : 0x202;
    before = regs;

    b.seed = h;
    b.accesses = 0;
    b.fail_at = (h >> 8) % 4 == 0 ? (unsigned int)((h >> 16) % 8) : ~0u;
    b.insn = &insn;

    ret = pciem_insn_emulate(&insn, &regs, &ops, &b);
    CHECK(regs.rflags == before.rflags);
    if (ret) {
        CHECK(ret == -5);
        /* An interrupted instruction is restarted, never skipped. */
        CHECK(regs.rip == before.rip);
        return 0;
    }
    CHECK(regs.rip == before.rip + insn.len);

    switch (insn.kind) {
    case PCIEM_INSN_LOAD:
        CHECK(b.accesses == 1);
        for (i = 0; i < PCIEM_NR_GPRS; i++)
            CHECK(i == insn.reg || regs.gpr[i] == before.gpr[i]);
        break;
    case PCIEM_INSN_STORE:
        CHECK(b.accesses == 1);
        CHECK(memcmp(regs.gpr, before.gpr, sizeof(regs.gpr)) == 0);
        break;
    default: {
        uint64_t n = insn.rep ? before.gpr[PCIEM_RCX] : 1;
        unsigned int per = insn.kind == PCIEM_INSN_MOVS ? 2 : 1;

        CHECK(b.accesses == n * per);
        CHECK(regs.gpr[PCIEM_RCX] == (insn.rep ? 0 : before.gpr[PCIEM_RCX]));
        break;
    }
    }
    return 0;
}
