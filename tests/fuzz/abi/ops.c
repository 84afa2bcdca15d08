// SPDX-License-Identifier: MIT
/*
 * The operations an input is made of: hostile create requests (BAR sizes,
 * capability lists), every device-fd ioctl with arguments near and past
 * their limits (BAR backing with the fuzzer's own mappings among them),
 * mmaps of the ring, BARs, shadows and DMA window at odd offsets and
 * lengths, config space through sysfs, remove/rescan, and the
 * lifetime races: a fork whose child closes or exits holding the fds, a
 * close while another thread is inside a call on the same file, create/
 * destroy storms from several threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/pciem.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

#define SLOTS 6
#define MAPS 8
#define STORMS 4

static int ctl_fd = -1;
static int dev[SLOTS] = { -1, -1, -1, -1, -1, -1 };
static struct {
	void *addr;
	size_t len;
} maps[MAPS];
static pthread_t storm[STORMS];
static int storms;
static unsigned long calls;
/*
 * User memory the calls point into. The kernel writes through these
 * pointers (DMA reads up to 64 KiB, list entries of any entry_size), so
 * pointers land in the first 64 KiB and the rest is room for the writes.
 */
#define SCRATCH_PTR_RANGE (1u << 16)
static uint8_t scratch[1 << 20];

uint8_t take8(struct prog *pr)
{
	return pr->pos < pr->len ? pr->p[pr->pos++] : 0;
}

uint16_t take16(struct prog *pr)
{
	return take8(pr) | (uint16_t)take8(pr) << 8;
}

uint32_t take32(struct prog *pr)
{
	return take16(pr) | (uint32_t)take16(pr) << 16;
}

uint64_t take64(struct prog *pr)
{
	return take32(pr) | (uint64_t)take32(pr) << 32;
}

/* A value chosen among the interesting ones by a byte, or raw. */
static uint64_t pick(struct prog *pr, const uint64_t *vals, size_t n)
{
	uint8_t b = take8(pr);

	return b < 0xe0 ? vals[b % n] : take64(pr);
}
#define PICK(pr, ...)                                                                              \
	pick(pr, (const uint64_t[]){ __VA_ARGS__ },                                                \
	     sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t))

static long call(int fd, unsigned long req, void *arg)
{
	calls++;
	return ioctl(fd, req, arg);
}

static int slot_fd(struct prog *pr)
{
	return dev[take8(pr) % SLOTS];
}

/* A user pointer: into scratch mostly, sometimes NULL or unmapped. */
static uint64_t user_ptr(struct prog *pr)
{
	uint8_t b = take8(pr);

	if (b < 0xf0)
		return (uintptr_t)scratch + take16(pr) % SCRATCH_PTR_RANGE;
	return b & 1 ? 0 : 0xdead000000000000ull;
}

static uint32_t struct_size(struct prog *pr, uint32_t real)
{
	uint8_t b = take8(pr);

	if (b < 0xd0)
		return real;
	return (uint32_t)PICK(pr, 0, 4, 8, real - 8, real - 1, real + 1, real + 8, 4096, 4097);
}

/* ---- create --------------------------------------------------------------- */

