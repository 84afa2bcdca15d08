/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What the libFuzzer targets share: an invariant check that aborts (so
 * libFuzzer keeps the input), the hash they derive state from, and the
 * reader that scripted targets take their steps from.
 */
#ifndef PCIEM_FUZZ_CHECK_H
#define PCIEM_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A 64-bit finaliser (murmur3's): input bytes to well-spread state. */
static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* The input still to read. */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

/*
 * The next @bytes bytes, big-endian; zeros once the input runs out, so a
 * step cut short still runs (and a short input reaches every step kind).
 */
static inline uint64_t fuzz_take(struct fuzz_in *in, unsigned int bytes) {
    uint64_t v = 0;

    while (bytes--) {
        v = v << 8 | (in->n ? *in->p : 0);
        if (in->n) {
            in->p++;
            in->n--;
        }
    }
    return v;
}

#endif
