/*
 * test_cancel.c - every phase of training reaches the host's interrupt check
 * often, and a cancel in any phase stops training cleanly.
 *
 * The checks are counted by amount of work (vc_sort.h), so these tests
 * measure them the same way in every run: each phase of a run over many
 * rows must check at least as often as its work says, a check that asks to
 * stop must end the run with VC_ECANCELED in that very phase without leaking
 * (AddressSanitizer's leak check), and the interruptible sort must give
 * exactly qsort_r's order (the canonical order is a total order, so the
 * sorted result is unique).  The time between checks is printed, not
 * asserted, except for a bound far above what any machine needs.
 */
#define _GNU_SOURCE				/* qsort_r, for the reference order */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc_fpenv.h"
#include "vc_sort.h"
#include "vc_train.h"

typedef struct Probe
{
	int			phase;			/* the current phase, -1 before the first */
	int64_t		checks[VC_N_PHASES];
	double		max_gap[VC_N_PHASES];	/* seconds between consecutive checks */
	double		last;			/* time of the last check or phase start */
	int			cancel_phase;	/* ask to stop at the first check of this phase */
	int			cancel_at_check;	/* ... or at this many checks (sort test) */
	int64_t		total_checks;
	VcFpEnv		host_fp;		/* the FP setting the host had */
	int64_t		foreign_fp;		/* callbacks that ran with flush-to-zero on */
} Probe;

/*
 * The interrupt check: counts the check and the gap since the last one in
 * the current phase, counts a callback run with flush-to-zero on, and asks
 * to stop at check cancel_at_check or in phase cancel_phase.
 */
static int
ProbeCheck(void *arg)
{
	Probe	   *p = arg;
	double		now = vc_now();

	p->total_checks++;
	p->foreign_fp += vc_fp_flushing();
	if (p->phase >= 0)
	{
		p->checks[p->phase]++;
		if (now - p->last > p->max_gap[p->phase])
			p->max_gap[p->phase] = now - p->last;
	}
	p->last = now;
	if (p->cancel_at_check > 0 && p->total_checks >= p->cancel_at_check)
		return 1;
	return p->phase >= 0 && p->phase == p->cancel_phase;
}

/* the phase callback: notes the phase entered and starts timing its gaps */
static void
ProbePhase(void *arg, int phase, int64_t rows)
{
	Probe	   *p = arg;

	(void) rows;
	p->phase = phase;
	p->last = vc_now();
}

/* a fresh probe (no phase yet, no cancel asked) and callbacks that report to it */
static void
ProbeInit(Probe *p, VcCallbacks *cb)
{
	memset(p, 0, sizeof(*p));
	p->phase = -1;
	p->host_fp = vc_fp_get();
	p->cancel_phase = -1;
	memset(cb, 0, sizeof(*cb));
	cb->check_interrupts = ProbeCheck;
	cb->phase = ProbePhase;
	cb->arg = p;
}

/* rows with many duplicates and signed zeros, the hard cases for a sort */
static float *
MakeRows(int64_t n, int d, VcRowRef *refs)
{
	float	   *x = malloc(sizeof(float) * n * d);

	for (int64_t i = 0; i < n; i++)
	{
		for (int j = 0; j < d; j++)
		{
			double		u = vc_uniform(0x7e57, (uint64_t) (i * d + j));

			if (i % 5 == 1)
				x[i * d + j] = (j == 0 && i % 10 == 1) ? -0.0f : 0.0f;	/* duplicates, +-0 */
			else
				x[i * d + j] = (float) (j == 0 ? 3.0 * u : u - 0.5);
		}
		refs[i].row = x + i * d;
		refs[i].hash = vc_hash_row(refs[i].row, d, 5);
	}
	return x;
}

static int
RefCmp(const void *a, const void *b, void *dim)
{
	return vc_row_compare(a, b, *(const int *) dim);
}