static void fill_cap(struct prog *pr, struct pciem_cap *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	if (take8(pr) > 0xf0)
		c->size = (uint32_t)PICK(pr, 0, 8, 16, 40, 56, 64, 4096);
	c->type = (uint16_t)PICK(pr, PCIEM_CAP_PM, PCIEM_CAP_MSI, PCIEM_CAP_MSIX, PCIEM_CAP_PCIE,
				 PCIEM_CAP_VENDOR, PCIEM_CAP_RAW, PCIEM_CAP_EXT_DSN,
				 PCIEM_CAP_EXT_AER, PCIEM_CAP_EXT_RAW, 0, PCIEM_CAP__COUNT);
	c->offset = (uint16_t)PICK(pr, 0, 0, 0, 0x40, 0x41, 0x44, 0x48, 0xf8, 0xfc, 0x100, 0x104,
				   0xffc, 0x1000, 0x3f);
	c->flags = take8(pr) > 0xe0 ? take32(pr) : (take8(pr) & PCIEM_CAP_F_MODEL);
	switch (c->type) {
	case PCIEM_CAP_MSI:
		c->msi.flags = take8(pr) & 7;
		c->msi.vectors = (uint32_t)PICK(pr, 1, 2, 4, 8, 16, 32, 0, 3, 33, 64);
		break;
	case PCIEM_CAP_MSIX:
		c->msix.vectors = (uint32_t)PICK(pr, 1, 2, 8, 64, 2048, 0, 2049, 4096);
		c->msix.table_bar = (uint32_t)PICK(pr, 0, 0, 1, 2, 5, 6, 7);
		c->msix.table_offset = (uint32_t)PICK(pr, 0, 8, 0x800, 0xff8, 0x1000, 4, 0xfffffff8);
		c->msix.pba_bar = (uint32_t)PICK(pr, 0, 0, 1, 2, 5, 6);
		c->msix.pba_offset = (uint32_t)PICK(pr, 0, 0x800, 0xc00, 0xff8, 4, 0x1000);
		break;
	case PCIEM_CAP_PCIE:
		c->pcie.flags = take8(pr) & 7;
		c->pcie.port_type = (uint8_t)PICK(pr, 0, 1, 9, 10, 4, 0xff);
		c->pcie.max_payload = take8(pr) % 8;
		c->pcie.link_speed = take8(pr) % 7;
		c->pcie.link_width = (uint8_t)PICK(pr, 0, 1, 2, 4, 8, 16, 32, 3, 64);
		break;
	case PCIEM_CAP_EXT_DSN:
		c->dsn.serial = take64(pr);
		break;
	case PCIEM_CAP_VENDOR:
	case PCIEM_CAP_RAW:
	case PCIEM_CAP_EXT_RAW:
		c->body.data_ptr = user_ptr(pr);
		c->body.len = (uint16_t)PICK(pr, 0, 1, 4, 13, 64, 251, 252, 253, 1024, 4000, 65535);
		c->body.id = (uint16_t)PICK(pr, 0x01, 0x05, 0x09, 0x10, 0x11, 0x13, 0x00, 0xff,
					    0x0001, 0x0003, 0x002a, 0xffff);
		c->body.version = take8(pr) % 16;
		break;
	default:
		c->pm.flags = take8(pr) & 0x1f;
		break;
	}
	if (take8(pr) > 0xf8)
		c->raw[39] = 1; /* a byte past the known union: must stay zero */
}

