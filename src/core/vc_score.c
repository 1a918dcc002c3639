/*
 * vc_score.c - scoring, encoding, reconstruction and generation, one row at
 * a time.
 *
 * Scores are computed in normalized units:
 *   mse        mean over features of (xn - decoder mean at z = mu)^2
 *   recon_prob An & Cho (2015): -log (1/L) sum_l p(xn | z_l), z_l ~ q(z|xn),
 *              with log-sum-exp in double precision
 *   elbo       negative ELBO (KL weight 1): mean_l -log p(xn | z_l) + KL(q || p)
 * The L latent draws are keyed by a hash of the row's own (normalized) bits,
 * so a row always gets the same score whatever the query, plan or call order.
 *
 * A row model's scores are over its mixed likelihood (vc_schema.h): the
 * reconstruction term is the sum of the columns' terms, and mse is the mean
 * squared difference between the row's network input units and what the
 * decoder expects of them (means; probabilities, so a categorical column
 * adds its Brier score), over the units of non-NULL values and every NULL
 * flag.  Its rows arrive compact (n_cols floats) and are normalized into
 * the scratch's target row, then expanded into the network input.
 *
 * An overflowing score is +Infinity.  The network and the likelihood terms
 * run in float: for a row far enough from the training data a term exceeds
 * FLT_MAX (+Inf) or the network computes Inf - Inf (NaN).  Either way the row
 * is less likely than any row with a finite score, so every method reports
 * +Infinity there, never NaN, and scores stay ordered: +Infinity above every
 * finite score.  The methods overflow at different distances (mse sums
 * squared float differences in double, so it stays finite until the
 * decoder's output itself overflows; recon_prob and elbo overflow once one
 * feature's float negative log-likelihood does, from about 1e18 standard
 * deviations out).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc_nn.h"
#include "vc_schema.h"
#include "vc_score.h"
#include "vc_sort.h"
#include "vc_team.h"

#define KEY_GEN		0x47454eULL		/* "GEN" */

struct VcScratch
{
	VcNet		net;			/* cap = mc_samples rows */
	double	   *logp;			/* [mc_samples] */
	VcColumnExpect *expect;		/* row models: [n_cols], for generation */
};

/*
 * A scoring workspace for m: a network of mc_samples rows and its buffers;
 * NULL when out of memory
 */
VcScratch *
vc_scratch_create(const VcModel *m)
{
	VcScratch  *s = vc_alloc0(sizeof(VcScratch));

	if (!s)
		return NULL;
	s->logp = vc_alloc(sizeof(double) * m->opt.mc_samples);
	if (m->schema)
		s->expect = vc_alloc(sizeof(VcColumnExpect) * (size_t) m->n_cols);
	if (!s->logp || (m->schema && !s->expect) ||
		vc_net_init(&s->net, m, m->opt.mc_samples, 0) != VC_OK)
	{
		vc_free(s->logp);
		vc_free(s->expect);
		vc_free(s);
		return NULL;
	}
	return s;
}

/*
 * Point the workspace's network at m, a model of the layout it was made
 * for: an ensemble's members share one workspace (vc_ensemble.c).
 */
void
vc_scratch_use(VcScratch *s, const VcModel *m)
{
	s->net.m = m;
}

/* free a workspace from vc_scratch_create (NULL is allowed) */
void
vc_scratch_free(VcScratch *s)
{
	if (!s)
		return;
	vc_net_free(&s->net);
	vc_free(s->logp);
	vc_free(s->expect);
	vc_free(s);
}

/*
 * A row model's compact row: normalized by the schema, each value checked
 * against its column's kind (a code within the categories, a 0/1 boolean, a
 * finite number that stays finite when scaled); the first bad column or -1.
 * One pass, the same arithmetic as vc_schema_normalize (scoring calls this
 * once per row, so a second pass over the columns showed in profiles).
 */
static int
NormalizeCompact(const VcModel *m, const float *x, float *xn)
{
	const VcSchema *sc = m->schema;
	float		null = vc_null_value();
	int			i,
				bad = -1;

	for (i = 0; i < sc->n_columns; i++)
	{
		const VcColumn *c = &sc->columns[i];
		float		v = x[i];
		int			ok;

		if (vc_is_null(v))
		{
			xn[i] = null;
			continue;
		}
		if (c->kind == VC_COL_CONTINUOUS)
		{
			v = (v - c->center) / c->scale;
			ok = isfinite(v);
		}
		else if (c->kind == VC_COL_BOOLEAN)
			ok = v == 0.0f || v == 1.0f;
		else if (c->kind == VC_COL_CATEGORICAL)
			ok = v >= 0.0f && v < (float) c->n_categories && v == floorf(v);
		else
			ok = isfinite(v);
		xn[i] = v;
		if (!ok && bad < 0)
			bad = i;
	}
	return bad;
}

