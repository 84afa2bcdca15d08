/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the two kernels the driver builds for (Debian's
 * 6.1 and 6.12): where fbdev emulation is set up and the name of the INTx
 * flag. Everything else is the same API in both.
 */
#ifndef PCIEM_FB_COMPAT_H
#define PCIEM_FB_COMPAT_H

#include <linux/pci.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#include <drm/drm_fbdev_shmem.h>
/* fbdev on a shmem buffer: deferred I/O calls the framebuffer's dirty(). */
#define pfb_fbdev_setup(drm)	drm_fbdev_shmem_setup(drm, 32)
#else
#include <drm/drm_fb_helper.h>
/* 6.1's generic fbdev: a shadow buffer, damage through dirty(). */
#define pfb_fbdev_setup(drm)	drm_fbdev_generic_setup(drm, 32)
#endif

#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX		PCI_IRQ_LEGACY
#endif

#endif /* PCIEM_FB_COMPAT_H */
