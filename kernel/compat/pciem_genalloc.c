// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The DMA window's pool (pciem_dma_window.c) is a gen_pool. Every
 * distribution kernel builds lib/genalloc.c in, but it has no prompt of its
 * own: a kernel trimmed from tinyconfig (the reliability lane's debug
 * kernel, scripts/build-debug-kernel) has it only if some driver selects it.
 * There, Kbuild builds the kernel's own file, from the source tree of the
 * kernel built against, into pciem.ko (nothing copied into this tree).
 */
#include <../lib/genalloc.c>
