// SPDX-License-Identifier: MIT
/*
 * Coverage of pciem.ko through KCOV (the debug kernel only: its config
 * instruments nothing but objects that ask, and pciem.ko's Kbuild asks).
 * Only the calling thread is traced, so coverage comes from the calls the
 * main thread makes; the storms and children add races, not coverage.
 */
#include <fcntl.h>
#include <linux/kcov.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define COVER_WORDS (256 * 1024)
#define SEEN_BITS (1u << 24)

static int kcov_fd = -1;
static unsigned long *cover;
static uint8_t *seen_pc;	/* bitmaps of hashed PCs and edges */
static uint8_t *seen_edge;
static unsigned long pcs, edges;

int kcov_open(void)
{
	kcov_fd = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
	if (kcov_fd < 0)
		return -1;
	if (ioctl(kcov_fd, KCOV_INIT_TRACE, COVER_WORDS))
		goto fail;
	cover = mmap(NULL, COVER_WORDS * sizeof(unsigned long), PROT_READ | PROT_WRITE,
		     MAP_SHARED, kcov_fd, 0);
	if (cover == MAP_FAILED)
		goto fail;
	if (ioctl(kcov_fd, KCOV_ENABLE, KCOV_TRACE_PC))
		goto fail;
	seen_pc = calloc(SEEN_BITS / 8, 1);
	seen_edge = calloc(SEEN_BITS / 8, 1);
	if (!seen_pc || !seen_edge)
		goto fail;
	return 0;
fail:
	close(kcov_fd);
	kcov_fd = -1;
	return -1;
}

void kcov_start(void)
{
	if (kcov_fd >= 0)
		__atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
}

static int mark(uint8_t *bits, uint64_t h)
{
	uint32_t i = (uint32_t)(h ^ (h >> 29)) & (SEEN_BITS - 1);
	uint8_t m = 1u << (i & 7);

	if (bits[i >> 3] & m)
		return 0;
	bits[i >> 3] |= m;
	return 1;
}

unsigned kcov_collect(unsigned *new_edges)
{
	unsigned long n, i, prev = 0;
	unsigned fresh = 0;

	*new_edges = 0;
	if (kcov_fd < 0)
		return 0;
	n = __atomic_load_n(&cover[0], __ATOMIC_RELAXED);
	if (n > COVER_WORDS - 1)
		n = COVER_WORDS - 1;
	for (i = 0; i < n; i++) {
		unsigned long pc = cover[i + 1];

		if (mark(seen_pc, pc * 0x9e3779b97f4a7c15ull)) {
			fresh++;
			pcs++;
		}
		/* an edge: this PC reached from the previous one */
		if (mark(seen_edge, (pc ^ (prev << 1)) * 0xff51afd7ed558ccdull)) {
			(*new_edges)++;
			edges++;
		}
		prev = pc;
	}
	return fresh;
}

unsigned long kcov_total_pcs(void)
{
	return pcs;
}

unsigned long kcov_total_edges(void)
{
	return edges;
}
