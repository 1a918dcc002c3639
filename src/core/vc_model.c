/*
 * vc_model.c - options, model layout, parameter initialization, allocation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vc.h"
#include "vc_options.h"
#include "vc_schema.h"

/* ---- allocation hooks ---- */

static VcAllocFn alloc_hook = malloc;
static VcFreeFn free_hook = free;

/* routes vc_alloc()/vc_free() to the host; NULL restores malloc/free */
void
vc_set_allocator(VcAllocFn alloc_fn, VcFreeFn free_fn)
{
	alloc_hook = alloc_fn ? alloc_fn : malloc;
	free_hook = free_fn ? free_fn : free;
}

/* seconds on the monotonic clock: only differences mean anything */
double
vc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* via the hook; size 0 asks for 1 byte, so NULL always means out of memory */
void *
vc_alloc(size_t size)
{
	return alloc_hook(size ? size : 1);
}

/* vc_alloc() with the memory zeroed */
void *
vc_alloc0(size_t size)
{
	void	   *p = vc_alloc(size);

	if (p)
		memset(p, 0, size ? size : 1);
	return p;
}

/* through the free hook; NULL is ignored */
void
vc_free(void *ptr)
{
	if (ptr)
		free_hook(ptr);
}

/* ---- names (the option enums' names are in the option table) ---- */

/* SQL name of a scoring method (VC_METHOD_*); others get "recon_prob" */
const char *
vc_method_name(int v)
{
	switch (v)
	{
		case VC_METHOD_ELBO:
			return "elbo";
		case VC_METHOD_MSE:
			return "mse";
		default:
			return "recon_prob";
	}
}

/* ---- options ---- */

/* v clamped to [lo, hi] */
static int
ClampInt(int64_t v, int lo, int hi)
{
	return v < lo ? lo : (v > hi ? hi : (int) v);
}

/*
 * The default rule ("Rule R", docs/detect.md "Defaults in 1.1"): what a
 * careful practitioner would pick from the table's shape, measured on ten
 * public sets against the classical detectors.
 *
 * - A budget of VC_DEFAULT_STEPS Adam steps rather than a number of epochs:
 *   epochs = ceil(steps / steps per epoch) within [5, VC_DEFAULT_STEPS], so
 *   a table of one minibatch trains 10,000 steps instead of 100 and a large
 *   one about as long as before.  Below 1,000 rows nothing is held out (a
 *   handful of validation rows stops training at noise); the small sizes
 *   and the fixed budget are the guard against overfitting there (not
 *   enough for every table: docs/tables.md, dna).
 * - weight decay (AdamW) VC_DEFAULT_WEIGHT_DECAY when nothing is held out
 *   (below 1,000 rows by default), none otherwise: without held-out rows
 *   there is no early stopping, and the step budget alone overfit the
 *   small tables (their training rows scored far below new ones).  On the
 *   nine detection sets under 1,000 rows (3 split seeds) mean AUC / AP
 *   0.892 / 0.644 without decay, 0.898 / 0.653 at 0.03, 0.897 / 0.667 at
 *   0.1, 0.902 / 0.674 at 0.3 and 0.829 / 0.505 at 1 (too strong: vowel
 *   0.55); on bench/tables.sh's row path 0.883 / 0.590 -> 0.899 / 0.607
 *   (0.1) -> 0.912 / 0.658 (0.3), dna 0.831 -> 0.907 (docs/detect.md,
 *   "Weight decay without a validation split").  With a validation split
 *   early stopping is the guard, and decay 0.1 cost the 25-letter set
 *   0.016 AUC / 0.076 AP.
 * - latent = ceil(D/12), but at least min(10, ceil(D/2)), at most 20: low-
 *   dimensional tables get a latent of 8-10 instead of 2.
 * - hidden: one layer of ceil(D/2) within [max(8, 2 latent), 512]; from
 *   VC_DEFAULT_BIG_ROWS rows on two layers within [max(64, 2 latent), 512]:
 *   a large table holds enough rows for the capacity that multi-modal
 *   normal data (many clusters) needs.
 *
 * - method (the model's scoring method, what the scoring functions use when
 *   a call names none): elbo.  Its KL term is the latent density the
 *   reconstruction probability ignores: on the detection benchmark (5 split
 *   seeds) mean AUC / AP 0.911 / 0.668 with recon_prob, 0.914 / 0.678 with
 *   elbo, and on the 25-letter set, whose normal rows are many clusters,
 *   0.937 / 0.667 -> 0.951 / 0.758, seed spread 0.033 -> 0.021
 *   (docs/detect.md, "Scoring by the ELBO").  Models before 1.1 read as
 *   recon_prob (format versions 1 and 2).
 *
 * The rule is the same for bernoulli: it sizes the network from the number
 * of inputs and the rows, not from the output distribution (docs/detect.md).
 * n_rows is the table's row count: the validation split counts it before
 * max_rows (as 1.0 did), the epochs and the 5,000-row threshold after.
 * One network per model unless the option ensemble asks for more: three
 * networks halve the seed spread on the detection benchmark (mean 0.053 ->
 * 0.022 AUC) but move the mean AUC / AP by +0.002 / +0.007 only, at three
 * times the training, the scoring and about four times the bytes, and
 * their score is a robust z-score rather than nats (docs/detect.md,
 * "Ensembles in the extension").
 */