/* the interruptible sort gives qsort_r's order exactly, ties included */
static void
CheckSortOrder(void)
{
	int64_t		n = 200000;
	int			d = 3;
	VcRowRef   *a = malloc(sizeof(VcRowRef) * n),
			   *b = malloc(sizeof(VcRowRef) * n);
	float	   *x = MakeRows(n, d, a);
	Probe		p;
	VcCallbacks cb;
	char		err[VC_ERRMSG_LEN];
	int64_t		i,
				same = 0,
				sorted = 1;

	memcpy(b, a, sizeof(VcRowRef) * n);
	ProbeInit(&p, &cb);
	qsort_r(b, n, sizeof(VcRowRef), RefCmp, &d);
	ok(vc_canonical_sort(a, n, d, &cb, err) == VC_OK, "canonical sort of %lld rows", (long long) n);
	for (i = 0; i < n; i++)
	{
		same += a[i].row == b[i].row;
		if (i > 0)
		{
			int			c = vc_row_compare(&a[i - 1], &a[i], d);

			if (c > 0 || (c == 0 && memcmp(a[i - 1].row, a[i].row, sizeof(float) * d) != 0))
				sorted = 0;
		}
	}
	/* equal under the order means equal bits, so no two distinct rows tie */
	ok(sorted, "sorted, and rows that tie have identical bits");
	{
		int64_t		same_bits = 0;

		for (i = 0; i < n; i++)
			same_bits += memcmp(a[i].row, b[i].row, sizeof(float) * d) == 0;
		ok(same_bits == n, "the same sequence of rows (bits) as qsort_r: %lld of %lld",
		   (long long) same_bits, (long long) n);
	}
	diag("%lld of %lld positions hold the very same row pointer", (long long) same,
		 (long long) n);
	/* a -0 row and a +0 row with otherwise equal values: never a tie */
	{
		float		r0[3] = {0.0f, 1.0f, 2.0f},
					r1[3] = {-0.0f, 1.0f, 2.0f};
		VcRowRef	x0 = {vc_hash_row(r0, 3, 0), r0},
					x1 = {vc_hash_row(r1, 3, 0), r1};

		ok(x0.hash == x1.hash && vc_row_compare(&x0, &x1, 3) != 0 &&
		   vc_row_compare(&x0, &x1, 3) == -vc_row_compare(&x1, &x0, 3),
		   "rows that differ only in the sign of a zero are ordered, antisymmetrically");
	}
	/* n log2(n/16) merge steps at least, one unit each: checks by work */
	ok(p.total_checks >= (int64_t) (n * log2(n / 16.0) / VC_TICK_WORK),
	   "the sort checked for interrupts %lld times (at least n log2(n/16) / %d)",
	   (long long) p.total_checks, VC_TICK_WORK);

	/* a cancel in the middle of the sort */
	memcpy(a, b, sizeof(VcRowRef) * n);
	ProbeInit(&p, &cb);
	p.cancel_at_check = 3;
	ok(vc_canonical_sort(a, n, d, &cb, err) == VC_ECANCELED && p.total_checks == 3,
	   "a cancel at the third check stops the sort there: %s", err);
	free(a);
	free(b);
	free(x);
}

/*
 * A whole run: every phase checks in proportion to its work, and the gap
 * between two checks stays small.  The bound on the gap is far above the
 * few milliseconds it takes (sanitizers and a shared machine included); the
 * figures are printed.
 */