static void fill_create(struct prog *pr, struct pciem_create *r, struct pciem_cap *caps)
{
	uint8_t ncaps = take8(pr) % 8;

	memset(r, 0, sizeof(*r));
	r->size = struct_size(pr, sizeof(*r));
	r->abi_version = take8(pr) > 0xf0 ? take32(pr) : PCIEM_ABI_VERSION;
	r->flags = (uint32_t)PICK(pr, 0, 0, 0, PCIEM_CREATE_F_DEFER_ADD, PCIEM_CREATE_F_NO_MODEL,
				  PCIEM_CREATE_F_DEVFN, PCIEM_CREATE_F_DEFER_ADD |
				  PCIEM_CREATE_F_NO_MODEL, 1u << 7, ~0u);
	/* IDs no driver in the guests binds (virtio_pci takes 1af4:1000-107f) */
	r->vendor_id = (uint16_t)PICK(pr, 0x1af4, 0xfffe, 0x0000, 0x0001, 0xffff);
	r->device_id = take16(pr);
	if (r->vendor_id == 0x1af4 && r->device_id < 0x1080)
		r->device_id = 0x10f0;
	/* no class a stock driver binds by (nvme, display, xhci): the
	 * fuzzer aims at pciem.ko, not at drivers facing a mute device */
	r->class_code = (uint32_t)PICK(pr, 0xff0000, 0xff0000, 0x000000, 0x060400, 0x1000000,
				       0xffffff);
	r->revision = take8(pr);
	r->header_type = (uint8_t)PICK(pr, 0, 0, 0x80, 0x01, 0x81, 0x7f);
	r->interrupt_pin = (uint8_t)PICK(pr, 0, 1, 2, 4, 5, 0xff);
	r->devfn = take8(pr);
	for (int i = 0; i < PCIEM_MAX_BARS; i++) {
		r->bars[i].size = PICK(pr, 0, 0, 0, 16, 4096, 4096, 1 << 16, 1 << 20, 1 << 21,
				       8, 15, 17, 4095, 3 << 12, 1ull << 28, 1ull << 30,
				       1ull << 40, 1ull << 63, ~0ull);
		r->bars[i].flags = (uint32_t)PICK(pr, PCIEM_BAR_MEM64, PCIEM_BAR_MEM64, 0,
						  PCIEM_BAR_RAM | PCIEM_BAR_MEM64,
						  PCIEM_BAR_PREFETCH | PCIEM_BAR_MEM64,
						  PCIEM_BAR_RAM, 1u << 3, ~0u);
		/* RAM BARs are real memory: mostly small, in a 512 MiB guest */
		if ((r->bars[i].flags & PCIEM_BAR_RAM) && r->bars[i].size > (4u << 20) &&
		    take8(pr) < 0xfc)
			r->bars[i].size = 1 << 20;
		if (take8(pr) > 0xf8)
			r->bars[i].reserved = 1;
	}
	for (int i = 0; i < ncaps; i++)
		fill_cap(pr, &caps[i]);
	r->caps_ptr = take8(pr) > 0xf4 ? user_ptr(pr) : (uintptr_t)caps;
	r->caps_len = ncaps * sizeof(*caps);
	if (take8(pr) > 0xf0)
		r->caps_len = (uint32_t)PICK(pr, 1, 7, 8, 64 * 64, 65 * 64, 1u << 20, ~0u);
	if (take8(pr) > 0xf8)
		r->reserved = 1;
	for (int i = 0; i < PCIEM_LABEL_LEN && take8(pr) > 0x80; i++)
		r->label[i] = (char)take8(pr);
	/* an expansion ROM now and then, sizes near and past its limits */
	if (take8(pr) > 0xc0) {
		r->rom.size = PICK(pr, 2048, 4096, 1 << 16, 1024, 3000, 16u << 20, 32u << 20,
				   ~0ull);
		r->rom.flags = take8(pr) > 0xf0 ? take32(pr) : 0;
	}
}

static void op_create(struct prog *pr)
{
	struct pciem_cap caps[8];
	struct pciem_create r;
	int s = take8(pr) % SLOTS, fd;

	fill_create(pr, &r, caps);
	fd = (int)call(ctl_fd, PCIEM_IOC_CREATE, &r);
	if (fd < 0)
		return;
	if (dev[s] >= 0)
		close(dev[s]);
	dev[s] = fd;
	/* reads nobody answers should not stall the run */
	struct pciem_dev_config cfg = { .size = sizeof(cfg), .flags = PCIEM_CONFIG_F_READ_TIMEOUT,
					.read_timeout_us = 1000 };
	call(fd, PCIEM_IOC_DEV_CONFIG, &cfg);
	if ((r.flags & PCIEM_CREATE_F_DEFER_ADD) && take8(pr) & 1)
		call(fd, PCIEM_IOC_START, NULL);
}

/* ---- device-fd calls ------------------------------------------------------ */

/*
 * PCIEM_IOC_BAR_BACKING: anonymous memory, the fuzzer's own mappings of
 * device fds (ring, BARs, windows), misaligned, NULL or kernel addresses,
 * over BARs and ranges near their limits.
 */