#define VC_DEFAULT_STEPS	10000
#define VC_DEFAULT_BIG_ROWS 5000
#define VC_DEFAULT_WEIGHT_DECAY 0.3

VcStatus
vc_options_resolve(VcOptions *opt, int64_t n_rows, int dim, char *errmsg)
{
	int64_t		n_train;
	VcStatus	st;

	if (dim < 1 || dim > VC_MAX_INPUT_DIM)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "rows have %d features; the limit is %d",
				 dim, VC_MAX_INPUT_DIM);
		return VC_ELIMIT;
	}
	/* what was given must be valid as given: -0.5 is no "not given" */
	if ((st = vc_options_check(opt, 1, errmsg)) != VC_OK)
		return st;
	if (opt->normalize < 0)
		opt->normalize = opt->likelihood == VC_LIK_BERNOULLI ? VC_NORM_MINMAX : VC_NORM_STANDARD;
	if (opt->learning_rate < 0)
		opt->learning_rate = 1e-3;
	if (opt->beta < 0)
		opt->beta = 1.0;
	if (opt->validation_fraction < 0)
		opt->validation_fraction = n_rows >= 1000 ? 0.1 : 0.0;
	if (opt->weight_decay < 0)
		opt->weight_decay = opt->validation_fraction > 0 ? 0.0 : VC_DEFAULT_WEIGHT_DECAY;
	if (opt->patience < 0)
		opt->patience = opt->validation_fraction > 0 ? 10 : 0;
	if (opt->mc_samples < 0)
		opt->mc_samples = 10;
	if (opt->method < 0)
		opt->method = VC_METHOD_ELBO;

	/* sampling cap applies before everything else */
	if (opt->max_rows > 0 && n_rows > opt->max_rows)
		n_rows = opt->max_rows;
	if (opt->ensemble < 0)
		opt->ensemble = 1;
	n_train = n_rows - (int64_t) floor(n_rows * opt->validation_fraction);
	if (n_train < 1)
		n_train = 1;
	if (opt->batch_size < 0)
		opt->batch_size = 128;
	if (opt->epochs < 0)
	{
		int64_t		bs = opt->batch_size < n_train ? opt->batch_size : n_train;
		int64_t		steps = (n_train + bs - 1) / bs;

		opt->epochs = ClampInt((VC_DEFAULT_STEPS + steps - 1) / steps, 5, VC_DEFAULT_STEPS);
	}
	if (opt->latent_dim < 0)
	{
		int			half = (dim + 1) / 2;

		opt->latent_dim = ClampInt((dim + 11) / 12, half < 10 ? half : 10, 20);
	}
	if (opt->n_hidden < 0)
	{
		/* about half the input, at least twice the latent size, within limits */
		int			big = n_rows >= VC_DEFAULT_BIG_ROWS,
					floor_width = big ? 64 : 8,
					lo = opt->latent_dim * 2 > floor_width ? opt->latent_dim * 2 : floor_width,
					hi = lo > 512 ? lo : 512,
					i;

		opt->n_hidden = big ? 2 : 1;
		for (i = 0; i < opt->n_hidden; i++)
			opt->hidden[i] = ClampInt((dim + 1) / 2, lo < VC_MAX_WIDTH ? lo : VC_MAX_WIDTH,
									  hi < VC_MAX_WIDTH ? hi : VC_MAX_WIDTH);
	}

	/* the resolved set must pass the same check as every reader's */
	return vc_options_check(opt, 0, errmsg);
}

