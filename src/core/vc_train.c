/*
 * vc_train.c - canonical row order, normalization and the training loop.
 *
 * Row models (vc_train_rows) share everything from the initial weights on;
 * before that they compute each column's NULL share and robust scaling from
 * the rows trained on, instead of the array path's normalization.
 *
 * Determinism: the rows are sorted by (seeded hash, values) before anything
 * else, and every random draw afterwards (split, shuffles, eps) is a pure
 * function of the seed and a counter, so the model depends only on the
 * multiset of rows, the options and the seed -- never on scan order or on
 * how a parallel plan split the input.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc_math.h"
#include "vc_options.h"
#include "vc_schema.h"
#include "vc_score.h"
#include "vc_sort.h"
#include "vc_train.h"

/* keys of the independent random streams */
#define KEY_SPLIT	0x53504c4954ULL	/* "SPLIT" */
#define KEY_SHUFFLE 0x5348554646ULL	/* "SHUFF" */
#define KEY_EPS		0x455053ULL		/* "EPS" */
#define KEY_VAL		0x56414cULL		/* "VAL" */
#define KEY_FOLD	0x464f4c44ULL	/* "FOLD" */

/* the name of a training phase, for messages; "?" if unknown */
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
		float		x = a->row[i],
					y = b->row[i];

		if (x != y)
		{
			/*
			 * A row model's NULL is a NaN: it sorts after every number, and
			 * two NaNs (equal as values here) are left to the bits below.
			 * Array rows hold no NaN, so their order is as it always was.
			 */
			if (x != x || y != y)
			{
				if (x != x && y != y)
					continue;
				return x != x ? 1 : -1;
			}
			return x < y ? -1 : 1;
		}
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

/* vc_sort comparator of doubles, ascending */
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

/*
 * An epoch's order of the training rows idx[0, n): a shuffle keyed by the
 * seed and the epoch.  Nonzero if canceled.
 */
static int
ShuffleEpoch(int64_t *idx, int64_t n, uint64_t seed, int epoch, VcTicker *t)
{
	return Shuffle(idx, n, vc_mix64(seed ^ KEY_SHUFFLE ^ ((uint64_t) epoch << 40)), t);
}

/*
 * The score sample of a model that held no rows out.  Its own training rows
 * would score far below new normal rows on a small table -- 10,000 Adam steps
 * over a few dozen rows fit them closely: on the detection benchmark's
 * soybean set (46 rows) the training rows scored about -87 and new normal
 * rows thousands -- so vae_threshold and vae_detect flagged most new normal
 * rows (66% on the benchmark's eight small sets with the automatic
 * threshold).  Below VC_CROSSFIT_MAX_ROWS rows the sample holds
 * out-of-fold scores instead, the way cross-conformal calibration does:
 * the rows, in the split's seeded order, are cut into VC_CROSSFIT_FOLDS
 * folds, and each fold is scored by a network trained as the model was
 * (its options, at least as many Adam steps, in whole epochs, a seed
 * derived from the model's) on the other folds.
 *
 * Networks of different seeds put their scores on different scales (their
 * decoder variances differ), so a fold network's score is not used as it
 * is: it is read against that network's scores of its own training rows
 * and put where the model's scores of all the rows stand there
 * (MapToModel).  The sample thus says how a row the model has not seen
 * scores against the rows it trained on.  (Raw fold scores put 46% of new
 * rows above a 10% cut on a smooth 300-row curve that the model fits
 * without overfitting; mapped, 8-12%.)  Four folds: each network sees 75%
 * of the rows, close to the model's fit; on the benchmark's small sets the
 * automatic threshold then flags 7% of new normal rows with recall 0.64
 * (two folds, in a prototype: 2.7% and 0.45), for four more trainings of
 * three quarters of the rows each (4.5x the training time there).  From
 * VC_CROSSFIT_MAX_ROWS rows on the default holds out a validation split,
 * and training rows score like new ones there (letters: 0.2-0.5% of new
 * normal rows flagged).  m keeps its own weights (docs/detect.md,
 * "Out-of-fold score sample").
 */
