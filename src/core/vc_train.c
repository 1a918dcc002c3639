/*
 * vc_train.c - canonical row order, normalization and the training loop.
 *
 * Determinism: the rows are sorted by (seeded hash, values) before anything
 * else, and every random draw afterwards (split, shuffles, eps) is a pure
 * function of the seed and a counter, so the model depends only on the
 * multiset of rows, the options and the seed -- never on scan order or on
 * how a parallel plan split the input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc_math.h"
#include "vc_score.h"
#include "vc_sort.h"
#include "vc_train.h"

/* keys of the independent random streams */
#define KEY_SPLIT	0x53504c4954ULL	/* "SPLIT" */
#define KEY_SHUFFLE 0x5348554646ULL	/* "SHUFF" */
#define KEY_EPS		0x455053ULL		/* "EPS" */
#define KEY_VAL		0x56414cULL		/* "VAL" */

const char *
vc_phase_name(int phase)
{
	static const char *const names[VC_N_PHASES] = {
		"sort", "sample", "normalize", "epochs", "score sample"
	};

	return phase >= 0 && phase < VC_N_PHASES ? names[phase] : "?";
}

/* ---- canonical order ---- */

/*
 * Rows by seeded hash, then by value.  Rows equal in value can still differ
 * in bits only by the sign of a zero (the hash treats -0 as 0); their bit
 * patterns break that tie, so this is a total order and the sorted order is
 * unique: the same whatever the scan order or the sort algorithm.  (Before,
 * such rows kept their scan order, and a minmax center of 0 or -0 could
 * depend on it.)
 */
int
vc_row_compare(const VcRowRef *a, const VcRowRef *b, int dim)
{
	int			i,
				c;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	for (i = 0; i < dim; i++)
	{
		if (a->row[i] != b->row[i])
			return a->row[i] < b->row[i] ? -1 : 1;
	}
	c = memcmp(a->row, b->row, sizeof(float) * (size_t) dim);
	return (c > 0) - (c < 0);
}

static int
RowRefCmp(const void *a, const void *b, void *dim)
{
	return vc_row_compare(a, b, *(const int *) dim);
}

/*
 * Interruptible (vc_sort): at 20 million rows this sort takes seconds.  A
 * comparison reads the rows' values only when the hashes tie (duplicate
 * rows), so it counts as one unit plus one per 64 features.
 */
VcStatus
vc_canonical_sort(VcRowRef *refs, int64_t n, int dim, const VcCallbacks *cb, char *errmsg)
{
	VcTicker	t;

	vc_ticker_init(&t, cb);
	return vc_sort(refs, (size_t) n, sizeof(VcRowRef), RowRefCmp, &dim, 1 + dim / 64,
				   &t, errmsg);
}

/*
 * Bottom-k by (hash, values).  Sorting is O(n log n) but the aggregate calls
 * this only when its buffer doubles past k, so the amortized cost is small.
 */
VcStatus
vc_bottom_k(VcRowRef *refs, int64_t n, int64_t k, int dim, const VcCallbacks *cb,
			int64_t *kept, char *errmsg)
{
	VcStatus	st;

	vc_phase(cb, VC_PHASE_SAMPLE, n);
	st = vc_canonical_sort(refs, n, dim, cb, errmsg);
	*kept = n < k ? n : k;
	return st;
}

/* ---- normalization ---- */

/*
 * Statistics in double over all rows.  A constant column (min == max) gets
 * scale 1 so it normalizes to 0 instead of dividing by zero.
 */
