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
#include <time.h>

#include "vc_nn.h"

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8

/* keys of the independent random streams */
#define KEY_SPLIT	0x53504c4954ULL	/* "SPLIT" */
#define KEY_SHUFFLE 0x5348554646ULL	/* "SHUFF" */
#define KEY_EPS		0x455053ULL		/* "EPS" */
#define KEY_VAL		0x56414cULL		/* "VAL" */

/* ---- canonical order ---- */

int
vc_row_compare(const VcRowRef *a, const VcRowRef *b, int dim)
{
	int			i;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	for (i = 0; i < dim; i++)
	{
		if (a->row[i] != b->row[i])
			return a->row[i] < b->row[i] ? -1 : 1;
	}
	return 0;
}

static int	sort_dim;			/* qsort has no context argument in C99 */

static int
RowRefCmp(const void *a, const void *b)
{
	return vc_row_compare(a, b, sort_dim);
}

void
vc_canonical_sort(VcRowRef *refs, int64_t n, int dim)
{
	sort_dim = dim;
	qsort(refs, (size_t) n, sizeof(VcRowRef), RowRefCmp);
}

/*
 * Bottom-k by (hash, values).  Sorting is O(n log n) but the aggregate calls
 * this only when its buffer doubles past k, so the amortized cost is small.
 */
int64_t
vc_bottom_k(VcRowRef *refs, int64_t n, int64_t k, int dim)
{
	vc_canonical_sort(refs, n, dim);
	return n < k ? n : k;
}

/* ---- normalization ---- */

static double
Now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * Statistics in double over all rows.  A constant column (min == max) gets
 * scale 1 so it normalizes to 0 instead of dividing by zero.
 */
static VcStatus
Normalize(VcModel *m, VcRowRef *refs, int64_t n, char *errmsg)
{
	int			d = m->dim,
				j;
	int64_t		i;
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
	}
	for (i = 0; i < n; i++)
	{
		const float *x = refs[i].row;

		for (j = 0; j < d; j++)
		{
			double		dev = x[j] - sum[j] / n;

			sq[j] += dev * dev;
		}
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
	}
done:
	vc_free(sum);
	vc_free(sq);
	vc_free(lo);
	vc_free(hi);
	return st;
}

/* ---- training ---- */

/* Fisher-Yates driven by the counter-based generator */
static void
Shuffle(int64_t *idx, int64_t n, uint64_t key)
{
	int64_t		i;

	for (i = n - 1; i > 0; i--)
	{
		int64_t		j = (int64_t) (vc_uniform(key, (uint64_t) i) * (double) (i + 1));
		int64_t		t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
	}
}

static inline void
CheckInterrupts(const VcCallbacks *cb)
{
	if (cb && cb->check_interrupts)
		cb->check_interrupts(cb->arg);
}

static void
Gather(VcNet *net, VcRowRef *refs, const int64_t *idx, int n)
{
	int			d = net->m->dim,
				r;

	for (r = 0; r < n; r++)
		memcpy(net->x + (size_t) r * d, refs[idx[r]].row, sizeof(float) * d);
}

typedef struct Adam
{
	float	   *m1;
	float	   *m2;
	int64_t		t;
} Adam;

/* Adam with decoupled (AdamW) weight decay on weight matrices, not biases */
static void
AdamStep(VcModel *m, Adam *adam, const float *g)
{
	const VcOptions *o = &m->opt;
	double		c1,
				c2;
	float		lr,
				decay;
	int			l;
	size_t		i;

	adam->t++;
	c1 = 1.0 - pow(ADAM_BETA1, (double) adam->t);
	c2 = 1.0 - pow(ADAM_BETA2, (double) adam->t);
	lr = (float) (o->learning_rate / c1);
	for (i = 0; i < m->n_params; i++)
	{
		float		gi = g[i];
		float		m1 = adam->m1[i] = (float) ADAM_BETA1 * adam->m1[i] + (float) (1 - ADAM_BETA1) * gi;
		float		m2 = adam->m2[i] = (float) ADAM_BETA2 * adam->m2[i] + (float) (1 - ADAM_BETA2) * gi * gi;

		m->params[i] -= lr * m1 / (sqrtf(m2 / (float) c2) + (float) ADAM_EPS);
	}
	if (o->weight_decay > 0)
	{
		decay = (float) (1.0 - o->learning_rate * o->weight_decay);
		for (l = 0; l < m->n_layers; l++)
		{
			float	   *w = m->params + m->layers[l].w_off;
			size_t		n = (size_t) m->layers[l].in * m->layers[l].out;

			for (i = 0; i < n; i++)
				w[i] *= decay;
		}
	}
}