/*
 * Normalize raw row x into xn (x == xn allowed): an array model's features
 * by center and scale, a row model's compact row by its schema.  Returns the
 * index of the first value the model cannot take, or -1.
 */
int
vc_normalize_row(const VcModel *m, const float *x, float *xn)
{
	int			d = m->dim,
				j,
				bad = 0;
	int			bernoulli = m->opt.likelihood == VC_LIK_BERNOULLI;

	if (m->schema)
		return NormalizeCompact(m, x, xn);

	/*
	 * One vectorizable pass that only counts bad values, and a second one to
	 * name the first only when there is one.  x and xn may be the same row.
	 */
#define NORMALIZE_LOOP(src) \
	for (j = 0; j < d; j++) \
	{ \
		float		v = ((src)[j] - m->center[j]) / m->scale[j]; \
		\
		/* v - v is NaN for NaN and infinities; the range test is false for NaN */ \
		bad |= (v - v != 0.0f) | (bernoulli & !((v >= 0.0f) & (v <= 1.0f))); \
		xn[j] = v; \
	}

	/* in place, the loop must not read x: GCC's overlap check would fail it */
	if (x == xn)
		NORMALIZE_LOOP(xn)
	else
		NORMALIZE_LOOP(x)
#undef NORMALIZE_LOOP
	if (!bad)
		return -1;
	for (j = 0; j < d; j++)
	{
		float		v = xn[j];

		if (!isfinite(v) || (bernoulli && !(v >= 0.0f && v <= 1.0f)))
			return j;
	}
	return -1;
}

/*
 * VC_EDATA, with a message naming feature or column j of raw row x and why
 * it cannot be read
 */
VcStatus
vc_bad_feature(const VcModel *m, const float *x, int j, char *errmsg)
{
	if (m->schema)
	{
		const VcColumn *c = &m->schema->columns[j];

		snprintf(errmsg, VC_ERRMSG_LEN, "column \"%s\": value %g cannot be read as %s%s",
				 c->name, (double) x[j],
				 c->kind == VC_COL_CATEGORICAL ? "a category code" :
				 c->kind == VC_COL_BOOLEAN ? "a boolean (0 or 1)" : "a number",
				 c->kind == VC_COL_CONTINUOUS ? " (it is not finite once scaled)" : "");
	}
	else if (m->opt.likelihood == VC_LIK_BERNOULLI)
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "feature %d: value %g lies outside [0, 1] after normalization, "
				 "which this bernoulli model cannot score", j + 1, (double) x[j]);
	else
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "feature %d: value %g overflows after normalization", j + 1, (double) x[j]);
	return VC_EDATA;
}

/*
 * -log (1/L) sum_l exp(logp[l]), by log-sum-exp; +Inf when every sample's
 * likelihood underflows (every logp is -Inf: the row overflowed).
 */
double
vc_recon_prob(const double *logp, int L)
{
	double		maxlp = -INFINITY,
				sum = 0.0;
	int			l;

	for (l = 0; l < L; l++)
		if (logp[l] > maxlp)
			maxlp = logp[l];
	if (maxlp == -INFINITY)
		return INFINITY;
	for (l = 0; l < L; l++)
		sum += exp(logp[l] - maxlp);
	return -(maxlp + log(sum / L));
}

/*
 * The latent draws of one row: z_l = mu + exp(lvz / 2) * eps_l for l < L,
 * eps from vc_normals(key, 0, ...), into rows [at, at + L) of net->z (and
 * net->eps).  One copy of this arithmetic for per-row and batched scoring,
 * so that both compute the same bits.
 */
void
vc_draw_latents(VcNet *net, const float *mu, const float *lvz, uint64_t key, int L, int at)
{
	int			zd = net->latent,
				l,
				j;
	float	   *eps = net->eps + (size_t) at * zd;
	float	   *z = net->z + (size_t) at * zd;

	vc_normals(key, 0, eps, (size_t) L * zd);
	for (l = 0; l < L; l++)
		for (j = 0; j < zd; j++)
		{
			size_t		k = (size_t) l * zd + j;

			z[k] = mu[j] + vc_expf(0.5f * lvz[j]) * eps[k];
		}
}

/* probability of each category of column c from its logits; returns the most probable code */
static int
Softmax(const float *logits, int n, double *p)
{
	float		mx = logits[0];
	double		sum = 0.0;
	int			k,
				best = 0;

	for (k = 1; k < n; k++)
		if (logits[k] > mx)
		{
			mx = logits[k];
			best = k;
		}
	for (k = 0; k < n; k++)
		sum += (p[k] = exp((double) logits[k] - mx));
	for (k = 0; k < n; k++)
		p[k] /= sum;
	return best;
}