static VcStatus
Normalize(VcModel *m, VcRowRef *refs, int64_t n, VcTicker *t, char *errmsg)
{
	int			d = m->dim,
				j;
	int64_t		i;
	int64_t		row_units = 1 + d / 16;
	double	   *sum = vc_alloc0(sizeof(double) * d);
	double	   *sq = vc_alloc0(sizeof(double) * d);
	float	   *lo = vc_alloc(sizeof(float) * d);
	float	   *hi = vc_alloc(sizeof(float) * d);
	VcStatus	st = VC_OK;

	if (!sum || !sq || !lo || !hi)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory computing normalization statistics");
		st = VC_ENOMEM;
		goto done;
	}
	for (j = 0; j < d; j++)
		lo[j] = hi[j] = refs[0].row[j];
	for (i = 0; i < n; i++)
	{
		const float *x = refs[i].row;

		for (j = 0; j < d; j++)
		{
			sum[j] += x[j];
			if (x[j] < lo[j])
				lo[j] = x[j];
			if (x[j] > hi[j])
				hi[j] = x[j];
		}
		if (vc_tick(t, row_units))
			goto canceled;
	}
	for (i = 0; i < n; i++)
	{
		const float *x = refs[i].row;

		for (j = 0; j < d; j++)
		{
			double		dev = x[j] - sum[j] / n;

			sq[j] += dev * dev;
		}
		if (vc_tick(t, row_units))
			goto canceled;
	}
	for (j = 0; j < d; j++)
	{
		m->center[j] = 0.0f;
		m->scale[j] = 1.0f;
		if (m->opt.normalize == VC_NORM_STANDARD)
		{
			m->center[j] = (float) (sum[j] / n);
			if (lo[j] != hi[j])
				m->scale[j] = (float) sqrt(sq[j] / n);
		}
		else if (m->opt.normalize == VC_NORM_MINMAX)
		{
			m->center[j] = lo[j];
			if (lo[j] != hi[j])
				m->scale[j] = hi[j] - lo[j];
		}
		if (!isfinite(m->scale[j]) || !(m->scale[j] > 0.0f))
		{
			snprintf(errmsg, VC_ERRMSG_LEN,
					 "feature %d spans too wide a range to normalize", j + 1);
			st = VC_EDATA;
			goto done;
		}
	}
	for (i = 0; i < n; i++)
	{
		float	   *x = refs[i].row;
		int			bad = vc_normalize_row(m, x, x);

		if (bad >= 0)
		{
			snprintf(errmsg, VC_ERRMSG_LEN,
					 "feature %d has a value outside [0, 1] after normalization, "
					 "which the bernoulli likelihood cannot model", bad + 1);
			st = VC_EDATA;
			goto done;
		}
		if (vc_tick(t, row_units))
			goto canceled;
	}
	goto done;
canceled:
	snprintf(errmsg, VC_ERRMSG_LEN, "training was canceled");
	st = VC_ECANCELED;
done:
	vc_free(sum);
	vc_free(sq);
	vc_free(lo);
	vc_free(hi);
	return st;
}

/* ---- training ---- */

static int
DoubleCmp(const void *a, const void *b, void *arg)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	(void) arg;
	return x < y ? -1 : x > y;
}

/*
 * The early-stopping criterion: the mean per-row loss of the held-out rows
 * without the worst 1% (none below 100 rows).  The held-out rows are a
 * sample of the user's table, anomalies included, and one of them can cost
 * millions of nats (a rare value of a near-constant column, many standard
 * deviations out): a plain mean then jumps from epoch to epoch with that
 * row alone and early stopping keeps whichever epoch fitted it least badly
 * (seen on KDD Cup 99: the kept epoch swung between 3 and 9 of 9 with the
 * seed, F1 0.935 to 0.962).  Trimming the tail measures how well the bulk
 * of the data is modeled, which is what the anomaly scores rely on.
 * Sorts row_loss in place (the same stable merge sort as glibc's qsort, so
 * the same bits; interruptible through t, which may be NULL); NaN if any
 * loss is not finite (divergence) or if t's host asked to stop.
 */
