// SPDX-License-Identifier: MIT
/*
 * Kernel reports while the fuzzer runs, read from /dev/kmsg, so the input
 * that caused one is known (the case's closing log check would see the
 * report too, but not which input made it). The patterns are those of
 * tests/vm/check-kernel-log.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static int kmsg_fd = -1;

static const char *const patterns[] = {
	"BUG:", "WARNING:", "Oops", "general protection", "KASAN", "KFENCE", "UBSAN",
	"ODEBUG", "list_add corruption", "list_del corruption", "possible circular locking",
	"possible recursive locking", "inconsistent lock state", "scheduling while atomic",
	"rcu_sched self-detected", "rcu: INFO", "blocked for more than", "Call Trace",
};

int kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0)
		return -1;
	/* only what comes from now on */
	lseek(kmsg_fd, 0, SEEK_END);
	return 0;
}

int kmsg_reports(void)
{
	char rec[2048];
	int found = 0;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);
		const char *msg;

		if (n < 0) {
			if (errno == EPIPE) /* overwritten before we read: go on */
				continue;
			break;
		}
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
			if (strstr(msg, patterns[i])) {
				found = 1;
				break;
			}
		}
		if (found)
			printf("kernel: %s", msg);
	}
	return found;
}