#define VC_CROSSFIT_FOLDS		4
#define VC_CROSSFIT_MAX_ROWS	1000

/*
 * A fold network's score b of a row it did not train on, on the model's
 * scale: a = that network's scores of its own training rows, c = the
 * model's scores of all the rows, both ascending.  Within a's range, b's
 * quantile among a (interpolated as vc_sorted_quantile reads quantiles)
 * becomes the same quantile of c: where fold and model fit their rows alike
 * the sample then has the model's own distribution, whatever the shapes of
 * the two networks' distributions.  Beyond a's range (new rows scoring
 * above every training row, as on overfit small tables) the distance from
 * a's extreme, in a's interquartile ranges, is kept, in c's, from c's
 * extreme.  Monotone and continuous in b.
 */
static double
MapToModel(double b, const float *a, int na, double iqr_a, const float *c, int nc, double iqr_c)
{
	/* a degenerate a (all its scores alike) has no spread to count in */
	double		ratio = iqr_a > VC_ROBUST_MIN_IQR ? iqr_c / iqr_a : 1.0;
	int			lo = 0,
				hi = na - 1;
	double		frac;

	if (b <= a[0])
		return c[0] - (a[0] - b) * ratio;
	if (b >= a[na - 1])
		return c[nc - 1] + (b - a[na - 1]) * ratio;
	/* a[lo] <= b < a[hi] */
	while (hi - lo > 1)
	{
		int			mid = (lo + hi) / 2;

		if (a[mid] <= b)
			lo = mid;
		else
			hi = mid;
	}
	frac = a[hi] > a[lo] ? (b - a[lo]) / ((double) a[hi] - a[lo]) : 0.0;
	return vc_sorted_quantile(c, nc, 1.0 - (lo + frac) / (na - 1));
}

/*
 * Train m's weights afresh on the rows refs[idx[i]], i < n_fit, with seed
 * fold_seed, for at least steps Adam steps in whole epochs.  m->params are
 * the fold network's on success.
 */
static VcStatus
FitFold(VcModel *m, VcRowRef *refs, int64_t n, int64_t *idx, int64_t n_fit, int64_t steps,
		uint64_t fold_seed, const VcCallbacks *cb, VcEngine *engine, VcTicker *ticker,
		char *errmsg)
{
	uint64_t	eps_key = vc_mix64(fold_seed ^ KEY_EPS);
	int			batch = m->opt.batch_size < n_fit ? m->opt.batch_size : (int) n_fit;
	int64_t		done = 0;
	double		total;
	VcStatus	st;

	vc_model_init_params_seeded(m, fold_seed);
	st = engine->begin(engine, m, refs, n, batch, errmsg);
	for (int epoch = 1; st == VC_OK && done < steps; epoch++)
	{
		if (ShuffleEpoch(idx, n_fit, fold_seed, epoch, ticker))
		{
			snprintf(errmsg, VC_ERRMSG_LEN, "training was canceled");
			st = VC_ECANCELED;
		}
		else
			st = engine->train_epoch(engine, idx, n_fit, eps_key, &done, &total, cb, errmsg);
		if (st == VC_OK && !isfinite(total))
			st = VC_EDIVERGED;
	}
	if (st == VC_OK)
		st = engine->get_params(engine, m->params, errmsg);
	engine->end(engine);
	if (st == VC_OK && !vc_all_finite(m->params, m->n_params))
		st = VC_EDIVERGED;
	if (st == VC_EDIVERGED)
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "training diverged on a fold of the rows (the score sample of a "
				 "table under %d rows is scored out of fold); lower learning_rate",
				 VC_CROSSFIT_MAX_ROWS);
	return st;
}