double
vc_validation_criterion(double *row_loss, int64_t n, VcTicker *t)
{
	int64_t		keep = n - n / VC_VAL_TRIM_DIVISOR;
	double		sum = 0.0;
	char		errmsg[VC_ERRMSG_LEN];

	if (n < 1)
		return NAN;
	for (int64_t i = 0; i < n; i++)
		if (!isfinite(row_loss[i]))
			return NAN;
	if (vc_sort(row_loss, (size_t) n, sizeof(double), DoubleCmp, NULL, 1, t, errmsg) != VC_OK)
		return NAN;
	for (int64_t i = 0; i < keep; i++)
		sum += row_loss[i];
	return sum / (double) keep;
}

/*
 * Fisher-Yates driven by the counter-based generator; a swap is a random
 * access, a unit of work for the interrupt checks.  Nonzero if canceled.
 */
static int
Shuffle(int64_t *idx, int64_t n, uint64_t key, VcTicker *t)
{
	int64_t		i;

	for (i = n - 1; i > 0; i--)
	{
		int64_t		j = (int64_t) (vc_uniform(key, (uint64_t) i) * (double) (i + 1));
		int64_t		tmp = idx[i];

		idx[i] = idx[j];
		idx[j] = tmp;
		if ((i & 1023) == 0 && vc_tick(t, 1024))
			return 1;
	}
	return 0;
}

VcStatus
vc_train(VcRowRef *refs, int64_t n_rows, int dim, const VcOptions *opt,
		 const VcCallbacks *cb, VcModel **out, char *errmsg)
{
	VcEngine	cpu;

	vc_engine_cpu_init(&cpu);
	return vc_train_engine(refs, n_rows, dim, opt, cb, &cpu, out, errmsg);
}