/*
 * The mse of normalized row xn against decoder-head row r (decoded at the
 * latent mean): a row model's over its network inputs (vc_row_mse), an array
 * model's the mean squared difference per feature.  One copy for per-row,
 * block and batched scoring.
 */
double
vc_mse(const VcModel *m, const float *head, int r, const float *xn)
{
	double		sse = 0.0;
	int			j;

	if (m->schema)
		return vc_row_mse(m, head, r, xn);
	for (j = 0; j < m->dim; j++)
	{
		double		e = (double) xn[j] - vc_decoder_mean(m, head, r, j);

		sse += e * e;
	}
	return sse / m->dim;
}

/*
 * A row model's mse of normalized compact row xn against decoder-head row r
 * (decoded at the latent mean): see the comment at the top.
 */
double
vc_row_mse(const VcModel *m, const float *head_rows, int r, const float *xn)
{
	const VcSchema *sc = m->schema;
	const float *head = head_rows + (size_t) r * m->head_dim;
	double		sse = 0.0,
				p[VC_MAX_CATEGORIES];
	int64_t		units = 0;
	int			i,
				k;

	for (i = 0; i < sc->n_columns; i++)
	{
		const VcColumn *c = &sc->columns[i];
		float		v = xn[i];
		int			h = c->head_off,
					isnull = vc_is_null(v);
		double		e;

		if (c->null_head >= 0)
		{
			e = (isnull ? 1.0 : 0.0) - vc_sigmoidf(head[c->null_head]);
			sse += e * e;
			units++;
		}
		if (isnull)
			continue;
		switch (c->kind)
		{
			case VC_COL_CONTINUOUS:
				e = (double) v - head[h];
				sse += e * e;
				units++;
				break;
			case VC_COL_BOOLEAN:
				e = (double) v - vc_sigmoidf(head[h]);
				sse += e * e;
				units++;
				break;
			case VC_COL_CATEGORICAL:
				{
					/*
					 * Softmax's arithmetic, with its normalization folded into
					 * the Brier loop (the same operations, one pass fewer)
					 */
					const float *l = head + h;
					int			n = c->n_categories,
								code = (int) v;
					float		mx = l[0];
					double		sum = 0.0;

					for (k = 1; k < n; k++)
						if (l[k] > mx)
							mx = l[k];
					for (k = 0; k < n; k++)
						sum += (p[k] = exp((double) l[k] - mx));
					for (k = 0; k < n; k++)
					{
						e = (k == code ? 1.0 : 0.0) - p[k] / sum;
						sse += e * e;
					}
					units += n;
				}
				break;
			case VC_COL_CYCLIC:
				{
					double		a = 2.0 * M_PI * (double) v / (double) c->period;

					e = (double) (float) cos(a) - head[h];
					sse += e * e;
					e = (double) (float) sin(a) - head[h + 2];
					sse += e * e;
					units += 2;
				}
				break;
		}
	}
	return units > 0 ? sse / (double) units : 0.0;
}

/*
 * vc_score_normalized for a row model: xn is a normalized compact row; the
 * network input is its expansion, and every latent sample is scored against
 * xn itself.
 */
static void
ScoreRowModel(const VcModel *m, VcScratch *s, const float *xn, unsigned methods, double *out)
{
	VcNet	   *net = &s->net;
	int			L = m->opt.mc_samples,
				l;
	const float *mu;
	const float *lvz;

	vc_rows_expand(net, xn, net->x);
	vc_net_encode(net, 1);
	mu = net->out[m->enc_head];
	lvz = net->lvz;
	if (methods & (1u << VC_METHOD_MSE))
	{
		vc_net_sample_z(net, 1, 0);
		vc_net_decode_mean(net, 1);
		out[VC_METHOD_MSE] = vc_overflowed(vc_row_mse(m, net->out[m->dec_head], 0, xn));
	}
	if (methods & ((1u << VC_METHOD_RECON_PROB) | (1u << VC_METHOD_ELBO)))
	{
		uint64_t	key = vc_hash_row(xn, m->n_cols, m->opt.seed ^ KEY_SCORE);
		double		mean_nll = 0.0,
					kl = 0.0;

		vc_draw_latents(net, mu, lvz, key, L, 0);
		vc_net_decode(net, L);
		for (l = 0; l < L; l++)
		{
			double		nll = vc_overflowed(vc_net_row_nll(net, l, xn));

			s->logp[l] = -nll;
			mean_nll += nll;
		}
		kl = vc_net_row_kl(net, 0);
		out[VC_METHOD_RECON_PROB] = vc_recon_prob(s->logp, L);
		out[VC_METHOD_ELBO] = vc_overflowed(mean_nll / L + kl);
	}
}

