/*
 * vc_nn_rows.c - the decoder head of a row model: its loss, the loss's
 * gradient, its bounded log-variances, and the expansion of compact rows
 * into the network input (vc_schema.h has the layout).
 *
 * Per row, the reconstruction term is the sum over columns of
 *   continuous  0.5 (log 2pi + lv + (x - m)^2 / e^lv)   (as the array path)
 *   boolean     BCE-with-logits(l, x)
 *   categorical -log softmax(l)[code]
 *   cyclic      the gaussian terms of cos and sin of the phase
 * skipped when the value is NULL, plus the BCE of each NULL flag, plus
 * log(rows + 2) for a NULL in a column without a flag.
 *
 * The hot loops (training runs them for every row of every minibatch) walk
 * index arrays by kind -- the plan, built once per workspace -- instead of
 * switching on each column's kind: the continuous and boolean terms are
 * computed in float over blocks, as the array path computes its features',
 * and NULLs are masked out rather than branched around.
 */
#include <math.h>
#include <string.h>

#include "vc_nn.h"
#include "vc_schema.h"

#define TERM_BLOCK 256

/*
 * The row plan of m's schema: the columns' indexes, head and input offsets
 * grouped by kind (continuous, boolean, NULL flag, no flag, other) and the
 * head units that carry a log-variance, in one allocation; NULL when out of
 * memory.
 */
VcRowPlan *
vc_row_plan_create(const VcModel *m)
{
	const VcSchema *sc = m->schema;
	int			nc = sc->n_columns,
				i;
	VcRowPlan  *p = vc_alloc0(sizeof(VcRowPlan));
	int		   *b;

	if (!p)
		return NULL;
	/*
	 * 3 arrays of nc for continuous, boolean and flag columns, 1 for
	 * noflag and other columns, and lv_unit: one unit per continuous and
	 * two per cyclic column, so up to 2 nc (the last array, 2 nc long)
	 */
	p->buf = b = vc_alloc(sizeof(int) * (size_t) (13 * nc));
	if (!b)
	{
		vc_free(p);
		return NULL;
	}
	p->cont_col = b;
	p->cont_head = b += nc;
	p->cont_in = b += nc;
	p->bool_col = b += nc;
	p->bool_head = b += nc;
	p->bool_in = b += nc;
	p->flag_col = b += nc;
	p->flag_head = b += nc;
	p->flag_in = b += nc;
	p->noflag_col = b += nc;
	p->other_col = b += nc;
	p->lv_unit = b += nc;
	for (i = 0; i < nc; i++)
	{
		const VcColumn *c = &sc->columns[i];

		if (c->kind == VC_COL_CONTINUOUS)
		{
			p->cont_col[p->n_cont] = i;
			p->cont_head[p->n_cont] = c->head_off;
			p->cont_in[p->n_cont++] = c->in_off;
			p->lv_unit[p->n_lv++] = c->head_off + 1;
		}
		else if (c->kind == VC_COL_BOOLEAN)
		{
			p->bool_col[p->n_bool] = i;
			p->bool_head[p->n_bool] = c->head_off;
			p->bool_in[p->n_bool++] = c->in_off;
		}
		else
		{
			p->other_col[p->n_other++] = i;
			if (c->kind == VC_COL_CYCLIC)
			{
				p->lv_unit[p->n_lv++] = c->head_off + 1;
				p->lv_unit[p->n_lv++] = c->head_off + 3;
			}
		}
		if (c->has_null_unit)
		{
			p->flag_col[p->n_flag] = i;
			p->flag_head[p->n_flag] = c->null_head;
			p->flag_in[p->n_flag++] = c->null_in;
		}
		else
			p->noflag_col[p->n_noflag++] = i;
	}
	return p;
}

/* free a plan from vc_row_plan_create (NULL is allowed) */
void
vc_row_plan_free(VcRowPlan *p)
{
	if (!p)
		return;
	vc_free(p->buf);
	vc_free(p);
}

/* the angle of cyclic column c's phase v, in radians */
static inline double
Angle(const VcColumn *c, float v)
{
	return 2.0 * M_PI * (double) v / (double) c->period;
}

