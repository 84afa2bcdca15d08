// SPDX-License-Identifier: MIT
/*
 * pciem-abi-fuzz: the driver loop. Replays the corpus, then mutates it
 * (or writes fresh inputs) for a bounded time. With KCOV (the debug
 * kernel) an input that reaches pciem.ko code no input reached before
 * joins the corpus and is printed as an ABI-FUZZ-NEW line, which
 * tests/fuzz/abi/grow-corpus files into the repository. A kernel report
 * stops the run: the inputs that may have caused it are printed as
 * ABI-FUZZ-REPRO lines (tests/vm/run saves them) and the exit status is 1.
 * At the end every function the inputs made must be gone.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/pciem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#define CORPUS_MAX 4096
#define RECENT 8

struct input {
	size_t len;
	uint8_t *data;
};

static struct input corpus[CORPUS_MAX];
static size_t ncorpus;
static struct input recent[RECENT];	/* the last inputs run, for a report */
static size_t nrun;
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void print_hex(const char *tag, const uint8_t *d, size_t n)
{
	printf("%s ", tag);
	for (size_t i = 0; i < n; i++)
		printf("%02x", d[i]);
	printf("\n");
	fflush(stdout);
}

static void keep(const uint8_t *d, size_t n)
{
	if (ncorpus == CORPUS_MAX)
		return;
	corpus[ncorpus].data = malloc(n ? n : 1);
	memcpy(corpus[ncorpus].data, d, n);
	corpus[ncorpus].len = n;
	ncorpus++;
}

static void load_corpus(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint8_t buf[FUZZ_MAX_INPUT];

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[512];
		FILE *f;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		keep(buf, n);
	}
	closedir(d);
}