/*
 * The scores selected by methods (a bit mask of 1 << VcMethod) of normalized
 * row xn into out: mse at the latent mean, recon_prob and elbo over
 * mc_samples draws keyed by the row's bits.  Row models go to ScoreRowModel.
 */
void
vc_score_normalized(const VcModel *m, VcScratch *s, const float *xn,
					unsigned methods, double *out)
{
	VcNet	   *net = &s->net;
	int			d = m->dim,
				zd = m->opt.latent_dim,
				L = m->opt.mc_samples;
	const float *mu;
	const float *lvz;
	int			l,
				j;

	if (m->schema)
	{
		ScoreRowModel(m, s, xn, methods, out);
		return;
	}
	if (net->x != xn)
		memcpy(net->x, xn, sizeof(float) * d);
	vc_net_encode(net, 1);
	mu = net->out[m->enc_head];
	lvz = net->lvz;

	if (methods & (1u << VC_METHOD_MSE))
	{
		vc_net_sample_z(net, 1, 0);
		vc_net_decode_mean(net, 1);
		out[VC_METHOD_MSE] = vc_overflowed(vc_mse(m, net->out[m->dec_head], 0, xn));
	}
	if (methods & ((1u << VC_METHOD_RECON_PROB) | (1u << VC_METHOD_ELBO)))
	{
		uint64_t	key = vc_hash_row(xn, d, m->opt.seed ^ KEY_SCORE);
		double		mean_nll = 0.0,
					kl = 0.0;

		/* L samples z_l = mu + sigma * eps_l, decoded as one batch */
		vc_draw_latents(net, mu, lvz, key, L, 0);
		/* every sample is scored against the same row */
		for (l = 1; l < L; l++)
			memcpy(net->x + (size_t) l * d, xn, sizeof(float) * d);
		vc_net_decode(net, L);
		vc_net_losses(net, net->x, L, 0);
		for (l = 0; l < L; l++)
		{
			double		nll = vc_overflowed(net->row_recon[l]);

			s->logp[l] = -nll;
			mean_nll += nll;
		}
		for (j = 0; j < zd; j++)
			kl += -0.5 * (1.0 + lvz[j] - (double) mu[j] * mu[j] - exp((double) lvz[j]));
		out[VC_METHOD_RECON_PROB] = vc_recon_prob(s->logp, L);
		out[VC_METHOD_ELBO] = vc_overflowed(mean_nll / L + kl);
	}
}

/* where a raw row is normalized: the input row (arrays) or the target row (row models) */
static inline float *
NormalizedRow(const VcModel *m, VcScratch *s)
{
	return m->schema ? s->net.xt : s->net.x;
}

/*
 * Normalize raw row x into the scratch, then score it; VC_EDATA for a value
 * the model cannot take.  An ensemble's score is its members' robust mean.
 */
VcStatus
vc_score_row(const VcModel *m, VcScratch *s, const float *x, unsigned methods,
			 double *out, char *errmsg)
{
	int			bad;

	if (m->n_members > 1)
		return vc_ensemble_score_row(m, s, x, methods, out, errmsg);
	bad = vc_normalize_row(m, x, NormalizedRow(m, s));

	if (bad >= 0)
		return vc_bad_feature(m, x, bad, errmsg);
	vc_score_normalized(m, s, NormalizedRow(m, s), methods, out);
	return VC_OK;
}

/*
 * Encodings and reconstructions are values, not scores: where the network
 * overflows for a row far from the training data there is no meaningful
 * value to return (Infinity or NaN), so that is an error naming the cause.
 */
static VcStatus
OutputOverflow(const char *what, int j, char *errmsg)
{
	snprintf(errmsg, VC_ERRMSG_LEN,
			 "the row lies too far from the training data: its %s overflows "
			 "(element %d is not finite)", what, j + 1);
	return VC_EDATA;
}

/* VC_OK when v[0, n) is finite, else the overflow error for the first element that is not */
static VcStatus
CheckFiniteOutput(const float *v, int n, const char *what, char *errmsg)
{
	int			j;

	for (j = 0; j < n; j++)
		if (!isfinite(v[j]))
			return OutputOverflow(what, j, errmsg);
	return VC_OK;
}