static VcStatus
CrossFitSample(VcModel *m, VcRowRef *refs, const int64_t *order, int64_t n, int64_t steps,
			   const VcCallbacks *cb, VcEngine *engine, VcTicker *ticker, char *errmsg)
{
	int			ns = (int) n,
				f,
				k;
	float	   *weights = vc_alloc(sizeof(float) * m->n_params);
	int64_t    *idx = vc_alloc(sizeof(int64_t) * n);
	float	   *buf = vc_alloc(sizeof(float) * (size_t) ns * (2 * VC_N_METHODS + 1));
	float	   *model_sc[VC_N_METHODS],
			   *fold_sc[VC_N_METHODS],
			   *tmp;
	double		iqr[VC_N_METHODS];
	VcStatus	st;

	if (!weights || !idx || !buf)
	{
		vc_free(weights);
		vc_free(idx);
		vc_free(buf);
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory allocating the training workspace");
		return VC_ENOMEM;
	}
	for (k = 0; k < VC_N_METHODS; k++)
	{
		model_sc[k] = buf + (size_t) ns * k;
		fold_sc[k] = buf + (size_t) ns * (VC_N_METHODS + k);
	}
	tmp = buf + (size_t) ns * 2 * VC_N_METHODS;
	memcpy(weights, m->params, sizeof(float) * m->n_params);

	/* the model's scores of all the rows, ascending: the scale to map to */
	st = vc_score_sample_alloc(m, ns, errmsg);
	if (st == VC_OK)
		st = vc_score_sample_rows(m, refs, order, 0, ns, model_sc, cb, errmsg);
	for (k = 0; k < VC_N_METHODS && st == VC_OK; k++)
	{
		vc_sort_floats(model_sc[k], (size_t) ns);
		iqr[k] = vc_sorted_iqr(model_sc[k], ns);
	}

	for (f = 0; f < VC_CROSSFIT_FOLDS && st == VC_OK; f++)
	{
		int			lo = (int) (n * f / VC_CROSSFIT_FOLDS),
					hi = (int) (n * (f + 1) / VC_CROSSFIT_FOLDS);

		/* the other folds, in the split's order */
		memcpy(idx, order, sizeof(int64_t) * lo);
		memcpy(idx + lo, order + hi, sizeof(int64_t) * (ns - hi));
		st = FitFold(m, refs, n, idx, n - (hi - lo), steps,
					 vc_mix64(m->opt.seed ^ KEY_FOLD ^ ((uint64_t) f << 48)),
					 cb, engine, ticker, errmsg);
		if (st == VC_OK)
			st = vc_score_sample_rows(m, refs, order, 0, ns, fold_sc, cb, errmsg);
		for (k = 0; k < VC_N_METHODS && st == VC_OK; k++)
		{
			int			na = ns - (hi - lo);
			double		iqr_fold;

			/* the fold network's own training rows: outside [lo, hi) */
			memcpy(tmp, fold_sc[k], sizeof(float) * lo);
			memcpy(tmp + lo, fold_sc[k] + hi, sizeof(float) * (ns - hi));
			vc_sort_floats(tmp, (size_t) na);
			iqr_fold = vc_sorted_iqr(tmp, na);
			for (int i = lo; i < hi; i++)
			{
				double		v = MapToModel(fold_sc[k][i], tmp, na, iqr_fold,
										   model_sc[k], ns, iqr[k]);

				/* a row the fold network scores Infinity lies beyond every other */
				m->scores[k][i] = (float) (v > FLT_MAX ? FLT_MAX : v < -FLT_MAX ? -FLT_MAX : v);
			}
		}
	}
	if (st == VC_OK)
		st = vc_score_sample_finish(m, ns, errmsg);
	m->scores_out_of_fold = st == VC_OK;
	memcpy(m->params, weights, sizeof(float) * m->n_params);
	vc_free(weights);
	vc_free(idx);
	vc_free(buf);
	return st;
}

/*
 * Everything after the model exists and its rows are normalized: initial
 * weights, split, epochs with early stopping, the best weights, the score
 * sample.  On failure the caller frees m.
 */