static void
CheckPhases(void)
{
	int64_t		n = 300000;
	int			d = 8;
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * n);
	float	   *x = MakeRows(n, d, refs);
	VcOptions	opt;
	Probe		p;
	VcCallbacks cb;
	VcModel    *m = NULL;
	char		err[VC_ERRMSG_LEN];
	VcStatus	st;

	vc_options_init(&opt);
	opt.epochs = 1;
	opt.n_hidden = 1;
	opt.hidden[0] = 4;
	opt.latent_dim = 2;
	opt.batch_size = 4096;
	opt.validation_fraction = 0.1;
	ProbeInit(&p, &cb);
	st = vc_train(refs, n, d, &opt, &cb, &m, err);
	ok(st == VC_OK, "training %lld rows: %s", (long long) n, st == VC_OK ? "ok" : err);
	for (int ph = 0; ph < VC_N_PHASES; ph++)
	{
		if (ph == VC_PHASE_SAMPLE)
			continue;			/* no max_rows here: CheckSample */
		diag("phase %-12s %6lld checks, at most %.1f ms apart", vc_phase_name(ph),
			 (long long) p.checks[ph], p.max_gap[ph] * 1e3);
		ok(p.checks[ph] >= 1 && p.max_gap[ph] < 0.5,
		   "phase %s reaches the interrupt check (%lld times, max gap %.1f ms)",
		   vc_phase_name(ph), (long long) p.checks[ph], p.max_gap[ph] * 1e3);
	}
	/*
	 * The minibatch steps run with flush-to-zero (vc_fpenv.h), but the host
	 * never sees it: not in a callback (which may longjmp), not afterwards.
	 */
	ok(p.foreign_fp == 0 && !vc_fp_flushing() && (vc_fp_get() & ~0x3fu) == (p.host_fp & ~0x3fu),
	   "callbacks and the caller keep the host's floating-point setting (%lld differed)",
	   (long long) p.foreign_fp);
	/* by work: the sort at least n log2(n/16) units, normalization 3 passes */
	ok(p.checks[VC_PHASE_SORT] >= (int64_t) (n * log2(n / 16.0) / VC_TICK_WORK),
	   "sort checks by work: %lld", (long long) p.checks[VC_PHASE_SORT]);
	ok(p.checks[VC_PHASE_NORMALIZE] >= 3 * n / VC_TICK_WORK,
	   "normalization checks by work: %lld", (long long) p.checks[VC_PHASE_NORMALIZE]);
	vc_model_free(m);
	free(x);

	/* a cancel at the first check of each phase ends the run there, leak-free */
	for (int ph = 0; ph < VC_N_PHASES; ph++)
	{
		if (ph == VC_PHASE_SAMPLE)
			continue;
		x = MakeRows(n, d, refs);
		ProbeInit(&p, &cb);
		p.cancel_phase = ph;
		m = NULL;
		st = vc_train(refs, n, d, &opt, &cb, &m, err);
		ok(st == VC_ECANCELED && m == NULL && p.phase == ph && p.checks[ph] == 1 &&
		   !vc_fp_flushing() && p.foreign_fp == 0,
		   "a cancel in phase %s stops training in it, FP setting restored (%s)",
		   vc_phase_name(ph), err);
		vc_model_free(m);
		free(x);
	}
	free(refs);
}

/* the bottom-k sample of the aggregate: interruptible too */
static void
CheckSample(void)
{
	int64_t		n = 200000,
				kept = 0;
	int			d = 4;
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * n);
	float	   *x = MakeRows(n, d, refs);
	Probe		p;
	VcCallbacks cb;
	char		err[VC_ERRMSG_LEN];
	VcStatus	st;

	ProbeInit(&p, &cb);
	st = vc_bottom_k(refs, n, 1000, d, &cb, &kept, err);
	ok(st == VC_OK && kept == 1000 &&
	   p.checks[VC_PHASE_SAMPLE] >= (int64_t) (n * log2(n / 16.0) / VC_TICK_WORK),
	   "bottom-k of %lld rows checks %lld times, at most %.1f ms apart", (long long) n,
	   (long long) p.checks[VC_PHASE_SAMPLE], p.max_gap[VC_PHASE_SAMPLE] * 1e3);
	ProbeInit(&p, &cb);
	p.cancel_phase = VC_PHASE_SAMPLE;
	ok(vc_bottom_k(refs, n, 1000, d, &cb, &kept, err) == VC_ECANCELED,
	   "a cancel during bottom-k stops it");
	free(refs);
	free(x);
}

/*
 * Checks the interruptible sort's order, and the interrupt checks and cancels
 * of every training phase and of bottom-k.
 */
int
main(void)
{
	CheckSortOrder();
	CheckPhases();
	CheckSample();
	return done_testing();
}