static void bar_backing(struct prog *pr, int fd)
{
	static void *anon;
	const size_t anon_len = 4u << 20;
	struct pciem_bar_backing b;
	void *mapped = maps[take8(pr) % MAPS].addr;

	if (!anon) {
		anon = mmap(NULL, anon_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (anon == MAP_FAILED)
			anon = NULL;
	}
	memset(&b, 0, sizeof(b));
	b.size = struct_size(pr, sizeof(b));
	b.flags = take8(pr) > 0xf0;
	b.reserved = take8(pr) > 0xf0;
	b.bar = (uint32_t)PICK(pr, 0, 1, 2, 3, 5, 6, ~0u);
	b.offset = PICK(pr, 0, 4096, 2 << 20, 1, 0xfff, 1ull << 40, ~0ull & ~0xfffull);
	b.len = PICK(pr, 4096, 8192, 2 << 20, 4 << 20, 0, 4095, PCIEM_MAX_RAM_BAR,
		     ~0ull & ~0xfffull);
	switch (take8(pr) % 5) {
	case 0:
		b.addr = anon ? (uintptr_t)anon + (take8(pr) % 4) * 4096ull : 0;
		break;
	case 1:
		b.addr = (uintptr_t)mapped;
		break;
	case 2:
		b.addr = (uintptr_t)scratch + take16(pr) % SCRATCH_PTR_RANGE;
		break;
	default:
		b.addr = PICK(pr, 0, 4096, 0xdead000000000000ull, 0xffff888000000000ull);
	}
	call(fd, PCIEM_IOC_BAR_BACKING, &b);
}

static void op_dev_misc(struct prog *pr)
{
	int fd = slot_fd(pr);
	union {
		struct pciem_dev_info di;
		struct pciem_dev_config cfg;
		struct pciem_irq_req irq;
		struct pciem_shadow sh;
		struct pciem_dma_window win;
		struct pciem_dma_window_fd wfd;
		uint8_t bytes[256];
	} u;
	int efd;

	memset(&u, 0, sizeof(u));
	switch (take8(pr) % 12) {
	case 0:
		u.di.size = struct_size(pr, sizeof(u.di));
		call(fd, PCIEM_IOC_DEV_INFO, &u.di);
		break;
	case 1:
		u.cfg.size = struct_size(pr, sizeof(u.cfg));
		u.cfg.flags = take8(pr) & 7;
		u.cfg.read_timeout_us = (uint32_t)PICK(pr, 0, 1, 1000, 100000, ~0u);
		u.cfg.spin_us = (uint32_t)PICK(pr, 0, 1, 50, 10000, ~0u);
		call(fd, PCIEM_IOC_DEV_CONFIG, &u.cfg);
		break;
	case 2:
	case 3:
		u.irq.size = struct_size(pr, sizeof(u.irq));
		u.irq.value = (uint32_t)PICK(pr, 0, 1, 2, 31, 32, 2047, 2048, ~0u);
		u.irq.flags = take8(pr) > 0xf8;
		call(fd, take8(pr) & 1 ? PCIEM_IOC_RAISE : PCIEM_IOC_SET_INTX, &u.irq);
		break;
	case 4:
		u.sh.size = struct_size(pr, sizeof(u.sh));
		u.sh.bar = (uint32_t)PICK(pr, 0, 1, 2, 5, 6);
		u.sh.offset = (uint32_t)PICK(pr, 0, 8, 4, 0xff8, 0x1000, 0xfffffff8);
		u.sh.len = (uint32_t)PICK(pr, 8, 16, 0, 7, 4096, 1 << 20, 0xfffffff8);
		call(fd, PCIEM_IOC_SHADOW, &u.sh);
		break;
	case 5:
		u.win.size = struct_size(pr, sizeof(u.win));
		u.win.flags = (uint32_t)PICK(pr, 0, PCIEM_DMA_WINDOW_F_NO_BOUNCE, 2);
		u.win.window_size = PICK(pr, 2 << 20, 4 << 20, 0, 4096, 3 << 20,
					 PCIEM_MAX_DMA_WINDOW, PCIEM_MAX_DMA_WINDOW * 2);
		call(fd, PCIEM_IOC_DMA_WINDOW, &u.win);
		break;
	case 6:
		u.wfd.size = struct_size(pr, sizeof(u.wfd));
		if (call(fd, PCIEM_IOC_DMA_WINDOW_FD, &u.wfd) >= 0 && u.wfd.fd >= 0)
			close(u.wfd.fd);
		break;
	case 7:
		call(fd, PCIEM_IOC_START, NULL);
		break;
	case 8:
		call(fd, PCIEM_IOC_WAKE, NULL);
		break;
	case 9: {
		int32_t e = take8(pr) & 1 ? eventfd(0, EFD_CLOEXEC) : (int32_t)PICK(pr, -1, 0, 9999);

		call(fd, PCIEM_IOC_SET_EVENTFD, &e);
		if (e > 2 && take8(pr) & 1)
			close(e); /* the kernel keeps its own reference */
		break;
	}
	case 10: {
		struct pciem_irqfd_req q = { .size = struct_size(pr, sizeof(q)) };

		efd = eventfd(0, EFD_CLOEXEC);
		q.fd = take8(pr) > 0xf0 ? -1 : efd;
		q.vector = (uint32_t)PICK(pr, 0, 1, 7, 31, 2047, 2048, ~0u);
		q.flags = take8(pr) & 3;
		call(fd, PCIEM_IOC_IRQFD, &q);
		if (efd >= 0) {
			uint64_t one = 1;

			if (write(efd, &one, sizeof(one)) < 0) { /* raise through it */
			}
			if (take8(pr) & 1)
				close(efd);
		}
		break;
	}
	default:
		if (take8(pr) & 1) {
			bar_backing(pr, fd);
			break;
		}
		/* an unknown command number on the device fd */
		call(fd, _IOWR(PCIEM_IOC_MAGIC, 0x40 + take8(pr) % 64, struct pciem_dev_info), &u);
		break;
	}
}

static void op_dma(struct prog *pr)
{
	struct pciem_dma_xfer x[4];
	struct pciem_dma_req q;
	int n = 1 + take8(pr) % 4;

	memset(&q, 0, sizeof(q));
	memset(x, 0, sizeof(x));
	q.size = struct_size(pr, sizeof(q));
	for (int i = 0; i < n; i++) {
		x[i].op = (uint32_t)PICK(pr, PCIEM_DMA_READ, PCIEM_DMA_WRITE, 3, 4, 5,
					 PCIEM_DMA_RAISE, 0, 99);
		x[i].len = (uint32_t)PICK(pr, 1, 4, 8, 4096, 65536, 0, PCIEM_DMA_MAX_LEN,
					  PCIEM_DMA_MAX_LEN + 1);
		/* longer only with a buffer the kernel cannot write: EFAULT */
		if (x[i].len > SCRATCH_PTR_RANGE)
			x[i].buf = take8(pr) & 1 ? 0 : 0xdead000000000000ull;
		else
			x[i].buf = user_ptr(pr);
		x[i].addr = PICK(pr, 0, 0x1000, 0xfffff000, 1ull << 32, ~0ull, ~0ull - 3);
		x[i].operand = take64(pr);
		x[i].reserved = take8(pr) > 0xf8;
	}
	q.xfers_ptr = take8(pr) > 0xf0 ? user_ptr(pr) : (uintptr_t)x;
	q.count = take8(pr) > 0xf0 ? (uint32_t)PICK(pr, 0, 257, ~0u) : (uint32_t)n;
	q.xfer_size = take8(pr) > 0xf0 ? (uint32_t)PICK(pr, 0, 8, 4096) : sizeof(x[0]);
	call(slot_fd(pr), PCIEM_IOC_DMA, &q);
}

/* ---- mmap ----------------------------------------------------------------- */

static sigjmp_buf touch_env;
static volatile sig_atomic_t touching;

/* A fault while touching a mapping is an answer; anywhere else, a bug. */
static void on_fault(int sig)
{
	if (!touching) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	touching = 0;
	siglongjmp(touch_env, 1);
}

static void op_mmap(struct prog *pr)
{
	int fd = slot_fd(pr), m = take8(pr) % MAPS;
	uint64_t off = PICK(pr, 0, 0, 4096, PCIEM_MMAP_BAR_OFFSET(0), PCIEM_MMAP_BAR_OFFSET(1),
			    PCIEM_MMAP_BAR_OFFSET(2), PCIEM_MMAP_BAR_OFFSET(5),
			    PCIEM_MMAP_BAR_OFFSET(6), PCIEM_MMAP_DMA_WINDOW, PCIEM_MMAP_DMA_PERM,
			    1ull << 32, (1ull << 32) + 4096, PCIEM_MMAP_BAR_OFFSET(0) - 4096);
	size_t len = (size_t)PICK(pr, 4096, 8192, 1 << 16, 1 << 20, 2 << 20, 3 << 20, 1ull << 31);
	int prot = (int)PICK(pr, PROT_READ | PROT_WRITE, PROT_READ, PROT_WRITE, PROT_EXEC,
			     PROT_NONE);
	int flags = take8(pr) > 0xe0 ? MAP_PRIVATE : MAP_SHARED;
	volatile uint8_t *p;

	off += (uint64_t)(take8(pr) % 4) * 4096;
	calls++;
	p = mmap(NULL, len, prot, flags, fd, (off_t)off);
	if (p == MAP_FAILED)
		return;
	if (maps[m].addr)
		munmap(maps[m].addr, maps[m].len);
	maps[m].addr = (void *)p;
	maps[m].len = len;
	/* Touch the first and last page; a region shorter than the map
	 * faults (SIGBUS) and that is fine, an oops is not. */
	if (!(prot & PROT_READ))
		return;
	if (!sigsetjmp(touch_env, 1)) {
		touching = 1;
		(void)p[0];
		(void)p[len - 1];
		if ((prot & PROT_WRITE) && take8(pr) & 1) {
			/* scribble on what the kernel shares: ring indices, DMA
			 * permission bytes; it must not trust them */
			for (int i = 0; i < 8; i++)
				p[take16(pr) % (len < 65536 ? len : 65536)] = take8(pr);
		}
	}
	touching = 0;
}

static void op_munmap(struct prog *pr)
{
	int m = take8(pr) % MAPS;

	if (maps[m].addr) {
		munmap(maps[m].addr, maps[m].len);
		maps[m].addr = NULL;
	}
}

/* ---- control-fd calls ----------------------------------------------------- */

/* domain, bus, devfn of a live function (or made up) */
static void target(struct prog *pr, uint32_t *domain, uint8_t *bus, uint8_t *devfn)
{
	struct pciem_dev_info di = { .size = sizeof(di) };

	if (ioctl(slot_fd(pr), PCIEM_IOC_DEV_INFO, &di) == 0 && take8(pr) < 0xf0) {
		*domain = di.domain;
		*bus = di.bus;
		*devfn = di.devfn;
	} else {
		*domain = take32(pr);
		*bus = take8(pr);
		*devfn = take8(pr);
	}
}

static void op_control(struct prog *pr)
{
	union {
		struct pciem_info info;
		struct pciem_list list;
		struct pciem_inject inj;
		struct pciem_inject_clear clr;
		struct pciem_record_req rec;
	} u;
	char buf[512];
	int fd;

	memset(&u, 0, sizeof(u));
	switch (take8(pr) % 5) {
	case 0:
		u.info.size = struct_size(pr, sizeof(u.info));
		call(ctl_fd, PCIEM_IOC_GET_INFO, &u.info);
		break;
	case 1:
		u.list.size = struct_size(pr, sizeof(u.list));
		u.list.entry_size = (uint32_t)PICK(pr, sizeof(struct pciem_list_entry), 0, 8,
						   sizeof(struct pciem_list_entry) + 8, 4096);
		u.list.capacity = (uint32_t)PICK(pr, 0, 1, 4, 5, 1u << 30);
		u.list.entries_ptr = user_ptr(pr);
		call(ctl_fd, PCIEM_IOC_LIST, &u.list);
		break;
	case 2:
		u.inj.size = struct_size(pr, sizeof(u.inj));
		target(pr, &u.inj.domain, &u.inj.bus, &u.inj.devfn);
		u.inj.fault = (uint16_t)(take8(pr) % (PCIEM_FAULT__COUNT + 1));
		u.inj.flags = take8(pr) & 7;
		u.inj.count = (uint32_t)PICK(pr, 0, 1, 3, 1000);
		u.inj.after = take8(pr) % 4;
		u.inj.every = take8(pr) % 4;
		u.inj.probability = (uint32_t)PICK(pr, 0, 500000, 1000000, 1000001);
		u.inj.bar = take8(pr) % 7;
		u.inj.vector = (uint32_t)PICK(pr, 0, 1, 31, 2048);
		u.inj.offset = PICK(pr, 0, 4, 4096, ~0ull);
		u.inj.len = PICK(pr, 0, 4, 4096, ~0ull);
		/* latencies and delays stay short: the run must go on */
		u.inj.param = PICK(pr, 0, 1, 1000, 100000, 0xff, 1u << 20);
		call(ctl_fd, PCIEM_IOC_INJECT, &u.inj);
		break;
	case 3:
		u.clr.size = struct_size(pr, sizeof(u.clr));
		target(pr, &u.clr.domain, &u.clr.bus, &u.clr.devfn);
		u.clr.id = (uint32_t)PICK(pr, 0, 1, 2, ~0u);
		call(ctl_fd, PCIEM_IOC_INJECT_CLEAR, &u.clr);
		break;
	default:
		u.rec.size = struct_size(pr, sizeof(u.rec));
		target(pr, &u.rec.domain, &u.rec.bus, &u.rec.devfn);
		u.rec.buffer_kb = (uint32_t)PICK(pr, 0, 64, 63, 1048576, 1048577);
		fd = (int)call(ctl_fd, PCIEM_IOC_RECORD, &u.rec);
		if (fd >= 0) {
			int fl = fcntl(fd, F_GETFL);

			fcntl(fd, F_SETFL, fl | O_NONBLOCK);
			if (read(fd, buf, take8(pr) & 1 ? sizeof(buf) : 7) < 0) { /* EAGAIN fine */
			}
			close(fd);
		}
		break;
	}
}

/* ---- config space and the PCI core, through sysfs --------------------------- */

static int sysfs_dir(struct prog *pr, char *path, size_t n)
{
	struct pciem_dev_info di = { .size = sizeof(di) };

	if (ioctl(slot_fd(pr), PCIEM_IOC_DEV_INFO, &di))
		return -1;
	snprintf(path, n, "/sys/bus/pci/devices/%04x:%02x:%02x.%x", di.domain, di.bus,
		 di.devfn >> 3, di.devfn & 7);
	return 0;
}

static void op_sysfs(struct prog *pr)
{
	char dir[96], path[128];
	uint8_t v[8];
	int fd;

	if (sysfs_dir(pr, dir, sizeof(dir)))
		return;
	calls++;
	switch (take8(pr) % 4) {
	case 0:
	case 1: {
		/* config cycles: the BARs, command register, capability
		 * control words; the kernel-emulated space must hold */
		off_t off = (off_t)PICK(pr, 0x04, 0x10, 0x14, 0x18, 0x3c, 0x40, 0x42, 0x44, 0x50,
					0x52, 0x100, 0xffc, 0x1000);
		size_t len = 1 + take8(pr) % 8;
		int wr = take8(pr) & 1;

		snprintf(path, sizeof(path), "%s/config", dir);
		fd = open(path, wr ? O_RDWR : O_RDONLY);
		if (fd < 0)
			return;
		for (size_t i = 0; i < len; i++)
			v[i] = take8(pr);
		if (wr && pwrite(fd, v, len, off) < 0) {
		} else if (!wr && pread(fd, v, len, off) < 0) {
		}
		close(fd);
		break;
	}
	case 2:
		/* the PCI core removes it under the model's feet */
		snprintf(path, sizeof(path), "%s/remove", dir);
		fd = open(path, O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "1", 1) < 0) {
			}
			close(fd);
		}
		break;
	default:
		fd = open("/sys/bus/pci/rescan", O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "1", 1) < 0) {
			}
			close(fd);
		}
		break;
	}
}