VcStatus
vc_train_engine(VcRowRef *refs, int64_t n_rows, int dim, const VcOptions *opt_in,
				const VcCallbacks *cb, VcEngine *engine, VcModel **out, char *errmsg)
{
	VcOptions	opt = *opt_in;
	VcModel    *m = NULL;
	int64_t    *order = NULL;
	double	   *val_rows = NULL;
	int64_t		n,
				n_val,
				n_train,
				step = 0;
	double		t0 = vc_now(),
				best_val = INFINITY;
	int			epoch,
				since_best = 0,
				batch,
				begun = 0;
	uint64_t	eps_key,
				val_key;
	VcStatus	st;
	VcTicker	ticker;

	*out = NULL;
	if (n_rows < VC_MIN_ROWS)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "vae_train needs at least %d rows, got %lld",
				 VC_MIN_ROWS, (long long) n_rows);
		return VC_EDATA;
	}
	st = vc_options_resolve(&opt, n_rows, dim, errmsg);
	if (st != VC_OK)
		return st;

	/* canonical order, then the seeded sample cap */
	vc_ticker_init(&ticker, cb);
	vc_phase(cb, VC_PHASE_SORT, n_rows);
	st = vc_canonical_sort(refs, n_rows, dim, cb, errmsg);
	if (st != VC_OK)
		return st;
	n = opt.max_rows > 0 && n_rows > opt.max_rows ? opt.max_rows : n_rows;

	st = vc_model_create(&m, &opt, dim, errmsg);
	if (st != VC_OK)
		return st;
	m->rows = n;
	vc_phase(cb, VC_PHASE_NORMALIZE, n);
	st = Normalize(m, refs, n, &ticker, errmsg);
	if (st != VC_OK)
		goto done;
	vc_model_init_params(m);

	n_val = (int64_t) floor(n * opt.validation_fraction);
	n_train = n - n_val;
	if (n_train < 1)
	{
		n_val = n - 1;
		n_train = 1;
	}
	batch = opt.batch_size < n_train ? opt.batch_size : (int) n_train;
	m->train_loss = vc_alloc(sizeof(double) * opt.epochs);
	m->val_loss = vc_alloc(sizeof(double) * opt.epochs);
	order = vc_alloc(sizeof(int64_t) * n);
	val_rows = vc_alloc(sizeof(double) * (n_val > 0 ? n_val : 1));
	if (!m->train_loss || !m->val_loss || !order || !val_rows)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory allocating the training workspace");
		st = VC_ENOMEM;
		goto done;
	}
	st = engine->begin(engine, m, refs, n, batch, errmsg);
	begun = 1;
	if (st != VC_OK)
		goto done;

	/* validation rows first, training rows after, by one seeded permutation */
	vc_phase(cb, VC_PHASE_EPOCHS, n);
	for (int64_t i = 0; i < n; i++)
		order[i] = i;
	if (Shuffle(order, n, vc_mix64(opt.seed ^ KEY_SPLIT), &ticker))
		goto canceled;
	eps_key = vc_mix64(opt.seed ^ KEY_EPS);
	val_key = vc_mix64(opt.seed ^ KEY_VAL);

	for (epoch = 1; epoch <= opt.epochs; epoch++)
	{
		int64_t    *train_idx = order + n_val;
		double		total,
					val = NAN;

		if (Shuffle(train_idx, n_train,
					vc_mix64(opt.seed ^ KEY_SHUFFLE ^ ((uint64_t) epoch << 40)), &ticker))
			goto canceled;
		st = engine->train_epoch(engine, train_idx, n_train, eps_key, &step, &total, cb, errmsg);
		if (st != VC_OK)
			goto done;
		if (!isfinite(total))
		{
			snprintf(errmsg, VC_ERRMSG_LEN,
					 "training diverged at epoch %d: the loss is not finite; "
					 "lower learning_rate, or normalize the input ('standard')",
					 epoch);
			st = VC_EDIVERGED;
			goto done;
		}
		m->train_loss[epoch - 1] = total / (double) n_train;
		m->epochs_run = epoch;
		if (n_val > 0)
		{
			st = engine->validation_loss(engine, order, n_val, val_key, val_rows, cb, errmsg);
			if (st != VC_OK)
				goto done;
			val = vc_validation_criterion(val_rows, n_val, &ticker);
			if (ticker.canceled)
				goto canceled;
			if (!isfinite(val))
			{
				snprintf(errmsg, VC_ERRMSG_LEN,
						 "training diverged at epoch %d: the validation loss is not "
						 "finite; lower learning_rate", epoch);
				st = VC_EDIVERGED;
				goto done;
			}
			if (val < best_val)
			{
				best_val = val;
				m->best_epoch = epoch;
				st = engine->save_best(engine, errmsg);
				if (st != VC_OK)
					goto done;
				since_best = 0;
			}
			else
				since_best++;
		}
		else
			m->best_epoch = epoch;
		m->val_loss[epoch - 1] = val;
		if (opt.verbose && cb && cb->epoch_done)
			cb->epoch_done(cb->arg, epoch, m->train_loss[epoch - 1], val, vc_now() - t0);
		if (opt.patience > 0 && n_val > 0 && since_best >= opt.patience)
			break;
	}
	st = engine->get_params(engine, m->params, errmsg);
	if (st != VC_OK)
		goto done;
	engine->end(engine);
	begun = 0;
	if (!vc_all_finite(m->params, m->n_params))
	{
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "training diverged: the weights are not finite; lower learning_rate");
		st = VC_EDIVERGED;
		goto done;
	}
	vc_phase(cb, VC_PHASE_SCORE_SAMPLE, n < VC_MAX_SCORE_SAMPLE ? n : VC_MAX_SCORE_SAMPLE);
	st = vc_record_score_distribution(m, refs, order, n, cb, errmsg);
	if (st != VC_OK)
		goto done;
	m->train_seconds = vc_now() - t0;
	m->device = engine->device;
	goto done;

canceled:
	snprintf(errmsg, VC_ERRMSG_LEN, "training was canceled");
	st = VC_ECANCELED;

done:
	if (begun)
		engine->end(engine);
	vc_free(order);
	vc_free(val_rows);
	if (st != VC_OK)
		vc_model_free(m);
	else
		*out = m;
	return st;
}