/* ---- model layout ---- */

/*
 * Appends an in -> out layer: its weights (in x out, row-major), then its
 * bias, take the next parameters.
 */
static void
AddLayer(VcModel *m, int in, int out)
{
	VcLayer    *l = &m->layers[m->n_layers++];

	l->in = in;
	l->out = out;
	l->w_off = m->n_params;
	m->n_params += (size_t) in * out;
	l->b_off = m->n_params;
	m->n_params += (size_t) out;
}

/*
 * Layer order: encoder hidden layers, encoder head (latent mean and raw
 * log-variance side by side), decoder hidden layers (the encoder's widths in
 * reverse), decoder head (mean, plus raw log-variance for gaussian; a row
 * model's head_dim units, head_dim > 0).  Allocates nothing, so the model
 * reader can size-check a header with it.
 */
static void
BuildLayout(VcModel *m, const VcOptions *opt, int dim, int head_dim)
{
	int			i,
				prev = dim;

	m->opt = *opt;
	m->opt.ensemble = 1;		/* a model built here is one network */
	m->dim = dim;
	m->n_layers = 0;
	m->n_params = 0;
	for (i = 0; i < opt->n_hidden; i++)
	{
		AddLayer(m, prev, opt->hidden[i]);
		prev = opt->hidden[i];
	}
	m->enc_head = m->n_layers;
	AddLayer(m, prev, 2 * opt->latent_dim);
	prev = opt->latent_dim;
	for (i = opt->n_hidden - 1; i >= 0; i--)
	{
		AddLayer(m, prev, opt->hidden[i]);
		prev = opt->hidden[i];
	}
	m->dec_head = m->n_layers;
	if (head_dim <= 0)
		head_dim = opt->likelihood == VC_LIK_GAUSSIAN ? 2 * dim : dim;
	m->n_cols = dim;
	m->head_dim = head_dim;
	AddLayer(m, prev, head_dim);
}

/* parameters of the layout; the options must be within the documented limits */
size_t
vc_layout_param_count(const VcOptions *opt, int dim)
{
	VcModel		tmp;

	memset(&tmp, 0, sizeof(tmp));
	BuildLayout(&tmp, opt, dim, 0);
	return tmp.n_params;
}

/* the same for a row model: the input and head widths of a laid-out schema */
size_t
vc_schema_param_count(const VcOptions *opt, const VcSchema *s)
{
	VcModel		tmp;

	memset(&tmp, 0, sizeof(tmp));
	BuildLayout(&tmp, opt, s->input_width, s->head_width);
	return tmp.n_params;
}

/*
 * A zeroed model of dim inputs laid out by BuildLayout with decoder head
 * head_dim (0: an array model's), center 0 and scale 1.
 */
static VcStatus
CreateModel(VcModel **out, const VcOptions *opt, int dim, int head_dim, char *errmsg)
{
	VcModel    *m;
	int			i;

	*out = NULL;
	m = vc_alloc0(sizeof(VcModel));
	if (!m)
		goto oom;
	BuildLayout(m, opt, dim, head_dim);
	m->params = vc_alloc0(m->n_params * sizeof(float));
	m->center = vc_alloc0((size_t) dim * sizeof(float));
	m->scale = vc_alloc((size_t) dim * sizeof(float));
	if (!m->params || !m->center || !m->scale)
		goto oom;
	for (i = 0; i < dim; i++)
		m->scale[i] = 1.0f;
	m->best_epoch = 0;
	m->device = VC_DEVICE_CPU;
	*out = m;
	return VC_OK;

oom:
	vc_model_free(m);
	snprintf(errmsg, VC_ERRMSG_LEN, "out of memory creating the model");
	return VC_ENOMEM;
}

