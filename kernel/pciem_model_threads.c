// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Where a function's model runs, for pciem.ko's explanations.
 *
 * A trapped read is answered by user space: the function's owner (which
 * takes requests off its ring) and, behind pciem-proxy, a device server.
 * A CPU that waits for the answer with preemption off cannot run either of
 * them, and a handler that interrupts the idle task spins on a CPU the
 * scheduler takes for idle: a model thread woken then may be queued on
 * that very CPU, where it cannot run until the read times out. Nothing in
 * pciem.ko can move it; a line in the log says what happened.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "pciem.h"

/* A thread of @tgid queued to run on @cpu but not running: its tid. */
static pid_t queued_on(pid_t tgid, unsigned int cpu, char *comm)
{
	struct task_struct *p, *t;
	pid_t found = 0;

	if (!tgid)
		return 0;
	rcu_read_lock();
	p = pid_task(find_pid_ns(tgid, &init_pid_ns), PIDTYPE_PID);
	if (p) {
		for_each_thread(p, t) {
			if (task_cpu(t) != cpu || READ_ONCE(t->on_cpu))
				continue;
			/* woken (TASK_WAKING) or runnable, but not here yet */
			if (READ_ONCE(t->__state) == TASK_WAKING ||
			    READ_ONCE(t->on_rq)) {
				found = t->pid;
				strscpy(comm, t->comm, TASK_COMM_LEN);
				break;
			}
		}
	}
	rcu_read_unlock();
	return found;
}

/**
 * pciem_explain_held_cpu() - say why a read waiting with preemption off
 * is not answered, when one of @fn's model threads waits for this CPU
 * @fn:		the function
 *
 * Called once per wait that has gone on long. Nothing is logged when no
 * model thread is queued here (the model is merely slow).
 */
void pciem_explain_held_cpu(struct pciem_function *fn)
{
	unsigned int cpu = raw_smp_processor_id();
	char comm[TASK_COMM_LEN];
	pid_t tid;

	/* a handler on top of the model's own thread */
	if (in_hardirq() && current->mm &&
	    (current->tgid == fn->irq.model_tgid ||
	     current->tgid == READ_ONCE(fn->irq.server_tgid))) {
		pr_warn_ratelimited("%s: an interrupt handler on CPU %u waits for the model, whose thread %s[%d] it interrupted: that thread cannot answer before the read times out; give the model CPUs apart from the driver's interrupts (docs/forwarding.md)\n",
				    fn->name, cpu, current->comm, task_pid_nr(current));
		return;
	}
	tid = queued_on(fn->irq.model_tgid, cpu, comm);
	if (!tid)
		tid = queued_on(READ_ONCE(fn->irq.server_tgid), cpu, comm);
	if (!tid)
		return;
	pr_warn_ratelimited("%s: a read waits with preemption off on CPU %u, where the model's thread %s[%d] is waiting to run: it cannot run there before the read times out; give the model CPUs apart from the driver's interrupts (docs/forwarding.md)\n",
			    fn->name, cpu, comm, tid);
}