/* the latent mean of raw row x into mu; VC_EDATA for a bad value or a mean that overflows */
VcStatus
vc_encode_row(const VcModel *m, VcScratch *s, const float *x, float *mu, char *errmsg)
{
	int			bad = vc_normalize_row(m, x, NormalizedRow(m, s));

	if (bad >= 0)
		return vc_bad_feature(m, x, bad, errmsg);
	if (m->schema)
		vc_rows_expand(&s->net, s->net.xt, s->net.x);
	vc_net_encode(&s->net, 1);
	memcpy(mu, s->net.out[m->enc_head], sizeof(float) * m->opt.latent_dim);
	return CheckFiniteOutput(mu, m->opt.latent_dim, "encoding", errmsg);
}

/*
 * The decoder at the latent mean of raw row x, for an explanation: by
 * feature of an array model (rows 0) or by column of a row model (rows 1;
 * the normalized compact row stays in net->xt).  VC_EINVAL for the other
 * kind of model, VC_EDATA for a value the model cannot read.
 */
static VcStatus
DecodeAtMean(const VcModel *m, VcScratch *s, const float *x, int rows, char *errmsg)
{
	VcNet	   *net = &s->net;
	int			bad;

	if ((m->schema != NULL) != rows)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, rows
				 ? "an array model explains its rows by feature (vc_reconstruct_row)"
				 : "a row model explains its rows by column (vc_explain_columns)");
		return VC_EINVAL;
	}
	bad = vc_normalize_row(m, x, NormalizedRow(m, s));
	if (bad >= 0)
		return vc_bad_feature(m, x, bad, errmsg);
	if (rows)
		vc_rows_expand(net, net->xt, net->x);
	vc_net_encode(net, 1);
	vc_net_sample_z(net, 1, 0);
	vc_net_decode(net, 1);
	return VC_OK;
}

/*
 * An array model's decoder mean at the latent mean of raw row x, in input
 * units, into recon, and each feature's negative log-likelihood into contrib
 * (either may be NULL; vc.h says what an overflow gives).
 */
VcStatus
vc_reconstruct_row(const VcModel *m, VcScratch *s, const float *x, float *recon,
				   double *contrib, char *errmsg)
{
	VcNet	   *net = &s->net;
	const float *head;
	VcStatus	st;
	int			j;

	if ((st = DecodeAtMean(m, s, x, 0, errmsg)) != VC_OK)
		return st;
	head = net->out[m->dec_head];
	for (j = 0; j < m->dim; j++)
	{
		float		r = vc_decoder_mean(m, head, 0, j) * m->scale[j] + m->center[j];

		/*
		 * An overflowing reconstruction is no value: an error for
		 * vae_reconstruct; an explanation marks it NaN (the caller shows no
		 * value) and still ranks the feature by its contribution.
		 */
		if (!isfinite(r))
		{
			if (!contrib)
				return OutputOverflow("reconstruction", j, errmsg);
			r = NAN;
		}
		if (recon)
			recon[j] = r;
		/* a contribution is a score's term: it overflows to +Inf, as scores do */
		if (contrib)
			contrib[j] = vc_overflowed(m->opt.likelihood == VC_LIK_GAUSSIAN
									? 0.5 * (VC_LOG_2PI + vc_gauss_term(net->x[j], head[j], net->lvx[j]))
									: vc_bernoulli_nll(net->x[j], head[j]));
	}
	return VC_OK;
}

/* the phase in [0, period) of a cyclic column's decoder means of cos and sin */
static double
Phase(const VcColumn *c, const float *head)
{
	double		ph = atan2((double) head[c->head_off + 2], (double) head[c->head_off]) *
		(double) c->period / (2.0 * M_PI);

	if (ph < 0.0)
		ph += c->period;
	/* a tiny negative angle rounds up to the period itself */
	return ph >= c->period ? 0.0 : ph;
}

/*
 * What the decoder head row 0 expects of each column, into out (one per
 * column, see VcColumnExpect) without the contributions.
 */
static void
Expectations(const VcModel *m, const VcNet *net, VcColumnExpect *out)
{
	const VcSchema *sc = m->schema;
	const float *head = net->out[m->dec_head];
	double		p[VC_MAX_CATEGORIES];
	int			i;

	for (i = 0; i < sc->n_columns; i++)
	{
		const VcColumn *c = &sc->columns[i];
		VcColumnExpect *e = &out[i];
		int			h = c->head_off;

		memset(e, 0, sizeof(*e));
		e->p_null = c->null_head >= 0 ? vc_sigmoidf(head[c->null_head])
			: 1.0 / ((double) m->rows + 2.0);
		switch (c->kind)
		{
			case VC_COL_CONTINUOUS:
				e->value = (double) head[h] * c->scale + c->center;
				break;
			case VC_COL_BOOLEAN:
				e->value = e->prob = vc_sigmoidf(head[h]);
				break;
			case VC_COL_CATEGORICAL:
				e->value = Softmax(head + h, c->n_categories, p);
				e->prob = p[(int) e->value];
				break;
			case VC_COL_CYCLIC:
				e->value = Phase(c, head);
				break;
		}
	}
}