/* ---- lifetime races ------------------------------------------------------- */

static void *storm_main(void *arg)
{
	uintptr_t seed = (uintptr_t)arg;

	for (int i = 0; i < 16; i++) {
		struct pciem_create r = { .size = sizeof(r), .abi_version = PCIEM_ABI_VERSION,
					  .vendor_id = 0x1af4, .device_id = 0x10f0,
					  .class_code = 0xff0000 };
		int fd;

		r.bars[0].size = 4096u << (seed + i) % 8;
		r.bars[0].flags = PCIEM_BAR_MEM64 | ((seed + i) % 3 == 0 ? PCIEM_BAR_RAM : 0);
		r.flags = (seed + i) % 2 ? PCIEM_CREATE_F_NO_MODEL : 0;
		fd = ioctl(ctl_fd, PCIEM_IOC_CREATE, &r);
		if (fd >= 0) {
			struct pciem_dev_info di = { .size = sizeof(di) };

			ioctl(fd, PCIEM_IOC_DEV_INFO, &di);
			close(fd);
		}
	}
	return NULL;
}

static void op_storm(struct prog *pr)
{
	if (storms >= STORMS)
		return;
	calls++;
	if (pthread_create(&storm[storms], NULL, storm_main, (void *)(uintptr_t)take8(pr)) == 0)
		storms++;
}

