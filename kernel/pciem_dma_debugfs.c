// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * /sys/kernel/debug/pciem/dma: per function, what the driver has mapped
 * right now and where it did so. The first thing to look at when a model
 * reports a refused DMA.
 */
#include <linux/debugfs.h>
#include <linux/genalloc.h>
#include <linux/seq_file.h>

#include "pciem.h"

static void dma_show_fn(struct pciem_function *fn, void *arg)
{
	struct seq_file *s = arg;
	struct pciem_dma *dma = &fn->dma;
	struct pciem_dma_map *m;
	struct rb_node *n;
	unsigned long flags;
	char where[160];

	spin_lock_irqsave(&dma->lock, flags);
	seq_printf(s, "%s: %llu mapped so far, %llu refused, %llu written past",
		   fn->name, (u64)atomic64_read(&dma->maps),
		   (u64)atomic64_read(&dma->faults),
		   (u64)atomic64_read(&dma->redzone_hits));
	if (dma->win_pool)
		seq_printf(s, ", window %#llx+%llu (%zu bytes free)", dma->win_base,
			   dma->win_size, gen_pool_avail(dma->win_pool));
	seq_puts(s, "\n");
	for (n = rb_first(&dma->live); n; n = rb_next(n)) {
		m = rb_entry(n, struct pciem_dma_map, node);
		pciem_dma_print_trace(where, sizeof(where), m->map_trace);
		seq_printf(s, "  %#llx+%llu %s %s%s by %s\n", m->iova, m->len,
			   pciem_dma_dir_name(m->dir), pciem_dma_kind_name(m->kind),
			   m->orig ? " bounced" : "", where);
	}
	spin_unlock_irqrestore(&dma->lock, flags);
}

static int dma_show(struct seq_file *s, void *unused)
{
	pciem_visit_functions(s->private, s, dma_show_fn);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dma);

void pciem_dma_host_init(struct pciem_host *host)
{
	debugfs_create_file("dma", 0400, pciem_debugfs, host, &dma_fops);
}