/* one forward/backward over a gathered batch; returns the summed loss */
static double
BatchLossAndGrad(VcNet *net, int n, double beta, int with_grad)
{
	double		total = vc_net_forward(net, n, beta);

	if (with_grad && isfinite(total))
		vc_net_backward(net, n, beta);
	return total;
}

/* Validation loss: same objective, fixed eps per validation row across epochs */
static double
ValidationLoss(VcNet *net, VcRowRef *refs, const int64_t *idx, int64_t n_val,
			   const VcCallbacks *cb)
{
	const VcModel *m = net->m;
	uint64_t	key = vc_mix64(m->opt.seed ^ KEY_VAL);
	double		total = 0.0;
	int64_t		at;

	for (at = 0; at < n_val; at += net->cap)
	{
		int			n = (int) (n_val - at < net->cap ? n_val - at : net->cap);

		CheckInterrupts(cb);
		Gather(net, refs, idx + at, n);
		vc_normals(key, (uint64_t) at * net->latent, net->eps, (size_t) n * net->latent);
		total += BatchLossAndGrad(net, n, m->opt.beta, 0);
	}
	return total / (double) n_val;
}

static int
AllFinite(const float *p, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (!isfinite(p[i]))
			return 0;
	return 1;
}

static int
FloatCmp(const void *a, const void *b)
{
	float		x = *(const float *) a,
				y = *(const float *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* scores of a sample of the training rows, sorted per method, for vae_threshold */
static VcStatus
RecordScoreDistribution(VcModel *m, VcRowRef *refs, const int64_t *order, int64_t n,
						const VcCallbacks *cb, char *errmsg)
{
	int			ns = (int) (n < VC_MAX_SCORE_SAMPLE ? n : VC_MAX_SCORE_SAMPLE);
	VcScratch  *s = vc_scratch_create(m);
	int			i,
				k;

	for (k = 0; k < VC_N_METHODS; k++)
		m->scores[k] = vc_alloc(sizeof(float) * ns);
	if (!s || !m->scores[0] || !m->scores[1] || !m->scores[2])
	{
		vc_scratch_free(s);
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory scoring the training rows");
		return VC_ENOMEM;
	}
	for (i = 0; i < ns; i++)
	{
		double		sc[VC_N_METHODS];

		if (i % 64 == 0)
			CheckInterrupts(cb);
		vc_score_normalized(m, s, refs[order[i]].row, (1u << VC_N_METHODS) - 1, sc);
		for (k = 0; k < VC_N_METHODS; k++)
			m->scores[k][i] = (float) sc[k];
	}
	vc_scratch_free(s);
	for (k = 0; k < VC_N_METHODS; k++)
	{
		if (!AllFinite(m->scores[k], ns))
		{
			snprintf(errmsg, VC_ERRMSG_LEN,
					 "training produced a model whose %s scores are not finite; "
					 "lower learning_rate or check the scale of the input",
					 vc_method_name(k));
			return VC_EDIVERGED;
		}
		qsort(m->scores[k], ns, sizeof(float), FloatCmp);
	}
	m->n_scores = ns;
	return VC_OK;
}

VcStatus
vc_train(VcRowRef *refs, int64_t n_rows, int dim, const VcOptions *opt_in,
		 const VcCallbacks *cb, VcModel **out, char *errmsg)
{
	VcOptions	opt = *opt_in;
	VcModel    *m = NULL;
	VcNet		net;
	Adam		adam = {0};
	float	   *best = NULL;
	int64_t    *order = NULL;
	int64_t		n,
				n_val,
				n_train,
				step = 0;
	double		t0 = Now(),
				best_val = INFINITY;
	int			epoch,
				since_best = 0,
				cap;
	uint64_t	eps_key;
	VcStatus	st;

	*out = NULL;
	memset(&net, 0, sizeof(net));
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
	vc_canonical_sort(refs, n_rows, dim);
	n = opt.max_rows > 0 && n_rows > opt.max_rows ? opt.max_rows : n_rows;

	st = vc_model_create(&m, &opt, dim, errmsg);
	if (st != VC_OK)
		return st;
	m->rows = n;
	st = Normalize(m, refs, n, errmsg);
	if (st != VC_OK)
		goto fail;
	vc_model_init_params(m);

	n_val = (int64_t) floor(n * opt.validation_fraction);
	n_train = n - n_val;
	if (n_train < 1)
	{
		n_val = n - 1;
		n_train = 1;
	}
	cap = opt.batch_size < n_train ? opt.batch_size : (int) n_train;
	m->train_loss = vc_alloc(sizeof(double) * opt.epochs);
	m->val_loss = vc_alloc(sizeof(double) * opt.epochs);
	order = vc_alloc(sizeof(int64_t) * n);
	adam.m1 = vc_alloc0(sizeof(float) * m->n_params);
	adam.m2 = vc_alloc0(sizeof(float) * m->n_params);
	best = n_val > 0 ? vc_alloc(sizeof(float) * m->n_params) : NULL;
	if (!m->train_loss || !m->val_loss || !order || !adam.m1 || !adam.m2 ||
		(n_val > 0 && !best) || vc_net_init(&net, m, cap, 1) != VC_OK)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory allocating the training workspace");
		st = VC_ENOMEM;
		goto fail;
	}

	/* validation rows first, training rows after, by one seeded permutation */
	for (int64_t i = 0; i < n; i++)
		order[i] = i;
	Shuffle(order, n, vc_mix64(opt.seed ^ KEY_SPLIT));
	eps_key = vc_mix64(opt.seed ^ KEY_EPS);

	for (epoch = 1; epoch <= opt.epochs; epoch++)
	{
		int64_t    *train_idx = order + n_val;
		double		total = 0.0,
					val = NAN;
		int64_t		at;
		int			bs = opt.batch_size < n_train ? opt.batch_size : (int) n_train;

		Shuffle(train_idx, n_train, vc_mix64(opt.seed ^ KEY_SHUFFLE ^ ((uint64_t) epoch << 40)));
		for (at = 0; at < n_train; at += bs)
		{
			int			nb = (int) (n_train - at < bs ? n_train - at : bs);
			double		loss;

			CheckInterrupts(cb);
			Gather(&net, refs, train_idx + at, nb);
			vc_normals(eps_key, (uint64_t) step * bs * net.latent, net.eps,
					   (size_t) nb * net.latent);
			loss = BatchLossAndGrad(&net, nb, opt.beta, 1);
			if (!isfinite(loss))
			{
				snprintf(errmsg, VC_ERRMSG_LEN,
						 "training diverged at epoch %d: the loss is not finite; "
						 "lower learning_rate, or normalize the input ('standard')",
						 epoch);
				st = VC_EDIVERGED;
				goto fail;
			}
			total += loss;
			AdamStep(m, &adam, net.grads);
			step++;
		}
		m->train_loss[epoch - 1] = total / (double) n_train;
		m->epochs_run = epoch;
		if (n_val > 0)
		{
			val = ValidationLoss(&net, refs, order, n_val, cb);
			if (!isfinite(val))
			{
				snprintf(errmsg, VC_ERRMSG_LEN,
						 "training diverged at epoch %d: the validation loss is not "
						 "finite; lower learning_rate", epoch);
				st = VC_EDIVERGED;
				goto fail;
			}
			if (val < best_val)
			{
				best_val = val;
				m->best_epoch = epoch;
				memcpy(best, m->params, sizeof(float) * m->n_params);
				since_best = 0;
			}
			else
				since_best++;
		}
		else
			m->best_epoch = epoch;
		m->val_loss[epoch - 1] = val;
		if (opt.verbose && cb && cb->epoch_done)
			cb->epoch_done(cb->arg, epoch, m->train_loss[epoch - 1], val, Now() - t0);
		if (opt.patience > 0 && n_val > 0 && since_best >= opt.patience)
			break;
	}
	if (best)
		memcpy(m->params, best, sizeof(float) * m->n_params);
	if (!AllFinite(m->params, m->n_params))
	{
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "training diverged: the weights are not finite; lower learning_rate");
		st = VC_EDIVERGED;
		goto fail;
	}
	st = RecordScoreDistribution(m, refs, order, n, cb, errmsg);
	if (st != VC_OK)
		goto fail;
	m->train_seconds = Now() - t0;
	m->device = VC_DEVICE_CPU;

	vc_net_free(&net);
	vc_free(adam.m1);
	vc_free(adam.m2);
	vc_free(best);
	vc_free(order);
	*out = m;
	return VC_OK;

fail:
	vc_net_free(&net);
	vc_free(adam.m1);
	vc_free(adam.m2);
	vc_free(best);
	vc_free(order);
	vc_model_free(m);
	return st;
}