static size_t from_hex(const char *s, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	while (n < FUZZ_MAX_INPUT && sscanf(s, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* A new input: a corpus entry mutated a few times, or fresh bytes. */
static size_t make_input(uint8_t *out)
{
	size_t n;

	if (!ncorpus || rnd() % 8 == 0) {
		n = 16 + rnd() % 240;
		for (size_t i = 0; i < n; i++)
			out[i] = (uint8_t)rnd();
		return n;
	}
	const struct input *b = &corpus[rnd() % ncorpus];

	n = b->len;
	memcpy(out, b->data, n);
	for (int k = 1 + rnd() % 4; k > 0; k--) {
		size_t at = n ? rnd() % n : 0, m;
		static const uint8_t special[] = { 0, 1, 0x7f, 0x80, 0xe0, 0xf0, 0xf8, 0xff };

		switch (rnd() % 6) {
		case 0:
			if (n)
				out[at] ^= (uint8_t)(1u << rnd() % 8);
			break;
		case 1:
			if (n)
				out[at] = special[rnd() % sizeof(special)];
			break;
		case 2: /* insert fresh bytes: new operations mid-program */
			m = 1 + rnd() % 32;
			if (n + m > FUZZ_MAX_INPUT)
				break;
			memmove(out + at + m, out + at, n - at);
			for (size_t i = 0; i < m; i++)
				out[at + i] = (uint8_t)rnd();
			n += m;
			break;
		case 3: /* delete a run */
			m = n ? 1 + rnd() % (n - at) % 32 : 0;
			memmove(out + at, out + at + m, n - at - m);
			n -= m;
			break;
		case 4: { /* splice another entry's tail */
			const struct input *o = &corpus[rnd() % ncorpus];
			size_t from = o->len ? rnd() % o->len : 0;

			m = o->len - from;
			if (at + m > FUZZ_MAX_INPUT)
				m = FUZZ_MAX_INPUT - at;
			memcpy(out + at, o->data + from, m);
			n = at + m;
			break;
		}
		default:
			if (n)
				out[at] = (uint8_t)rnd();
			break;
		}
	}
	return n;
}

/* Run one input; returns 1 if the kernel reported something. */
static int run_one(int ctl, const uint8_t *d, size_t n, unsigned long *calls, int *fresh)
{
	unsigned new_edges, new_pcs;
	struct input *r = &recent[nrun++ % RECENT];

	free(r->data);
	r->data = malloc(n ? n : 1);
	memcpy(r->data, d, n);
	r->len = n;
	kcov_start();
	*calls += run_prog(ctl, d, n);
	reset_state();
	new_pcs = kcov_collect(&new_edges);
	*fresh = new_pcs || new_edges;
	return kmsg_reports();
}

static int functions_left(int ctl)
{
	struct pciem_list l = { .size = sizeof(l), .entry_size = sizeof(struct pciem_list_entry) };

	if (ioctl(ctl, PCIEM_IOC_LIST, &l))
		return -1;
	return (int)l.count;
}

static void usage(void)
{
	puts("usage: pciem-abi-fuzz [--seconds N] [--seed N] [--corpus DIR] [--emit-new] [--node PATH]\n"
	     "                      [--replay FILE | --replay-hex HEX]\n"
	     "Structured random calls on /dev/pciem (tests/fuzz/abi, docs/testing.md).\n"
	     "Exit status 1: a kernel report (ABI-FUZZ-REPRO lines hold the inputs) or\n"
	     "functions left behind after every fd was closed.");
}

int main(int argc, char **argv)
{
	const char *corpus_dir = NULL, *replay = NULL, *replay_hex = NULL;
	const char *node = PCIEM_CONTROL_NODE;
	long seconds = 30;
	int emit_new = 0, have_kcov, ctl, bad = 0;
	unsigned long inputs = 0, calls = 0;
	size_t seeded;
	static uint8_t buf[FUZZ_MAX_INPUT];
	time_t end;

	rng = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atol(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			rng = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--corpus") && i + 1 < argc)
			corpus_dir = argv[++i];
		else if (!strcmp(argv[i], "--node") && i + 1 < argc)
			node = argv[++i]; /* e.g. /dev/null: the interpreter alone */
		else if (!strcmp(argv[i], "--emit-new"))
			emit_new = 1;
		else if (!strcmp(argv[i], "--replay") && i + 1 < argc)
			replay = argv[++i];
		else if (!strcmp(argv[i], "--replay-hex") && i + 1 < argc)
			replay_hex = argv[++i];
		else {
			usage();
			return 2;
		}
	}
	if (!rng)
		rng = 1;
	printf("abi-fuzz: seed %#llx\n", (unsigned long long)rng);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctl = open(node, O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		perror(node);
		return 2;
	}
	kmsg_open();
	have_kcov = kcov_open() == 0;

	if (replay || replay_hex) {
		size_t n = 0;
		int fresh;

		if (replay) {
			FILE *f = fopen(replay, "rb");

			if (!f) {
				perror(replay);
				return 2;
			}
			n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
		} else {
			n = from_hex(replay_hex, buf);
		}
		bad = run_one(ctl, buf, n, &calls, &fresh);
		printf("abi-fuzz: replayed %zu bytes, %lu calls, %s\n", n, calls,
		       bad ? "kernel report" : "no kernel report");
		return bad;
	}

	if (corpus_dir)
		load_corpus(corpus_dir);
	seeded = ncorpus;
	/* the corpus first: what it reached is the baseline */
	for (size_t i = 0; i < seeded && !bad; i++) {
		int fresh;

		memcpy(buf, corpus[i].data, corpus[i].len);
		bad = run_one(ctl, buf, corpus[i].len, &calls, &fresh);
		inputs++;
	}
	end = time(NULL) + seconds;
	while (!bad && time(NULL) < end) {
		size_t n = make_input(buf);
		int fresh;

		bad = run_one(ctl, buf, n, &calls, &fresh);
		inputs++;
		if (fresh && have_kcov) {
			keep(buf, n);
			if (emit_new)
				print_hex("ABI-FUZZ-NEW", buf, n);
		}
	}
	if (bad) {
		printf("abi-fuzz: kernel report after input %lu; the last inputs, newest last:\n",
		       inputs);
		for (size_t i = nrun > RECENT ? nrun - RECENT : 0; i < nrun; i++)
			print_hex("ABI-FUZZ-REPRO", recent[i % RECENT].data, recent[i % RECENT].len);
	}

	/* every fd is closed: the functions must go (removal is asynchronous) */
	int left = functions_left(ctl);

	for (int i = 0; i < 100 && left > 0; i++) {
		usleep(100000);
		left = functions_left(ctl);
	}
	if (left != 0) {
		printf("abi-fuzz: %d function(s) left after every fd was closed\n", left);
		bad = 1;
	}
	if (kmsg_reports())
		bad = 1;
	printf("abi-fuzz: %lu inputs (%zu from the corpus), %lu calls; ", inputs, seeded, calls);
	if (have_kcov)
		printf("KCOV: %lu pciem.ko PCs, %lu edges, corpus %zu -> %zu\n", kcov_total_pcs(),
		       kcov_total_edges(), seeded, ncorpus);
	else
		printf("no KCOV (not the debug kernel): blind\n");
	return bad;
}
