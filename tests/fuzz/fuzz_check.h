/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What the libFuzzer targets share: an invariant check that aborts (so
 * libFuzzer keeps the input) and the hash they derive state from.
 */
#ifndef PCIEM_FUZZ_CHECK_H
#define PCIEM_FUZZ_CHECK_H

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

#endif