static VcStatus
Fit(VcModel *m, VcRowRef *refs, int64_t n, const VcCallbacks *cb, VcEngine *engine,
	VcTicker *ticker, double t0, char *errmsg)
{
	const VcOptions *o = &m->opt;
	int64_t    *order = NULL;
	double	   *val_rows = NULL;
	int64_t		n_val,
				n_train,
				step = 0;
	double		best_val = INFINITY;
	int			epoch,
				since_best = 0,
				batch,
				begun = 0;
	uint64_t	eps_key,
				val_key;
	VcStatus	st;

	vc_model_init_params(m);

	n_val = (int64_t) floor(n * o->validation_fraction);
	n_train = n - n_val;
	if (n_train < 1)
	{
		n_val = n - 1;
		n_train = 1;
	}
	batch = o->batch_size < n_train ? o->batch_size : (int) n_train;
	m->train_loss = vc_alloc(sizeof(double) * o->epochs);
	m->val_loss = vc_alloc(sizeof(double) * o->epochs);
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
	if (Shuffle(order, n, vc_mix64(o->seed ^ KEY_SPLIT), ticker))
		goto canceled;
	eps_key = vc_mix64(o->seed ^ KEY_EPS);
	val_key = vc_mix64(o->seed ^ KEY_VAL);

	for (epoch = 1; epoch <= o->epochs; epoch++)
	{
		int64_t    *train_idx = order + n_val;
		double		total,
					val = NAN;

		if (ShuffleEpoch(train_idx, n_train, o->seed, epoch, ticker))
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
			val = vc_validation_criterion(val_rows, n_val, ticker);
			if (ticker->canceled)
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
		if (o->verbose && cb && cb->epoch_done)
			cb->epoch_done(cb->arg, epoch, m->train_loss[epoch - 1], val, vc_now() - t0);
		if (o->patience > 0 && n_val > 0 && since_best >= o->patience)
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
	if (n_val == 0 && n < VC_CROSSFIT_MAX_ROWS && n >= 2 * VC_CROSSFIT_FOLDS)
		st = CrossFitSample(m, refs, order, n, step, cb, engine, ticker, errmsg);
	else
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
	return st;
}

/* training needs at least VC_MIN_ROWS rows, whichever kind of model */
static VcStatus
CheckRowCount(int64_t n_rows, char *errmsg)
{
	if (n_rows >= VC_MIN_ROWS)
		return VC_OK;
	snprintf(errmsg, VC_ERRMSG_LEN, "vae_train needs at least %d rows, got %lld",
			 VC_MIN_ROWS, (long long) n_rows);
	return VC_EDATA;
}

/* train an array model on the CPU engine (vc.h has the contract) */
VcStatus
vc_train(VcRowRef *refs, int64_t n_rows, int dim, const VcOptions *opt,
		 const VcCallbacks *cb, VcModel **out, char *errmsg)
{
	VcEngine	cpu;

	vc_engine_cpu_init(&cpu);
	return vc_train_engine(refs, n_rows, dim, opt, cb, &cpu, out, errmsg);
}

/*
 * Train an array model on engine: canonical order and the max_rows cap, the
 * model's layout, then the normalization statistics and the fit; on success
 * *out is the new model.
 */
VcStatus
vc_train_engine(VcRowRef *refs, int64_t n_rows, int dim, const VcOptions *opt_in,
				const VcCallbacks *cb, VcEngine *engine, VcModel **out, char *errmsg)
{
	VcOptions	opt = *opt_in;
	VcModel    *m = NULL;
	int64_t		n;
	double		t0 = vc_now();
	VcStatus	st;
	VcTicker	ticker;

	*out = NULL;
	if ((st = CheckRowCount(n_rows, errmsg)) != VC_OK)
		return st;
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
	if (st == VC_OK)
		st = Fit(m, refs, n, cb, engine, &ticker, t0, errmsg);
	if (st != VC_OK)
		vc_model_free(m);
	else
		*out = m;
	return st;
}

/* ---- row models ---- */

/*
 * Scaled training values are clipped to this many robust standard
 * deviations.  Unclipped, a few wild rows (1e6 in a column of small numbers,
 * 1e5 robust standard deviations out) dominate the loss and the fit: in
 * bench/rows_scaling.c, 0.5% of such rows drop the ROC AUC of the other
 * columns' anomalies from 0.997 to 0.54 (0.92 clipped at 100, where
 * standard scaling gets 0.83).  100 keeps a real minority mode or a long
 * tail (which lie tens of robust standard deviations out, not thousands)
 * as it is.  Scoring does not clip: such a row scores as what it is.
 */
#define ROW_CLIP 100.0f

/* a value the compact row of column c cannot hold, at position pos of the rows trained on */
static VcStatus
BadValue(const VcColumn *c, int64_t pos, float v, char *errmsg)
{
	const char *want = c->kind == VC_COL_BOOLEAN ? "0 or 1" :
		c->kind == VC_COL_CATEGORICAL ? "a category code" : "a finite number";

	snprintf(errmsg, VC_ERRMSG_LEN,
			 "column \"%s\": training row %lld (in canonical order) has %g, not %s",
			 c->name, (long long) pos + 1, (double) v, want);
	return VC_EDATA;
}

/* 0 if v (not NULL) is a value column c can hold in a compact row */
static int
BadCompact(const VcColumn *c, float v)
{
	switch (c->kind)
	{
		case VC_COL_BOOLEAN:
			return v != 0.0f && v != 1.0f;
		case VC_COL_CATEGORICAL:
			return !(v >= 0.0f && v < (float) c->n_categories && v == floorf(v));
		default:
			return !isfinite(v);
	}
}

/* columns gathered per pass over the rows by ColumnStatistics */
#define STAT_BLOCK 4

/*
 * From the n rows trained on, into the working schema ws: each column's
 * NULL share and NULL unit, a check of every value, the robust scaling of
 * continuous columns (other kinds: 0 and 1).  STAT_BLOCK columns at a time,
 * each through a buffer of n floats, the only memory it takes: the rows
 * are row-major (and in canonical order, scattered over the buffer), so a
 * pass per column read every row's cache lines once per column; a pass per
 * block reads them a quarter as often.  Each column's values, its first
 * bad value and the order of the errors and ticks are those of a pass per
 * column.  Interruptible.
 */
static VcStatus
ColumnStatistics(VcSchema *ws, const VcRowRef *refs, int64_t n, VcTicker *t, char *errmsg)
{
	float	   *work = vc_alloc(sizeof(float) * (size_t) n * STAT_BLOCK);
	VcStatus	st = VC_OK;
	int64_t		i;
	int			c0;

	if (!work)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory computing the column statistics");
		return VC_ENOMEM;
	}
	for (c0 = 0; c0 < ws->n_columns && st == VC_OK; c0 += STAT_BLOCK)
	{
		int			nb = ws->n_columns - c0 < STAT_BLOCK ? ws->n_columns - c0 : STAT_BLOCK,
					b;
		int64_t		m[STAT_BLOCK],
					bad[STAT_BLOCK];

		for (b = 0; b < nb; b++)
		{
			m[b] = 0;
			bad[b] = -1;
		}
		for (i = 0; i < n; i++)
		{
			const float *row = refs[i].row + c0;

			for (b = 0; b < nb; b++)
			{
				float		v = row[b];

				if (vc_is_null(v) || bad[b] >= 0)
					continue;
				if (BadCompact(&ws->columns[c0 + b], v))
					bad[b] = i;
				else
					work[(size_t) b * (size_t) n + (size_t) m[b]++] = v;
			}
		}
		for (b = 0; b < nb; b++)
		{
			VcColumn   *col = &ws->columns[c0 + b];

			if (bad[b] >= 0)
			{
				st = BadValue(col, bad[b], refs[bad[b]].row[c0 + b], errmsg);
				break;
			}
			col->null_share = (float) ((double) (n - m[b]) / (double) n);
			col->has_null_unit = m[b] < n;
			col->center = 0.0f;
			col->scale = 1.0f;
			/* the scan above streams n values per column; the selections tick as they go */
			if ((col->kind == VC_COL_CONTINUOUS &&
				 vc_robust_scale_values(work + (size_t) b * (size_t) n, m[b], &col->center,
										&col->scale, t)) ||
				vc_tick(t, 1 + n / 16))
			{
				snprintf(errmsg, VC_ERRMSG_LEN, "training was canceled");
				st = VC_ECANCELED;
				break;
			}
		}
	}
	vc_free(work);
	return st;
}