/* a code read from a compact row, clamped into [0, n) (callers validate codes) */
static inline int
Code(float v, int n)
{
	return v >= 0.0f && v < (float) n ? (int) v : n - 1;
}

/*
 * Expand the compact row xt into the network input in (m->dim floats): values,
 * one-hot categories, cos and sin of cyclic phases and NULL flags; a NULL
 * value leaves its units at 0.
 */
void
vc_rows_expand(const VcNet *net, const float *xt, float *in)
{
	const VcModel *m = net->m;
	const VcRowPlan *p = net->plan;
	const VcColumn *cols = m->schema->columns;
	int			k;

	memset(in, 0, sizeof(float) * (size_t) m->dim);
	for (k = 0; k < p->n_cont; k++)
	{
		float		v = xt[p->cont_col[k]];

		in[p->cont_in[k]] = vc_select(vc_is_null(v), 0.0f, v);
	}
	for (k = 0; k < p->n_bool; k++)
	{
		float		v = xt[p->bool_col[k]];

		in[p->bool_in[k]] = vc_select(vc_is_null(v), 0.0f, v);
	}
	for (k = 0; k < p->n_flag; k++)
		in[p->flag_in[k]] = vc_is_null(xt[p->flag_col[k]]) ? 1.0f : 0.0f;
	for (k = 0; k < p->n_other; k++)
	{
		const VcColumn *c = &cols[p->other_col[k]];
		float		v = xt[p->other_col[k]];

		if (vc_is_null(v))
			continue;
		if (c->kind == VC_COL_CATEGORICAL)
		{
			if (v >= 0.0f && v < (float) c->n_categories)
				in[c->in_off + (int) v] = 1.0f;
		}
		else
		{
			in[c->in_off] = (float) cos(Angle(c, v));
			in[c->in_off + 1] = (float) sin(Angle(c, v));
		}
	}
}

/*
 * Row r of the minibatch: xt expanded into net->x, and xt itself kept in
 * net->xt as the targets
 */
void
vc_rows_gather(VcNet *net, int r, const float *xt)
{
	const VcModel *m = net->m;

	vc_rows_expand(net, xt, net->x + (size_t) r * m->dim);
	memcpy(net->xt + (size_t) r * m->n_cols, xt, sizeof(float) * m->n_cols);
}

/*
 * The bounded decoder log-variances of n rows, for the continuous and cyclic
 * units only, into net->lvx
 */
void
vc_rows_decoder_logvar(VcNet *net, int n)
{
	const VcModel *m = net->m;
	const VcRowPlan *p = net->plan;
	int			hd = m->head_dim,
				r,
				k;

	for (r = 0; r < n; r++)
	{
		const float *head = net->out[m->dec_head] + (size_t) r * hd;
		float	   *lv = net->lvx + (size_t) r * hd;

		for (k = 0; k < p->n_lv; k++)
			lv[p->lv_unit[k]] = vc_bound_logvar(head[p->lv_unit[k]], VC_DECODER_LOGVAR_BOUND);
	}
}

/*
 * e[j] = exp(logits[j] - max) by vc_expf, in a loop of its own (it
 * vectorizes), and the max into *mx; returns their sum, added in order in
 * double
 */
static inline double
SoftmaxExp(const float *logits, int n, float *e, float *mx)
{
	double		sum = 0.0;
	int			j;

	*mx = logits[0];
	for (j = 1; j < n; j++)
		*mx = logits[j] > *mx ? logits[j] : *mx;
	for (j = 0; j < n; j++)
		e[j] = vc_expf(logits[j] - *mx);
	for (j = 0; j < n; j++)
		sum += e[j];
	return sum;
}

/* -log softmax(logits)[k] over n logits, exact however improbable k is */
static inline double
SoftmaxNll(const float *logits, int n, int k)
{
	float		e[VC_MAX_CATEGORIES],
				mx;
	double		sum = SoftmaxExp(logits, n, e, &mx);

	return log(sum) - ((double) logits[k] - mx);
}

/* the negative log-likelihood of a gaussian unit: mean head[h], bounded log-variance lv[h + 1] */
static inline double
GaussNll(float x, const float *head, const float *lv, int h)
{
	return 0.5 * (VC_LOG_2PI + vc_gauss_term(x, head[h], lv[h + 1]));
}