/*
 * A new model for resolved options and dim: the layout, zeroed parameters,
 * centers 0 and scales 1, no history or scores yet.  VC_ENOMEM with a
 * message in errmsg (which must not be NULL) when an allocation fails.
 */
VcStatus
vc_model_create(VcModel **out, const VcOptions *opt, int dim, char *errmsg)
{
	return CreateModel(out, opt, dim, 0, errmsg);
}

/*
 * A row model: the schema is copied and laid out again (so the model never
 * shares it with the caller and its derived fields are right); dim and the
 * decoder head follow from it.  center and scale stay all 0 and 1 (the
 * schema holds the scaling of each column), so code that reads them for an
 * array model reads harmless values.
 */
VcStatus
vc_model_create_rows(VcModel **out, const VcOptions *opt, const VcSchema *schema,
					 char *errmsg)
{
	VcSchema   *s;
	VcModel    *m = NULL;
	VcStatus	st;

	*out = NULL;
	s = vc_schema_copy(schema);
	if (!s)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory creating the model");
		return VC_ENOMEM;
	}
	if ((st = vc_schema_layout(s, errmsg)) != VC_OK ||
		(st = CreateModel(&m, opt, s->input_width, s->head_width, errmsg)) != VC_OK)
	{
		vc_schema_free(s);
		return st;
	}
	m->n_cols = s->n_columns;
	m->schema = s;
	*out = m;
	return VC_OK;
}

/* frees m and every array it owns (an ensemble: its members); NULL is a no-op */
void
vc_model_free(VcModel *m)
{
	int			i;

	if (!m)
		return;
	if (m->n_members > 1)
	{
		/* an ensemble view: its own scores and robust statistics, the members */
		for (i = 0; i < VC_N_METHODS; i++)
			vc_free(m->scores[i]);
		if (m->members)
			for (i = 0; i < m->n_members; i++)
				vc_model_free(m->members[i]);
		vc_free(m->members);
		vc_free(m->robust);
		vc_free(m);
		return;
	}
	vc_schema_free(m->schema);
	vc_free(m->params);
	vc_free(m->center);
	vc_free(m->scale);
	vc_free(m->train_loss);
	vc_free(m->val_loss);
	for (i = 0; i < VC_N_METHODS; i++)
		vc_free(m->scores[i]);
	vc_free(m);
}

/*
 * He-uniform for relu layers, Glorot-uniform for tanh layers and the linear
 * heads; biases start at zero.  Draws come from the counter-based generator
 * keyed by the seed, so the GPU worker initializes identically.
 */
void
vc_model_init_params(VcModel *m)
{
	vc_model_init_params_seeded(m, m->opt.seed);
}

/* the same from another seed (the out-of-fold networks of vc_train.c) */
void
vc_model_init_params_seeded(VcModel *m, uint64_t seed)
{
	uint64_t	key = vc_mix64(seed ^ 0x494e4954ULL);	/* "INIT" */
	uint64_t	counter = 0;
	int			l;

	for (l = 0; l < m->n_layers; l++)
	{
		VcLayer    *ly = &m->layers[l];
		int			is_head = (l == m->enc_head || l == m->dec_head);
		double		a;
		size_t		i,
					n = (size_t) ly->in * ly->out;

		if (!is_head && m->opt.activation == VC_ACT_RELU)
			a = sqrt(6.0 / ly->in);
		else
		{
			int			fan_out = l == m->enc_head ? m->opt.latent_dim :
				l == m->dec_head ? m->dim : ly->out;

			a = sqrt(6.0 / (ly->in + fan_out));
		}
		for (i = 0; i < n; i++)
			m->params[ly->w_off + i] = (float) ((2.0 * vc_uniform(key, counter++) - 1.0) * a);
		memset(m->params + ly->b_off, 0, sizeof(float) * ly->out);
	}
}