/*
 * The compact row that expectations e describe: the mean of a number, the
 * more probable boolean, the most probable category, the phase of a cyclic
 * column, and NULL where the NULL flag says NULL is more probable than not.
 */
void
vc_expected_row(const VcSchema *schema, const VcColumnExpect *e, float *out)
{
	int			i;

	for (i = 0; i < schema->n_columns; i++)
	{
		if (e[i].p_null > 0.5)
			out[i] = vc_null_value();
		else if (schema->columns[i].kind == VC_COL_BOOLEAN)
			out[i] = e[i].prob >= 0.5 ? 1.0f : 0.0f;
		else
			out[i] = (float) e[i].value;
	}
}

/* a generated compact row from decoder-head row 0, by its expectations */
static void
GenerateCompact(const VcModel *m, const VcNet *net, VcColumnExpect *e, float *out)
{
	Expectations(m, net, e);
	vc_expected_row(m->schema, e, out);
}

/*
 * The explanation of one raw compact row at its latent mean: each column's
 * expectation and its share of the reconstruction term (the same terms, in
 * the same order, as vc_net_row_nll sums).
 */
VcStatus
vc_explain_columns(const VcModel *m, VcScratch *s, const float *x, VcColumnExpect *out,
				   char *errmsg)
{
	VcNet	   *net = &s->net;
	VcStatus	st;
	int			i;

	if ((st = DecodeAtMean(m, s, x, 1, errmsg)) != VC_OK)
		return st;
	Expectations(m, net, out);
	/*
	 * As for an array model's explanation, a row far from the data is no
	 * error: an expectation that overflows is NaN (no value to show), and
	 * the contribution, a score's term, +Infinity.
	 */
	for (i = 0; i < m->n_cols; i++)
	{
		if (!isfinite(out[i].value))
			out[i].value = NAN;
		out[i].contribution = vc_overflowed(vc_net_column_nll(net, 0, net->xt, i));
	}
	return VC_OK;
}

/*
 * Decode z ~ N(0, I) drawn from (seed, index) into out: an array model's
 * decoder mean in input units, or a row model's compact row from the
 * columns' expectations.
 */
void
vc_generate_row(const VcModel *m, VcScratch *s, uint64_t seed, int64_t index, float *out)
{
	VcNet	   *net = &s->net;
	int			zd = m->opt.latent_dim,
				j;

	vc_normals(vc_mix64(seed ^ KEY_GEN), (uint64_t) index * zd, net->z, zd);
	vc_net_decode(net, 1);
	if (m->schema)
	{
		GenerateCompact(m, net, s->expect, out);
		return;
	}
	for (j = 0; j < m->dim; j++)
		out[j] = vc_decoder_mean(m, net->out[m->dec_head], 0, j) * m->scale[j] + m->center[j];
}

/* linear interpolation in the sorted training scores at quantile 1 - c */
double
vc_threshold(const VcModel *m, int method, double contamination)
{
	return vc_sorted_quantile(m->scores[method], m->n_scores, contamination);
}

double
vc_sorted_iqr(const float *sc, int n)
{
	double		iqr = vc_sorted_quantile(sc, n, 0.25) - vc_sorted_quantile(sc, n, 0.75);

	return iqr > VC_ROBUST_MIN_IQR ? iqr : VC_ROBUST_MIN_IQR;
}

/* linear interpolation in sc[0, n), sorted ascending, at quantile 1 - c */
double
vc_sorted_quantile(const float *sc, int n, double contamination)
{
	double		pos,
				frac;
	int			lo;

	if (n <= 0)
		return NAN;
	pos = (1.0 - contamination) * (n - 1);
	lo = (int) floor(pos);
	if (lo >= n - 1)
		return sc[n - 1];
	if (lo < 0)
		return sc[0];
	frac = pos - lo;
	return sc[lo] + frac * ((double) sc[lo + 1] - sc[lo]);
}

/*
 * The automatic cut, for users who do not know their contamination: Tukey's
 * fence of the training scores, Q3 + VC_AUTO_FENCE (Q3 - Q1) with the usual
 * 1.5, from the stored sample.  The training rows include whatever anomalies
 * the table holds, so the cut is drawn from the bulk of the distribution,
 * its quartiles, which a few extreme rows cannot move; what lies beyond it
 * is an outlier by the standard boxplot rule, however many rows that is.
 * (On bench/detect.sh 1.5 gave a better F1 than 3, Tukey's "far out", or a
 * fixed 5% contamination; see docs/detect.md.)
 */