/* normalize the rows in place by the model's schema, clipping scaled values at ROW_CLIP */
static VcStatus
NormalizeRows(const VcModel *m, VcRowRef *refs, int64_t n, VcTicker *t, char *errmsg)
{
	const VcSchema *s = m->schema;
	int64_t		i;
	int			c;

	for (i = 0; i < n; i++)
	{
		float	   *x = refs[i].row;

		vc_schema_normalize(s, x, x);
		for (c = 0; c < s->n_columns; c++)
			if (s->columns[c].kind == VC_COL_CONTINUOUS && !vc_is_null(x[c]))
				x[c] = x[c] > ROW_CLIP ? ROW_CLIP : (x[c] < -ROW_CLIP ? -ROW_CLIP : x[c]);
		if (vc_tick(t, 1 + s->n_columns / 16))
		{
			snprintf(errmsg, VC_ERRMSG_LEN, "training was canceled");
			return VC_ECANCELED;
		}
	}
	return VC_OK;
}

/*
 * Train a row model on the CPU engine: check the options and the schema, put
 * the rows in canonical order and cap them at max_rows, compute each
 * column's statistics on the rows kept, lay out the model, normalize the
 * rows in place and fit.
 */
VcStatus
vc_train_rows(VcRowRef *refs, int64_t n_rows, const VcSchema *schema, const VcOptions *opt_in,
			  const VcCallbacks *cb, VcModel **out, char *errmsg)
{
	VcOptions	opt = *opt_in;
	VcSchema   *ws = NULL;
	VcModel    *m = NULL;
	VcEngine	cpu;
	VcTicker	ticker;
	int64_t		n;
	double		t0 = vc_now();
	VcStatus	st;
	int			nc = schema->n_columns;

	*out = NULL;
	if ((st = CheckRowCount(n_rows, errmsg)) != VC_OK)
		return st;
	if (opt.likelihood != VC_LIK_GAUSSIAN || opt.normalize != -1)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "options likelihood and normalize apply to array "
				 "models only: a row model picks each column's by its kind");
		return VC_EINVAL;
	}
	if ((st = vc_options_check(&opt, 1, errmsg)) != VC_OK)
		return st;
	ws = vc_schema_copy(schema);
	if (!ws)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory copying the column schema");
		return VC_ENOMEM;
	}
	/* the columns must be valid before any work; their statistics come later */
	if ((st = vc_schema_layout(ws, errmsg)) != VC_OK)
		goto done;

	vc_ticker_init(&ticker, cb);
	vc_phase(cb, VC_PHASE_SORT, n_rows);
	if ((st = vc_canonical_sort(refs, n_rows, nc, cb, errmsg)) != VC_OK)
		goto done;
	n = opt.max_rows > 0 && n_rows > opt.max_rows ? opt.max_rows : n_rows;

	vc_phase(cb, VC_PHASE_NORMALIZE, n);
	if ((st = ColumnStatistics(ws, refs, n, &ticker, errmsg)) != VC_OK ||
		(st = vc_schema_layout(ws, errmsg)) != VC_OK ||
		(st = vc_options_resolve(&opt, n_rows, ws->input_width, errmsg)) != VC_OK ||
		(st = vc_model_create_rows(&m, &opt, ws, errmsg)) != VC_OK)
		goto done;
	m->rows = n;
	if ((st = NormalizeRows(m, refs, n, &ticker, errmsg)) != VC_OK)
		goto done;
	vc_engine_cpu_init(&cpu);
	st = Fit(m, refs, n, cb, &cpu, &ticker, t0, errmsg);

done:
	vc_schema_free(ws);
	if (st != VC_OK)
		vc_model_free(m);
	else
		*out = m;
	return st;
}
