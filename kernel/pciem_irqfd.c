// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * irqfds: an eventfd per vector that raises it when signalled, so a
 * model's worker threads interrupt the driver with a plain write(2) (or
 * an io_uring / another kernel subsystem signalling the eventfd) and no
 * PCIem system call. The count the eventfd accumulated is consumed in
 * the wake-up and raised that many times: none is lost or merged.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pciem.h"

/**
 * struct pciem_irqfd - one eventfd bound to one vector
 * @node:	in fn->irqfds
 * @fn:		the function; irqfds are torn down before it goes away
 * @ctx:	the eventfd, referenced
 * @wait:	our entry on the eventfd's wait queue
 * @pt:		poll table used once, to find that wait queue
 * @vector:	MSI/MSI-X vector to raise
 */
struct pciem_irqfd {
	struct list_head node;
	struct pciem_function *fn;
	struct eventfd_ctx *ctx;
	wait_queue_entry_t wait;
	poll_table pt;
	u32 vector;
};

/* Runs with the eventfd's wait-queue lock held, interrupts off. */
static int irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			int sync, void *key)
{
	struct pciem_irqfd *irqfd = container_of(wait, struct pciem_irqfd, wait);
	__poll_t flags = key_to_poll(key);
	u64 cnt = 0;

	if (flags & EPOLLIN) {
		/*
		 * A process signalling from its own context (write(2)) is
		 * the function's device server when it is not its owner:
		 * remembered, so that a read stuck behind one of its threads
		 * can say so (pciem_model_threads.c). Written only when it
		 * changes: this runs for every raise.
		 */
		if (in_task() && current->mm &&
		    current->tgid != irqfd->fn->irq.model_tgid &&
		    current->tgid != READ_ONCE(irqfd->fn->irq.server_tgid))
			WRITE_ONCE(irqfd->fn->irq.server_tgid, current->tgid);
		eventfd_ctx_do_read(irqfd->ctx, &cnt);
		while (cnt--)
			pciem_irq_raise(irqfd->fn, irqfd->vector);
	}
	return 0;
}

static void irqfd_queue_proc(struct file *file, wait_queue_head_t *wqh,
			     poll_table *pt)
{
	struct pciem_irqfd *irqfd = container_of(pt, struct pciem_irqfd, pt);

	add_wait_queue(wqh, &irqfd->wait);
}

static void irqfd_free(struct pciem_irqfd *irqfd)
{
	u64 cnt;

	/* After this no wake-up runs for us any more. */
	eventfd_ctx_remove_wait_queue(irqfd->ctx, &irqfd->wait, &cnt);
	eventfd_ctx_put(irqfd->ctx);
	kfree(irqfd);
}

static int irqfd_assign(struct pciem_function *fn, int fd, u32 vector)
{
	struct pciem_irqfd *irqfd, *it;
	struct file *file;
	__poll_t events;
	int ret = 0;

	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL);
	if (!irqfd)
		return -ENOMEM;
	file = eventfd_fget(fd);
	if (IS_ERR(file)) {
		kfree(irqfd);
		return PTR_ERR(file);
	}
	irqfd->ctx = eventfd_ctx_fileget(file);
	irqfd->fn = fn;
	irqfd->vector = vector;
	init_waitqueue_func_entry(&irqfd->wait, irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, irqfd_queue_proc);

	mutex_lock(&fn->irqfd_lock);
	list_for_each_entry(it, &fn->irqfds, node) {
		if (it->ctx == irqfd->ctx) {
			ret = -EBUSY;
			break;
		}
	}
	if (!ret) {
		list_add(&irqfd->node, &fn->irqfds);
		/* Signals that arrived before we listened still count. */
		events = vfs_poll(file, &irqfd->pt);
		if (events & EPOLLIN) {
			u64 cnt = 0;

			eventfd_ctx_do_read(irqfd->ctx, &cnt);
			while (cnt--)
				pciem_irq_raise(fn, vector);
		}
	}
	mutex_unlock(&fn->irqfd_lock);
	fput(file);
	if (ret) {
		eventfd_ctx_put(irqfd->ctx);
		kfree(irqfd);
	}
	return ret;
}

static int irqfd_deassign(struct pciem_function *fn, int fd)
{
	struct eventfd_ctx *ctx = eventfd_ctx_fdget(fd);
	struct pciem_irqfd *it, *found = NULL;

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mutex_lock(&fn->irqfd_lock);
	list_for_each_entry(it, &fn->irqfds, node) {
		if (it->ctx == ctx) {
			found = it;
			list_del(&it->node);
			break;
		}
	}
	mutex_unlock(&fn->irqfd_lock);
	eventfd_ctx_put(ctx);
	if (!found)
		return -ENOENT;
	irqfd_free(found);
	return 0;
}

/* PCIEM_IOC_IRQFD */
long pciem_irqfd_ioctl(struct pciem_function *fn, void __user *uarg)
{
	struct pciem_irqfd_req req;
	int usize;

	usize = pciem_copy_struct_in(&req, sizeof(req), sizeof(req), uarg);
	if (usize < 0)
		return usize;
	if ((req.flags & ~PCIEM_IRQFD_F_DEASSIGN) || req.reserved)
		return -EINVAL;
	if (req.flags & PCIEM_IRQFD_F_DEASSIGN)
		return irqfd_deassign(fn, req.fd);
	if (req.vector >= fn->irq.nvec)
		return -EINVAL;
	return irqfd_assign(fn, req.fd, req.vector);
}

/* The device is going away: no eventfd may raise it any more. */
void pciem_irqfd_release_all(struct pciem_function *fn)
{
	struct pciem_irqfd *it, *tmp;
	LIST_HEAD(gone);

	mutex_lock(&fn->irqfd_lock);
	list_splice_init(&fn->irqfds, &gone);
	mutex_unlock(&fn->irqfd_lock);
	list_for_each_entry_safe(it, tmp, &gone, node)
		irqfd_free(it);
}