double
vc_threshold_auto(const VcModel *m, int method)
{
	double		q1 = vc_threshold(m, method, 0.75),
				q3 = vc_threshold(m, method, 0.25);

	return q3 + VC_AUTO_FENCE * (q3 - q1);
}

/* ---- the training-score sample for vae_threshold ---- */

/*
 * The score sample is scored in blocks of rows rather than one row at a time:
 * the encoder runs once over the block, and the decoder once over every
 * latent point of the block (each row's mean, then its mc_samples draws).
 * Each row's draws are keyed by the row itself exactly as in
 * vc_score_normalized, so a row's stored score is the one vae_score returns
 * for it, up to the summation order inside the GEMMs.  The block is sized so
 * that the decoder's GEMMs have a few hundred rows.
 */
#define SAMPLE_DECODE_ROWS 512

/*
 * Rows per block of the score sample: about SAMPLE_DECODE_ROWS latent points
 * per decode, 1 to 64 rows
 */
int
vc_score_block_rows(const VcModel *m)
{
	int			b = SAMPLE_DECODE_ROWS / (1 + m->opt.mc_samples);

	return b < 1 ? 1 : (b > 64 ? 64 : b);
}

VcStatus
vc_score_block_init(VcNet *net, const VcModel *m)
{
	return vc_net_init(net, m, vc_score_block_rows(m) * (1 + m->opt.mc_samples), 0);
}

/* all three scores of the normalized rows rows[0, n), n <= vc_score_block_rows */
void
vc_score_block(const VcModel *m, VcNet *net, const float *const *rows, int n,
			   double (*out)[VC_N_METHODS])
{
	int			d = m->dim,
				zd = m->opt.latent_dim,
				L = m->opt.mc_samples;
	const float *enc = net->out[m->enc_head];
	const float *head;
	int			b,
				l;

	for (b = 0; b < n; b++)
	{
		if (m->schema)
			vc_rows_expand(net, rows[b], net->x + (size_t) b * d);
		else
			memcpy(net->x + (size_t) b * d, rows[b], sizeof(float) * d);
	}
	vc_net_encode(net, n);

	/* latent points: rows [0, n) the means, then row b's draws at n + b * L */
	for (b = 0; b < n; b++)
	{
		const float *mu = enc + (size_t) b * 2 * zd;

		memcpy(net->z + (size_t) b * zd, mu, sizeof(float) * zd);
		vc_draw_latents(net, mu, net->lvz + (size_t) b * zd,
						vc_hash_row(rows[b], m->schema ? m->n_cols : d, m->opt.seed ^ KEY_SCORE),
						L, n + b * L);
	}
	vc_net_decode(net, n * (1 + L));
	head = net->out[m->dec_head];

	for (b = 0; b < n; b++)
	{
		const float *xn = rows[b];
		double		mean_nll = 0.0;
		double	   *logp = net->row_recon + n + b * L;

		for (l = 0; l < L; l++)
		{
			double		nll = vc_overflowed(vc_net_row_nll(net, n + b * L + l, xn));

			logp[l] = -nll;
			mean_nll += nll;
		}
		out[b][VC_METHOD_MSE] = vc_overflowed(vc_mse(m, head, b, xn));
		out[b][VC_METHOD_RECON_PROB] = vc_recon_prob(logp, L);
		out[b][VC_METHOD_ELBO] = vc_overflowed(mean_nll / L + vc_net_row_kl(net, b));
	}
}

/* the score sample in flight: blocks of rows, one per team member and round */
typedef struct SampleRun
{
	VcModel    *m;
	const VcRowRef *refs;
	const int64_t *order;
	float	   *const *dst;		/* each method's scores, at the rows' positions */
	int			ns;				/* rows in the sample */
	int			bs;				/* rows per block */
	int			at;				/* first row of this round */
	VcNet		net[2];
} SampleRun;

/* team member's block of this round: score it and store its scores in m->scores */
static void
ScoreHalf(void *arg, int member)
{
	SampleRun  *r = arg;
	const float *rows[64];
	double		sc[64][VC_N_METHODS];
	int			i = r->at + member * r->bs,
				nb = r->ns - i < r->bs ? r->ns - i : r->bs,
				b,
				k;

	for (b = 0; b < nb; b++)
		rows[b] = r->refs[r->order[i + b]].row;
	if (nb > 0)
		vc_score_block(r->m, &r->net[member], rows, nb, sc);
	for (b = 0; b < nb; b++)
		for (k = 0; k < VC_N_METHODS; k++)
			r->dst[k][i + b] = (float) sc[b][k];
}

