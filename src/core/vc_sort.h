/*
 * vc_sort.h - interrupt checks by amount of work, and an interruptible sort
 * (core-internal; vc_sort.c).
 */
#ifndef VC_SORT_H
#define VC_SORT_H

#include <stddef.h>

#include "vc.h"

/*
 * Work between two interrupt checks, in units of about one random memory
 * access (a merge step of a sort, a swap of a shuffle) or 16 floats of
 * streaming work.  65,536 units are a few milliseconds on current CPUs, so a
 * cancel is noticed well within the ~100 ms the phases promise, and the
 * host's check (a flag test in a backend) costs nothing measurable.
 */
#define VC_TICK_WORK 65536

/*
 * Counts work done on the calling thread and calls the host's
 * check_interrupts once per VC_TICK_WORK units.  Counting work rather than
 * reading the clock keeps the checks at the same places in every run, which
 * the unit tests rely on.  canceled sticks once the host asked to stop.
 */
typedef struct VcTicker
{
	const VcCallbacks *cb;
	int64_t		work;			/* units since the last check */
	int64_t		checks;			/* checks made (tests read it) */
	int			canceled;
} VcTicker;

/* a ticker for the host's callbacks cb (may be NULL), with no work counted yet */
static inline void
vc_ticker_init(VcTicker *t, const VcCallbacks *cb)
{
	t->cb = cb;
	t->work = 0;
	t->checks = 0;
	t->canceled = 0;
}

/* add units of work; nonzero once the host asked to stop (it may also longjmp) */
static inline int
vc_tick(VcTicker *t, int64_t units)
{
	if (t == NULL)
		return 0;
	t->work += units;
	if (t->work < VC_TICK_WORK || t->canceled)
		return t->canceled;
	t->work = 0;
	t->checks++;
	if (t->cb && t->cb->check_interrupts && t->cb->check_interrupts(t->cb->arg))
		t->canceled = 1;
	return t->canceled;
}

/* tell the host a phase of training begins (progress, logs, tests) */
static inline void
vc_phase(const VcCallbacks *cb, int phase, int64_t rows)
{
	if (cb && cb->phase)
		cb->phase(cb->arg, phase, rows);
}

/*
 * Sorts base[0, n) of elements of the given size by cmp (a total order, as
 * for qsort_r).  cost is the units of work one comparison may take.
 * Returns VC_OK or VC_ECANCELED (t's host asked to stop; the array's
 * contents are then undefined).  Without memory for its buffer it sorts in
 * place, more slowly.
 */
VcStatus	vc_sort(void *base, size_t n, size_t size,
					int (*cmp) (const void *a, const void *b, void *arg), void *arg,
					int64_t cost, VcTicker *t, char *errmsg);

/* v[0, n) in ascending order (qsort: score samples, which are small and finite) */
void		vc_sort_floats(float *v, size_t n);

#endif							/* VC_SORT_H */
