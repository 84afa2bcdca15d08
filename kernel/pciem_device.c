// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * PCIem device lifecycle: PCIEM_IOC_CREATE builds a function from a
 * description, puts it on the root bus and hands back a file descriptor
 * that owns it. Releasing that descriptor (close, or the owner dying)
 * is a surprise removal: the bound driver's remove() runs and the
 * function disappears; other functions are untouched.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pciem.h"

/* A body is never longer than extended config space. */
#define PCIEM_MAX_BODY		PCIEM_CFG_SPACE_SIZE
/* Capability records are small; this bounds the copy of the list. */
#define PCIEM_MAX_CAPS_LEN	(PCIEM_MAX_CAPS * 256)

/* ---- capability list copy-in -------------------------------------------- */

struct caps_in {
	struct pciem_cap rec[PCIEM_MAX_CAPS];
	struct pciem_cfg_cap_in in[PCIEM_MAX_CAPS];
	u8 *body[PCIEM_MAX_CAPS];
	unsigned int n;
};

static void caps_free(struct caps_in *caps)
{
	unsigned int i;

	for (i = 0; i < caps->n; i++)
		kfree(caps->body[i]);
	kfree(caps);
}

static bool cap_has_body(u16 type)
{
	return type == PCIEM_CAP_VENDOR || type == PCIEM_CAP_RAW ||
	       type == PCIEM_CAP_EXT_RAW;
}

/*
 * Copy the records at caps_ptr and the bodies they point to. Field
 * validation is pciem_cfg_build()'s job; this only makes sure what it
 * reads is kernel memory of the right length.
 */
static struct caps_in *caps_copy_in(const struct pciem_create *req,
				    struct pciem_error *err)
{
	const void __user *uptr = u64_to_user_ptr(req->caps_ptr);
	struct caps_in *caps;
	u8 *buf;
	u32 pos = 0;
	int len;

	if (req->caps_len > PCIEM_MAX_CAPS_LEN) {
		err->code = PCIEM_ERR_CAPS_LEN;
		return ERR_PTR(-EINVAL);
	}
	caps = kzalloc(sizeof(*caps), GFP_KERNEL);
	if (!caps)
		return ERR_PTR(-ENOMEM);
	if (!req->caps_len)
		return caps;

	buf = memdup_user(uptr, req->caps_len);
	if (IS_ERR(buf)) {
		err->code = PCIEM_ERR_FAULT;
		kfree(caps);
		return ERR_CAST(buf);
	}
	while (pos < req->caps_len) {
		struct pciem_cap *c = &caps->rec[caps->n];

		if (caps->n == PCIEM_MAX_CAPS) {
			err->code = PCIEM_ERR_CAPS_LEN;
			err->index = caps->n;
			len = -EINVAL;
			goto fail;
		}
		len = pciem_cfg_cap_record_len(buf + pos, req->caps_len - pos,
					       caps->n, err);
		if (len < 0)
			goto fail;
		memcpy(c, buf + pos, sizeof(*c));
		caps->in[caps->n].cap = c;
		if (cap_has_body(c->type) && c->body.len) {
			u8 *body;

			if (c->body.len > PCIEM_MAX_BODY) {
				err->code = PCIEM_ERR_CAP_PARAM;
				err->index = caps->n;
				len = -EINVAL;
				goto fail;
			}
			body = memdup_user(u64_to_user_ptr(c->body.data_ptr),
					   c->body.len);
			if (IS_ERR(body)) {
				err->code = PCIEM_ERR_FAULT;
				err->index = caps->n;
				len = PTR_ERR(body);
				goto fail;
			}
			caps->body[caps->n] = body;
			caps->in[caps->n].body = body;
		}
		caps->n++;
		pos += len;
	}
	kfree(buf);
	return caps;

fail:
	kfree(buf);
	caps_free(caps);
	return ERR_PTR(len);
}

/* ---- device fd -------------------------------------------------------------- */

/*
 * The end of a function that has an owner: accesses complete as master
 * aborts from the first moment (a read in flight returns all-ones at
 * once), then the driver is unbound and the function disappears.
 */
static void pciem_dev_unplug(struct pciem_function *fn)
{
	pciem_ring_kill(&fn->ring);
	pciem_irqfd_release_all(fn);
	pciem_function_remove(fn);
	/* Here, not when freed: the window needs process context. */
	pciem_dma_free(fn);
	pciem_function_put(fn);
}

