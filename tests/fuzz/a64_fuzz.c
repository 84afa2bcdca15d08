// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for the AArch64 load/store decoder/emulator
 * (kernel/insn_arm64/pciem_a64.c), which runs in pciem.ko's data-abort
 * path: every input must be refused, or decoded and emulated with the
 * invariants below intact.
 *
 * The input's first four bytes are the instruction word (libFuzzer's
 * exact-size buffer lets ASan catch a read past it); the rest, hashed,
 * seeds the registers, the fake bus and an ESR syndrome, so a crash
 * reproduces from the artifact alone.
 */
#include "pciem_a64.h"
#include "fuzz_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bus {
    uint64_t seed;
    unsigned int accesses;
    unsigned int fail_at; /* access number that fails; ~0u: none */
    const struct pciem_a64_insn* insn;
};

static int check_access(struct bus* b, unsigned int size) {
    CHECK(size == b->insn->width);
    CHECK(b->accesses < 2);
    if (b->accesses++ == b->fail_at)
        return -5;
    return 0;
}

static int bus_read(void* ctx, uint64_t addr, unsigned int size, uint64_t* val) {
    struct bus* b = ctx;
    int ret = check_access(b, size);

    if (ret)
        return ret;
    *val = mix(addr ^ b->seed); /* bits above @size set on purpose */
    return 0;
}

static int bus_write(void* ctx, uint64_t addr, unsigned int size, uint64_t val) {
    struct bus* b = ctx;

    (void)addr;
    CHECK(size == 8 || (val >> (8 * size)) == 0);
    return check_access(b, size);
}

static const struct pciem_a64_ops ops = {
    .read = bus_read,
    .write = bus_write,
};

/* Decoded (or syndrome-built) @insn: emulate it and check what changed. */
static void run(const struct pciem_a64_insn* insn, uint64_t h) {
    struct pciem_a64_regs regs, before;
    struct bus b;
    unsigned int i, n = insn->pair ? 2 : 1;
    int ret;

    CHECK(insn->width == 1 || insn->width == 2 || insn->width == 4 || insn->width == 8);
    CHECK(insn->reg_width == 4 || insn->reg_width == 8);
    CHECK(insn->rt < 32 && insn->rt2 < 32 && insn->rn < 32 && insn->rm < 32);
    CHECK(!insn->sign_extend || insn->load);
    CHECK(!insn->pair || insn->width >= 4);

    for (i = 0; i < 31; i++)
        regs.x[i] = mix(h + i);
    regs.sp = mix(h + 40);
    regs.pc = mix(h + 41);
    before = regs;
    b.seed = h;
    b.accesses = 0;
    b.fail_at = (h >> 8) % 3 == 0 ? (unsigned int)((h >> 16) % 2) : ~0u;
    b.insn = insn;

    ret = pciem_a64_emulate(insn, &regs, mix(h + 42), &ops, &b);
    if (ret) {
        CHECK(ret == -5);
        CHECK(regs.pc == before.pc);
        /* Loads commit nothing until both accesses are done. */
        if (insn->load)
            CHECK(memcmp(&regs, &before, sizeof(regs)) == 0);
        return;
    }
    CHECK(b.accesses == n);
    CHECK(regs.pc == before.pc + 4);
    for (i = 0; i < 31; i++) {
        bool dest = insn->load && (i == insn->rt || (insn->pair && i == insn->rt2));
        bool wb = (insn->mode == PCIEM_A64_PRE || insn->mode == PCIEM_A64_POST) && i == insn->rn;

        if (!dest && !wb)
            CHECK(regs.x[i] == before.x[i]);
        if (dest && insn->reg_width == 4)
            CHECK(regs.x[i] >> 32 == 0);
    }
    if (insn->rn != 31 || (insn->mode != PCIEM_A64_PRE && insn->mode != PCIEM_A64_POST))
        CHECK(regs.sp == before.sp);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    struct pciem_a64_insn insn, again;
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    size_t i;
    int ret;

    for (i = 0; i < size; i++)
        h = mix(h ^ data[i]) + i;

    ret = pciem_a64_decode(data, size, &insn);
    CHECK(pciem_a64_strerror(ret) != NULL);
    if (ret) {
        CHECK(ret >= PCIEM_A64_EINVAL && ret <= PCIEM_A64_ETRUNC && ret != PCIEM_A64_ENOSYNDROME);
        CHECK(ret != PCIEM_A64_ETRUNC || size < 4);
    } else {
        CHECK(size >= 4);
        /* Only the first word counts. */
        CHECK(pciem_a64_decode(data, 4, &again) == 0);
        CHECK(memcmp(&insn, &again, sizeof(insn)) == 0);
        CHECK(insn.mode != PCIEM_A64_SYNDROME);
        run(&insn, h);
    }

    /* The same hash as an ESR ISS. */
    ret = pciem_a64_from_syndrome((uint32_t)h & 0x1ffffff, &insn);
    if (!ret) {
        CHECK(!insn.pair && insn.mode == PCIEM_A64_SYNDROME);
        run(&insn, mix(h));
    } else {
        CHECK(ret == PCIEM_A64_ENOSYNDROME);
    }
    return 0;
}