struct racer {
	int fd;
	volatile int stop;
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	struct pciem_irq_req irq = { .size = sizeof(irq) };
	struct pciem_dev_info di = { .size = sizeof(di) };

	while (!r->stop) {
		void *p;

		ioctl(r->fd, PCIEM_IOC_DEV_INFO, &di);
		ioctl(r->fd, PCIEM_IOC_RAISE, &irq);
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, r->fd, 0);
		if (p != MAP_FAILED)
			munmap(p, 4096);
	}
	return NULL;
}

/* close a device fd while another thread is inside calls on its file */
static void op_close_race(struct prog *pr)
{
	int s = take8(pr) % SLOTS;
	struct racer r = { .fd = dev[s] };
	pthread_t t;

	if (dev[s] < 0)
		return;
	calls++;
	if (pthread_create(&t, NULL, racer_main, &r))
		return;
	usleep(take8(pr) * 20);
	close(dev[s]);
	dev[s] = -1;
	usleep(200);
	r.stop = 1;
	pthread_join(t, NULL);
}

/* the fds shared with a child that closes some, calls on others, and exits */
static void op_fork(struct prog *pr)
{
	uint8_t how = take8(pr);
	pid_t pid;

	calls++;
	pid = fork();
	if (pid == 0) {
		struct pciem_dev_info di = { .size = sizeof(di) };

		for (int i = 0; i < SLOTS; i++) {
			if (dev[i] < 0)
				continue;
			if (how & (1u << i))
				close(dev[i]);
			else
				ioctl(dev[i], PCIEM_IOC_DEV_INFO, &di);
		}
		if (how & 0x80)
			kill(getpid(), SIGKILL);
		_exit(0);
	}
	if (pid > 0 && take8(pr) & 1) {
		/* the parent closes its copy first: the child holds the last */
		int s = take8(pr) % SLOTS;

		if (dev[s] >= 0) {
			close(dev[s]);
			dev[s] = -1;
		}
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void op_close(struct prog *pr)
{
	int s = take8(pr) % SLOTS;

	if (dev[s] >= 0) {
		calls++;
		close(dev[s]);
		dev[s] = -1;
	}
}

/* ---- the interpreter -------------------------------------------------------- */

typedef void (*op_fn)(struct prog *);
static const op_fn ops[] = {
	op_create, op_create, op_create, op_dev_misc, op_dev_misc, op_dev_misc, op_dma,
	op_mmap,   op_mmap,   op_munmap, op_control,  op_control,  op_sysfs,    op_storm,
	op_close_race, op_fork, op_close, op_close,
};

unsigned long run_prog(int ctl, const uint8_t *data, size_t len)
{
	struct prog pr = { .p = data, .len = len };
	static int handlers;

	if (!handlers) {
		struct sigaction sa = { .sa_handler = on_fault };

		sigaction(SIGBUS, &sa, NULL);
		sigaction(SIGSEGV, &sa, NULL);
		handlers = 1;
	}
	ctl_fd = ctl;
	calls = 0;
	while (pr.pos < pr.len)
		ops[take8(&pr) % (sizeof(ops) / sizeof(ops[0]))](&pr);
	return calls;
}

void reset_state(void)
{
	for (int i = 0; i < storms; i++)
		pthread_join(storm[i], NULL);
	storms = 0;
	for (int i = 0; i < MAPS; i++) {
		if (maps[i].addr)
			munmap(maps[i].addr, maps[i].len);
		maps[i].addr = NULL;
	}
	for (int i = 0; i < SLOTS; i++) {
		if (dev[i] >= 0)
			close(dev[i]);
		dev[i] = -1;
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}