/*
 * The owner let go: a surprise removal. Accesses complete as master
 * aborts from the first moment (a read in flight returns all-ones at
 * once), then the driver is unbound and the function disappears.
 */
static int pciem_dev_release(struct inode *inode, struct file *file)
{
	struct pciem_function *fn = file->private_data;

	/* NULL when creation failed after the file was made. */
	if (fn)
		pciem_dev_unplug(fn);
	return 0;
}

static __poll_t pciem_dev_poll(struct file *file, poll_table *wait)
{
	struct pciem_function *fn = file->private_data;

	return pciem_ring_poll(&fn->ring, file, wait);
}

static long pciem_dev_info(struct pciem_function *fn, void __user *uarg)
{
	struct pciem_dev_info info;
	struct pci_dev *pdev;
	int usize, i;

	/* The first published layout ended with bar_size. */
	usize = pciem_copy_struct_in(&info, sizeof(info),
				     offsetofend(struct pciem_dev_info, bar_size),
				     uarg);
	if (usize < 0)
		return usize;
	if (info.flags || info.reserved || info.reserved2)
		return -EINVAL;
	info.domain = pciem_host_domain(fn->host);
	info.bus = fn->host->bus->number;
	info.devfn = fn->devfn;
	info.state = pciem_function_uapi_state(fn);
	pdev = pciem_function_get_pdev(fn);
	for (i = 0; i < PCIEM_MAX_BARS; i++) {
		info.bar_size[i] = fn->cfg.bar_size[i];
		info.bar_start[i] = pdev ? pci_resource_start(pdev, i) : 0;
	}
	pci_dev_put(pdev);
	return pciem_copy_struct_out(uarg, usize, &info, sizeof(info));
}

/* PCIEM_IOC_START: the deferred half of PCIEM_IOC_CREATE. */
static long pciem_dev_start(struct pciem_function *fn)
{
	struct pciem_error err = { 0 };
	int ret;

	mutex_lock(&fn->start_lock);
	ret = pciem_function_add(fn, &err);
	mutex_unlock(&fn->start_lock);
	if (ret && err.code)
		pr_info("%s: start failed: %s\n", fn->name,
			pciem_err_str(err.code));
	return ret;
}

/* PCIEM_IOC_RAISE (@intx false) and PCIEM_IOC_SET_INTX (@intx true). */
static long pciem_dev_irq(struct pciem_function *fn, void __user *uarg,
			  bool intx)
{
	struct pciem_irq_req req;
	int usize;

	usize = pciem_copy_struct_in(&req, sizeof(req), sizeof(req), uarg);
	if (usize < 0)
		return usize;
	if (req.flags || req.reserved)
		return -EINVAL;
	if (intx)
		return req.value > 1 ? -EINVAL : pciem_irq_set_intx(fn, req.value);
	return pciem_irq_raise(fn, req.value);
}

static long pciem_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct pciem_function *fn = file->private_data;
	void __user *uarg = (void __user *)arg;

	/* Dispatch on number only: the size in @cmd may be a newer one. */
	if (_IOC_TYPE(cmd) != PCIEM_IOC_MAGIC)
		return -ENOTTY;
	/* Removed by the PCI core: nothing drives a device that is gone. */
	if ((_IOC_NR(cmd) == _IOC_NR(PCIEM_IOC_RAISE) ||
	     _IOC_NR(cmd) == _IOC_NR(PCIEM_IOC_SET_INTX) ||
	     _IOC_NR(cmd) == _IOC_NR(PCIEM_IOC_DMA) ||
	     _IOC_NR(cmd) == _IOC_NR(PCIEM_IOC_START)) &&
	    pciem_function_detached(fn))
		return -ENODEV;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(PCIEM_IOC_DEV_INFO):
		return pciem_dev_info(fn, uarg);
	case _IOC_NR(PCIEM_IOC_RAISE):
		return pciem_dev_irq(fn, uarg, false);
	case _IOC_NR(PCIEM_IOC_SET_INTX):
		return pciem_dev_irq(fn, uarg, true);
	case _IOC_NR(PCIEM_IOC_IRQFD):
		return pciem_irqfd_ioctl(fn, uarg);
	case _IOC_NR(PCIEM_IOC_START):
		return pciem_dev_start(fn);
	case _IOC_NR(PCIEM_IOC_DMA):
		return pciem_dma_ioctl(fn, uarg);
	case _IOC_NR(PCIEM_IOC_DMA_WINDOW):
		return pciem_dma_window_ioctl(fn, uarg);
	case _IOC_NR(PCIEM_IOC_DMA_WINDOW_FD):
		return pciem_dma_window_fd_ioctl(fn, uarg);
	case _IOC_NR(PCIEM_IOC_BAR_BACKING):
		return pciem_bar_backing_ioctl(fn, uarg);
	}
	return pciem_ring_ioctl(fn, _IOC_NR(cmd), uarg);
}

