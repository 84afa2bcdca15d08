/* SPDX-License-Identifier: MIT */
/*
 * pciem-abi-fuzz: structured random calls on /dev/pciem.
 *
 * An input is a byte string read as a program: each operation takes an
 * opcode byte and its arguments from the bytes that follow, so an input
 * replays the same calls every time (a saved reproducer means something),
 * and mutating bytes mutates calls. Running out of bytes reads zeroes.
 */
#ifndef PCIEM_ABI_FUZZ_H
#define PCIEM_ABI_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_MAX_INPUT 4096

/* The bytes of one input, consumed front to back. */
struct prog {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

uint8_t take8(struct prog *pr);
uint16_t take16(struct prog *pr);
uint32_t take32(struct prog *pr);
uint64_t take64(struct prog *pr);

/* ops.c: run one input against the open control fd; returns calls made. */
unsigned long run_prog(int ctl, const uint8_t *data, size_t len);
/* ops.c: close every fd and mapping an input left, reap its children. */
void reset_state(void);

/* kcov.c: coverage of pciem.ko (the only KCOV-instrumented object). */
int kcov_open(void);			/* 0, or -1 if there is no KCOV */
void kcov_start(void);
/* Stop; returns how many PCs and edges never seen before this input hit. */
unsigned kcov_collect(unsigned *new_edges);
unsigned long kcov_total_pcs(void);
unsigned long kcov_total_edges(void);

/* kmsg.c: kernel reports since the last call (printed); 1 if any. */
int kmsg_open(void);
int kmsg_reports(void);

#endif