/* the value term of a categorical or cyclic column c, value v not NULL */
static inline double
OtherNll(const VcColumn *c, const float *head, const float *lv, float v)
{
	if (c->kind == VC_COL_CATEGORICAL)
		return SoftmaxNll(head + c->head_off, c->n_categories, Code(v, c->n_categories));
	return GaussNll((float) cos(Angle(c, v)), head, lv, c->head_off) +
		GaussNll((float) sin(Angle(c, v)), head, lv, c->head_off + 2);
}

/*
 * Row r's reconstruction NLL for column ci alone: its NULL flag's BCE (or
 * log(rows + 2) for a NULL without a flag) plus, when not NULL, its value's
 * term.
 */
double
vc_net_column_nll(const VcNet *net, int r, const float *xt, int ci)
{
	const VcModel *m = net->m;
	const VcColumn *c = &m->schema->columns[ci];
	const float *head = net->out[m->dec_head] + (size_t) r * m->head_dim;
	const float *lv = net->lvx + (size_t) r * m->head_dim;
	float		v = xt[ci];
	int			isnull = vc_is_null(v);
	double		nll = 0.0;

	if (c->null_head >= 0)
		nll += vc_bernoulli_nll(isnull ? 1.0f : 0.0f, head[c->null_head]);
	else if (isnull)
		nll += log((double) m->rows + 2.0);
	if (isnull)
		return nll;
	if (c->kind == VC_COL_CONTINUOUS)
		nll += GaussNll(v, head, lv, c->head_off);
	else if (c->kind == VC_COL_BOOLEAN)
		nll += vc_bernoulli_nll(v, head[c->head_off]);
	else
		nll += OtherNll(c, head, lv, v);
	return nll;
}

/*
 * The same terms as vc_net_column_nll, grouped by kind: continuous, boolean,
 * NULL flags, NULLs without a flag, then categorical and cyclic columns.
 * Float terms in blocks, summed in double; a NULL value's term is computed
 * (from NaN) and left out of the sum.
 */
double
vc_rows_row_nll(const VcNet *net, int r, const float *xt)
{
	const VcModel *m = net->m;
	const VcRowPlan *p = net->plan;
	const VcColumn *cols = m->schema->columns;
	const float *head = net->out[m->dec_head] + (size_t) r * m->head_dim;
	const float *lv = net->lvx + (size_t) r * m->head_dim;
	float		terms[TERM_BLOCK];
	double		nll = 0.0;
	int			k,
				k0,
				nb;

	for (k0 = 0; k0 < p->n_cont; k0 += TERM_BLOCK)
	{
		nb = p->n_cont - k0 < TERM_BLOCK ? p->n_cont - k0 : TERM_BLOCK;
		for (k = 0; k < nb; k++)
		{
			int			h = p->cont_head[k0 + k];

			terms[k] = vc_gauss_term(xt[p->cont_col[k0 + k]], head[h], lv[h + 1]);
		}
		for (k = 0; k < nb; k++)
			if (!vc_is_null(xt[p->cont_col[k0 + k]]))
				nll += 0.5 * (VC_LOG_2PI + terms[k]);
	}
	for (k0 = 0; k0 < p->n_bool; k0 += TERM_BLOCK)
	{
		nb = p->n_bool - k0 < TERM_BLOCK ? p->n_bool - k0 : TERM_BLOCK;
		for (k = 0; k < nb; k++)
			terms[k] = vc_bernoulli_nll(xt[p->bool_col[k0 + k]], head[p->bool_head[k0 + k]]);
		for (k = 0; k < nb; k++)
			if (!vc_is_null(xt[p->bool_col[k0 + k]]))
				nll += terms[k];
	}
	for (k0 = 0; k0 < p->n_flag; k0 += TERM_BLOCK)
	{
		nb = p->n_flag - k0 < TERM_BLOCK ? p->n_flag - k0 : TERM_BLOCK;
		for (k = 0; k < nb; k++)
			terms[k] = vc_bernoulli_nll(vc_is_null(xt[p->flag_col[k0 + k]]) ? 1.0f : 0.0f,
										head[p->flag_head[k0 + k]]);
		for (k = 0; k < nb; k++)
			nll += terms[k];
	}
	for (k = 0; k < p->n_noflag; k++)
		if (vc_is_null(xt[p->noflag_col[k]]))
			nll += log((double) m->rows + 2.0);
	for (k = 0; k < p->n_other; k++)
	{
		float		v = xt[p->other_col[k]];

		if (!vc_is_null(v))
			nll += OtherNll(&cols[p->other_col[k]], head, lv, v);
	}
	return nll;
}