static const struct file_operations pciem_dev_fops = {
	.owner = THIS_MODULE,
	.release = pciem_dev_release,
	.unlocked_ioctl = pciem_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = pciem_dev_mmap,
	.poll = pciem_dev_poll,
	.llseek = noop_llseek,
};

/* ---- creation ------------------------------------------------------------ */

static const struct pciem_cfg_limits *host_limits(struct pciem_host *host,
						  struct pciem_cfg_limits *l)
{
	l->max_bar64 = resource_size(host->win64);
	l->max_bar32 = host->win32.parent ? resource_size(&host->win32) : 0;
	return l;
}

/*
 * A label is shown as is by listings: printable ASCII only, so that it
 * cannot carry terminal escapes, NUL-terminated and zero after the NUL
 * (room to grow, like any reserved bytes).
 */
static bool label_valid(const char *label)
{
	size_t n = strnlen(label, PCIEM_LABEL_LEN);
	size_t i;

	if (n == PCIEM_LABEL_LEN)
		return false;
	for (i = 0; i < PCIEM_LABEL_LEN; i++)
		if (i < n ? label[i] < 0x20 || label[i] > 0x7e : label[i])
			return false;
	return true;
}

static int pciem_create(struct pciem_host *host, struct pciem_create *req,
			struct pciem_error *err)
{
	struct pciem_cfg_limits limits;
	struct pciem_function *fn;
	struct caps_in *caps;
	struct file *file;
	int fd, ret;

	if (req->abi_version != PCIEM_ABI_VERSION) {
		err->code = PCIEM_ERR_ABI_VERSION;
		return -EPROTO;
	}
	if (req->flags & ~PCIEM_CREATE_FLAGS_ALL) {
		err->code = PCIEM_ERR_FLAGS;
		return -EINVAL;
	}
	if (!(req->flags & PCIEM_CREATE_F_DEVFN) && req->devfn) {
		err->code = PCIEM_ERR_RESERVED;
		return -EINVAL;
	}
	if (!label_valid(req->label)) {
		err->code = PCIEM_ERR_LABEL;
		return -EINVAL;
	}

	caps = caps_copy_in(req, err);
	if (IS_ERR(caps))
		return PTR_ERR(caps);
	fn = pciem_function_alloc(host);
	if (!fn) {
		ret = -ENOMEM;
		goto out_caps;
	}
	fn->owner_tgid = task_tgid_vnr(current);
	fn->irq.model_tgid = current->tgid;
	get_task_comm(fn->owner_comm, current);
	memcpy(fn->label, req->label, sizeof(fn->label));
	ret = pciem_cfg_build(&fn->cfg, req, caps->in, caps->n,
			      host_limits(host, &limits), err);
	if (!ret)
		ret = pciem_record_keep_create(fn, req, caps->in, caps->n);
	if (ret)
		goto out_fn;
	ret = pciem_ring_init(&fn->ring);
	if (!ret)
		ret = pciem_rambar_alloc(fn);
	if (!ret)
		ret = pciem_irq_init(fn);
	if (ret)
		goto out_fn;
	if (req->flags & PCIEM_CREATE_F_NO_MODEL)
		pciem_ring_kill(&fn->ring);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out_fn;
	}
	file = anon_inode_getfile("[pciem-device]", &pciem_dev_fops, fn,
				  O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out_fd;
	}

	ret = pciem_function_claim(fn, req->flags & PCIEM_CREATE_F_DEVFN,
				   req->devfn, err);
	if (ret)
		goto out_file;
	if (!(req->flags & PCIEM_CREATE_F_DEFER_ADD)) {
		ret = pciem_function_add(fn, err);
		if (ret)
			goto out_unclaim;
	}

	/* From here the fd owns the function. */
	fd_install(fd, file);
	caps_free(caps);
	return fd;