/* room for ns scores per method in m->scores (contents undefined) */
VcStatus
vc_score_sample_alloc(VcModel *m, int ns, char *errmsg)
{
	int			k;

	for (k = 0; k < VC_N_METHODS; k++)
	{
		vc_free(m->scores[k]);
		if (!(m->scores[k] = vc_alloc(sizeof(float) * (ns > 0 ? ns : 1))))
		{
			snprintf(errmsg, VC_ERRMSG_LEN, "out of memory scoring the training rows");
			return VC_ENOMEM;
		}
	}
	return VC_OK;
}

/*
 * Score the rows refs[order[i]], lo <= i < hi, with m's weights as they are
 * now, into dst[k][i] for each method k: blocks of rows, two blocks a round
 * on a two-thread team.
 */
VcStatus
vc_score_sample_rows(VcModel *m, const VcRowRef *refs, const int64_t *order, int lo, int hi,
					 float *const dst[VC_N_METHODS], const VcCallbacks *cb, char *errmsg)
{
	SampleRun	r;
	VcTeam		team;
	VcStatus	st = VC_OK;
	double		last = -INFINITY;
	int			blas;

	memset(&r, 0, sizeof(r));
	r.m = m;
	r.refs = refs;
	r.order = order;
	r.dst = dst;
	r.ns = hi;
	r.bs = vc_score_block_rows(m);
	if (vc_score_block_init(&r.net[0], m) != VC_OK ||
		vc_score_block_init(&r.net[1], m) != VC_OK ||
		vc_team_init(&team) != VC_OK)
	{
		vc_net_free(&r.net[0]);
		vc_net_free(&r.net[1]);
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory scoring the training rows");
		return VC_ENOMEM;
	}
	/*
	 * Blocks are independent: each row's scores depend on that row alone.
	 * OpenBLAS at one thread throughout, as in training (vc_engine_cpu.c),
	 * also when the helper cannot be started: the sample is part of the model.
	 */
	blas = vc_blas_one_thread();
	vc_team_start(&team);
	for (r.at = lo; r.at < r.ns; r.at += 2 * r.bs)
	{
		/* the host's check may longjmp: never with the helper running */
		if (cb && cb->check_interrupts && vc_now() - last >= 0.02)
		{
			vc_team_stop(&team);
			vc_blas_restore(blas);
			blas = 0;
			if (cb->check_interrupts(cb->arg))
			{
				snprintf(errmsg, VC_ERRMSG_LEN, "training was canceled");
				st = VC_ECANCELED;
				break;
			}
			last = vc_now();
			blas = vc_blas_one_thread();
			vc_team_start(&team);
		}
		vc_team_run(&team, ScoreHalf, &r);
	}
	vc_team_destroy(&team);
	vc_blas_restore(blas);
	vc_net_free(&r.net[0]);
	vc_net_free(&r.net[1]);
	return st;
}

/*
 * The ns scores of each method in m->scores become the model's sample:
 * VC_EDIVERGED when one is not finite, else sorted.
 */
VcStatus
vc_score_sample_finish(VcModel *m, int ns, char *errmsg)
{
	int			k;

	for (k = 0; k < VC_N_METHODS; k++)
	{
		if (!vc_all_finite(m->scores[k], ns))
		{
			snprintf(errmsg, VC_ERRMSG_LEN,
					 "training produced a model whose %s scores are not finite; "
					 "lower learning_rate or check the scale of the input",
					 vc_method_name(k));
			return VC_EDIVERGED;
		}
		vc_sort_floats(m->scores[k], (size_t) ns);
	}
	m->n_scores = ns;
	return VC_OK;
}

/*
 * Scores of up to VC_MAX_SCORE_SAMPLE rows refs[order[i]] with the model's
 * weights, sorted per method into m->scores.
 */
VcStatus
vc_record_score_distribution(VcModel *m, const VcRowRef *refs, const int64_t *order,
							 int64_t n, const VcCallbacks *cb, char *errmsg)
{
	int			ns = (int) (n < VC_MAX_SCORE_SAMPLE ? n : VC_MAX_SCORE_SAMPLE);
	VcStatus	st;

	if ((st = vc_score_sample_alloc(m, ns, errmsg)) != VC_OK ||
		(st = vc_score_sample_rows(m, refs, order, 0, ns, m->scores, cb, errmsg)) != VC_OK)
		return st;
	return vc_score_sample_finish(m, ns, errmsg);
}