/*
 * The gradient of a gaussian unit's NLL, scaled by s: mean (*dm) and raw
 * log-variance (*dl), through the soft bound; zero when x is NULL.
 */
static inline void
GaussGrad(float x, float mean, float lv, float s, float *dm, float *dl)
{
	float		inv = vc_expf(-lv);
	float		res = x - mean;
	float		t = lv / VC_DECODER_LOGVAR_BOUND;
	int			isnull = vc_is_null(x);

	*dm = vc_select(isnull, 0.0f, -res * inv * s);
	*dl = vc_select(isnull, 0.0f, 0.5f * (1.0f - res * res * inv) * s * (1.0f - t * t));
}

/* a categorical column's gradient (softmax - one-hot) * s into dh, v not NULL */
static void
SoftmaxGrad(const VcColumn *c, const float *head, float v, float s, float *dh)
{
	float	   *d = dh + c->head_off;
	int			n = c->n_categories,
				k;
	float		mx,
				scale = (float) (1.0 / SoftmaxExp(head + c->head_off, n, d, &mx)) * s;

	for (k = 0; k < n; k++)
		d[k] *= scale;
	d[Code(v, n)] -= s;
}

/*
 * The gradient of n rows' reconstruction NLL with respect to the raw decoder
 * head outputs, scaled by s, into d (head_dim floats per row); NULL values
 * contribute nothing but their flags' terms.
 */
void
vc_rows_head_gradient(const VcNet *net, int n, float s, float *d)
{
	const VcModel *m = net->m;
	const VcRowPlan *p = net->plan;
	const VcColumn *cols = m->schema->columns;
	int			hd = m->head_dim,
				r,
				k;

	for (r = 0; r < n; r++)
	{
		const float *head = net->out[m->dec_head] + (size_t) r * hd;
		const float *lv = net->lvx + (size_t) r * hd;
		const float *xt = net->xt + (size_t) r * m->n_cols;
		float	   *dh = d + (size_t) r * hd;

		memset(dh, 0, sizeof(float) * hd);
		for (k = 0; k < p->n_cont; k++)
		{
			int			h = p->cont_head[k];

			GaussGrad(xt[p->cont_col[k]], head[h], lv[h + 1], s, &dh[h], &dh[h + 1]);
		}
		for (k = 0; k < p->n_bool; k++)
		{
			float		v = xt[p->bool_col[k]];
			int			h = p->bool_head[k];

			dh[h] = vc_select(vc_is_null(v), 0.0f, (vc_sigmoidf(head[h]) - v) * s);
		}
		for (k = 0; k < p->n_flag; k++)
		{
			int			h = p->flag_head[k];

			dh[h] = (vc_sigmoidf(head[h]) - (vc_is_null(xt[p->flag_col[k]]) ? 1.0f : 0.0f)) * s;
		}
		for (k = 0; k < p->n_other; k++)
		{
			const VcColumn *c = &cols[p->other_col[k]];
			float		v = xt[p->other_col[k]];
			int			h = c->head_off;

			if (vc_is_null(v))
				continue;
			if (c->kind == VC_COL_CATEGORICAL)
				SoftmaxGrad(c, head, v, s, dh);
			else
			{
				float		cv = (float) cos(Angle(c, v)),
							sv = (float) sin(Angle(c, v));

				GaussGrad(cv, head[h], lv[h + 1], s, &dh[h], &dh[h + 1]);
				GaussGrad(sv, head[h + 2], lv[h + 3], s, &dh[h + 2], &dh[h + 3]);
			}
		}
	}
}