out_unclaim:
	pciem_ring_kill(&fn->ring);
	pciem_function_remove(fn);
	pciem_dma_free(fn);
out_file:
	/*
	 * The file's release would remove and free the function; detach it
	 * first so the error path alone decides what to undo.
	 */
	file->private_data = NULL;
	fput(file);
out_fd:
	put_unused_fd(fd);
out_fn:
	pciem_function_put(fn);
out_caps:
	caps_free(caps);
	return ret;
}

/**
 * pciem_ioctl_create() - PCIEM_IOC_CREATE
 * @host:	host bridge
 * @uarg:	struct pciem_create in userspace
 *
 * Return: the new device fd, or a negative errno with the reason written
 * to @uarg->error.
 */
long pciem_ioctl_create(struct pciem_host *host, void __user *uarg)
{
	struct pciem_create req;
	struct pciem_error err = { 0 };
	int usize, ret;

	/* The first published layout ended with error; label came later. */
	usize = pciem_copy_struct_in(&req, sizeof(req),
				     offsetofend(struct pciem_create, error),
				     uarg);
	if (usize < 0)
		return usize;
	ret = pciem_create(host, &req, &err);
	if (ret < 0) {
		if (!err.code)
			err.code = PCIEM_ERR_NONE;
		if (copy_to_user(uarg + offsetof(struct pciem_create, error),
				 &err, sizeof(err)))
			return -EFAULT;
	}
	return ret;
}

/* ---- listing -------------------------------------------------------------- */

struct list_fill {
	struct pciem_list_entry *entries;
	unsigned int n;
};

static void fill_entry(struct pciem_function *fn, void *arg)
{
	struct list_fill *lf = arg;
	struct pciem_host *host = fn->host;
	struct pciem_list_entry *e = &lf->entries[lf->n++];

	memset(e, 0, sizeof(*e));
	e->domain = pciem_host_domain(host);
	e->bus = host->bus->number;
	e->devfn = fn->devfn;
	e->vendor_id = pciem_cfg_read(&fn->cfg, PCI_VENDOR_ID, 2);
	e->device_id = pciem_cfg_read(&fn->cfg, PCI_DEVICE_ID, 2);
	e->class_code = pciem_cfg_read(&fn->cfg, PCI_CLASS_REVISION, 4) >> 8;
	e->state = pciem_function_uapi_state(fn);
	e->owner_pid = fn->owner_tgid;
	memcpy(e->owner_comm, fn->owner_comm, sizeof(e->owner_comm));
	memcpy(e->label, fn->label, sizeof(e->label));
}

/**
 * pciem_ioctl_list() - PCIEM_IOC_LIST
 * @host:	host bridge
 * @uarg:	struct pciem_list in userspace
 */
long pciem_ioctl_list(struct pciem_host *host, void __user *uarg)
{
	struct list_fill lf = { 0 };
	struct pciem_list req;
	unsigned int i, copy;
	size_t esize;
	int usize, ret = 0;

	usize = pciem_copy_struct_in(&req, sizeof(req), sizeof(req), uarg);
	if (usize < 0)
		return usize;
	/* The first published layout of an entry ended with owner_comm. */
	if (req.flags || req.reserved ||
	    req.entry_size < offsetofend(struct pciem_list_entry, owner_comm) ||
	    req.entry_size > PAGE_SIZE || req.capacity > PCIEM_NR_DEVFN)
		return -EINVAL;

	lf.entries = kvcalloc(PCIEM_NR_DEVFN, sizeof(*lf.entries), GFP_KERNEL);
	if (!lf.entries)
		return -ENOMEM;
	pciem_visit_functions(host, &lf, fill_entry);

	copy = min(lf.n, req.capacity);
	esize = min_t(size_t, req.entry_size, sizeof(lf.entries[0]));
	for (i = 0; i < copy && !ret; i++) {
		void __user *dst = u64_to_user_ptr(req.entries_ptr) +
				   (size_t)i * req.entry_size;

		if (copy_to_user(dst, &lf.entries[i], esize) ||
		    clear_user(dst + esize, req.entry_size - esize))
			ret = -EFAULT;
	}
	kvfree(lf.entries);
	if (ret)
		return ret;
	req.count = lf.n;
	return pciem_copy_struct_out(uarg, usize, &req, sizeof(req));
}
