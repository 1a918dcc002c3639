/*
 * vae_plot_latent.c - the aggregate vae_plot_latent(model, row or features
 * [, label]): the latent map of the rows it is given, as an SVG picture.
 *
 * Each row is drawn at its latent mean (vae_encode): the two coordinates of
 * a 2-D latent, the first two principal axes of a wider one (a 1-D latent
 * is spread vertically by the row's hash).  Points are coloured by the
 * row's score (the model's scoring method, a sequential scale with a colour bar) or, with a
 * label, by label (a categorical palette with a legend).
 *
 * Bounded and deterministic: the transition function keeps the
 * LATENT_MAX_POINTS rows of smallest seeded row hash (then label), a
 * bottom-k sample that depends on the multiset of rows only, never on scan
 * order; the final function sorts them into that order before anything is
 * summed (the principal axes), so the picture's bytes are the same for any
 * plan.  The picture says when it shows a sample.
 */
#include "vae.h"

#include <math.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "vae_svg.h"

PG_FUNCTION_INFO_V1(vae_plot_latent_trans);
PG_FUNCTION_INFO_V1(vae_plot_latent_final);

/* points drawn at most: about 140 kB of SVG */
#define LATENT_MAX_POINTS	2000
/* the seed of the row hash that picks the sample ("plot") */
#define LATENT_HASH_SEED	UINT64CONST(0x746f6c70)
/* labels with a colour of their own; the rest are "other" */
#define LATENT_MAX_LABELS	(SVG_N_CATEGORICAL - 1)

typedef struct LatentPoint
{
	uint64		hash;			/* vc_hash_row of the raw row */
	char	   *label;			/* NULL: no label, or a NULL one */
	double		score;			/* the model's method's, when coloured by score */
	float	   *mu;				/* latent mean, latent floats */
} LatentPoint;

typedef struct LatentState
{
	MemoryContext cxt;			/* the aggregate's */
	bool		labelled;		/* the label form of the aggregate */
	bool		row_form;		/* given rows (else feature arrays) */
	uint32		model_crc;		/* identity of the model of the first row */
	Size		model_len;
	int			latent;
	int			method;			/* the model's scoring method (VcMethod) */
	int64		rows;			/* rows given (model and row not NULL) */
	int64		skipped;		/* rows whose latent mean overflows */
	float	   *mu;				/* encoding buffer: latent floats */
	int			n;				/* points in the heap */
	LatentPoint *heap;			/* max-heap by PointCmp: the largest kept on top */
} LatentState;

/* (hash, label) order; a NULL label first */
static int
PointCmp(const LatentPoint *a, const LatentPoint *b)
{
	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->label == NULL || b->label == NULL)
		return (a->label != NULL) - (b->label != NULL);
	return strcmp(a->label, b->label);
}

static void
SiftDown(LatentPoint *h, int n, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1,
					big = i;
		LatentPoint t;

		if (l < n && PointCmp(&h[l], &h[big]) > 0)
			big = l;
		if (l + 1 < n && PointCmp(&h[l + 1], &h[big]) > 0)
			big = l + 1;
		if (big == i)
			return;
		t = h[i];
		h[i] = h[big];
		h[big] = t;
		i = big;
	}
}

static void
SiftUp(LatentPoint *h, int i)
{
	while (i > 0 && PointCmp(&h[(i - 1) / 2], &h[i]) < 0)
	{
		LatentPoint t = h[i];

		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/*
 * vae_plot_latent_trans(state, model, row or features [, label]): rows with
 * a NULL model or row are skipped.  Every row of a group must come with the
 * same model.  A row outside the sample is not even encoded.
 */
Datum
vae_plot_latent_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	LatentState *st;
	VaeModelCache *c;
	const float *x;
	LatentPoint cand = {0};
	LatentPoint *slot;
	char		msg[VC_ERRMSG_LEN];
	VcStatus	rc;
	int			j;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "vae_plot_latent_trans called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (LatentState *) PG_GETARG_POINTER(0);
	if (st == NULL)
	{
		st = MemoryContextAllocZero(aggcxt, sizeof(LatentState));
		st->cxt = aggcxt;
		st->labelled = PG_NARGS() > 3;
		st->heap = MemoryContextAlloc(aggcxt, sizeof(LatentPoint) * LATENT_MAX_POINTS);
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);

	c = VaeGetModel(fcinfo, 1);
	if (st->rows == 0)
	{
		st->model_crc = c->crc;
		st->model_len = c->len;
		st->latent = c->model->opt.latent_dim;
		st->method = c->model->opt.method;
		st->mu = MemoryContextAlloc(aggcxt, sizeof(float) * st->latent);
	}
	else if (c->crc != st->model_crc || c->len != st->model_len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vae_plot_latent draws the rows of one model: this row comes with another model"),
				 errhint("GROUP BY the model to draw one map per model.")));
	/* the kind check of the scoring functions, naming this aggregate */
	if (st->rows == 0)
	{
		Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 2);

		st->row_form = OidIsValid(type) && type_is_rowtype(type);
	}
	if (st->row_form && c->model->schema == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("this model was trained on feature arrays: pass an array, as in vae_plot_latent(model, features)")));
	if (!st->row_form && c->model->schema != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("this model was trained on rows: pass a row, as in vae_plot_latent(model, t)")));
	x = VaeGetScoringInput(fcinfo, c, 2);
	st->rows++;

	cand.hash = vc_hash_row(x, c->model->n_cols, LATENT_HASH_SEED);
	if (st->labelled && !PG_ARGISNULL(3))
		cand.label = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (st->n == LATENT_MAX_POINTS && PointCmp(&cand, &st->heap[0]) >= 0)
		PG_RETURN_POINTER(st);

	/* encode (and score) it */
	for (j = 0; j < st->latent; j++)
		st->mu[j] = 0;
	rc = vc_encode_row(c->model, c->scratch, x, st->mu, msg);
	if (rc != VC_OK)
	{
		/* a mean that overflows is left out (and counted); a bad value is an error */
		for (j = 0; j < st->latent; j++)
			if (!isfinite(st->mu[j]))
				break;
		if (j == st->latent)
			VaeReportStatus(rc, msg);
		st->skipped++;
		PG_RETURN_POINTER(st);
	}
	cand.score = 0;
	if (!st->labelled)
	{
		double		out[VC_N_METHODS];

		VaeCheckStatus(vc_score_row(c->model, c->scratch, x, 1u << c->model->opt.method,
									out, msg), msg);
		cand.score = out[c->model->opt.method];
	}
	/* into the heap: a new slot, or in place of the largest kept */
	if (st->n < LATENT_MAX_POINTS)
	{
		slot = &st->heap[st->n];
		slot->mu = MemoryContextAlloc(aggcxt, sizeof(float) * st->latent);
	}
	else
	{
		slot = &st->heap[0];
		if (slot->label)
			pfree(slot->label);
	}
	memcpy(slot->mu, st->mu, sizeof(float) * st->latent);
	slot->hash = cand.hash;
	slot->score = cand.score;
	slot->label = cand.label ? MemoryContextStrdup(aggcxt, cand.label) : NULL;
	if (st->n < LATENT_MAX_POINTS)
		SiftUp(st->heap, st->n++);
	else
		SiftDown(st->heap, st->n, 0);
	PG_RETURN_POINTER(st);
}

/* ---- the final function ---- */

static int
PointQsortCmp(const void *a, const void *b)
{
	return PointCmp(a, b);
}

static int
DoubleCmp(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The leading eigenvector of the covariance of the centred k x d matrix X
 * (row-major), orthogonal to `against` when given, by power iteration on
 * X^T X from a fixed start: deterministic.  The sign makes its largest
 * component positive (the first of equal ones).  Returns the variance
 * along it.
 */
static double
PrincipalAxis(const double *X, int k, int d, const double *against, double *v)
{
	double	   *w = palloc(sizeof(double) * d),
			   *t = palloc(sizeof(double) * k);
	double		var = 0;
	int			it,
				i,
				j,
				big = 0;

	for (j = 0; j < d; j++)
		v[j] = 1.0 + 0.1 * j / d;	/* not orthogonal to any axis in practice */
	for (it = 0; it < 500; it++)
	{
		double		norm = 0,
					dot = 0,
					change = 0;

		CHECK_FOR_INTERRUPTS();
		if (against)
		{
			for (j = 0; j < d; j++)
				dot += v[j] * against[j];
			for (j = 0; j < d; j++)
				v[j] -= dot * against[j];
		}
		for (i = 0; i < k; i++)
		{
			double		sum = 0;

			for (j = 0; j < d; j++)
				sum += X[(size_t) i * d + j] * v[j];
			t[i] = sum;
		}
		for (j = 0; j < d; j++)
			w[j] = 0;
		for (i = 0; i < k; i++)
			for (j = 0; j < d; j++)
				w[j] += X[(size_t) i * d + j] * t[i];
		if (against)
		{
			dot = 0;
			for (j = 0; j < d; j++)
				dot += w[j] * against[j];
			for (j = 0; j < d; j++)
				w[j] -= dot * against[j];
		}
		for (j = 0; j < d; j++)
			norm += w[j] * w[j];
		norm = sqrt(norm);
		if (!(norm > 0))
			break;				/* no variance left (all points on a line) */
		for (j = 0; j < d; j++)
		{
			w[j] /= norm;
			change += fabs(w[j] - v[j]);
			v[j] = w[j];
		}
		if (change < 1e-12 * d)
			break;
	}
	for (j = 1; j < d; j++)
		if (fabs(v[j]) > fabs(v[big]) + 1e-12)
			big = j;
	if (v[big] < 0)
		for (j = 0; j < d; j++)
			v[j] = -v[j];
	for (i = 0; i < k; i++)
	{
		double		p = 0;

		for (j = 0; j < d; j++)
			p += X[(size_t) i * d + j] * v[j];
		var += p * p;
	}
	pfree(w);
	pfree(t);
	return k > 1 ? var / (k - 1) : 0;
}

/* a label's colour class: its count, and its text */
typedef struct LabelClass
{
	const char *label;			/* NULL: the NULL label */
	int			count;
} LabelClass;

static int
LabelClassCmp(const void *a, const void *b)
{
	const LabelClass *x = a,
			   *y = b;

	if (x->count != y->count)
		return y->count - x->count;
	if (x->label == NULL || y->label == NULL)
		return (x->label != NULL) - (y->label != NULL);
	return strcmp(x->label, y->label);
}

static int
LabelCmp(const void *a, const void *b)
{
	const char *x = *(const char *const *) a,
			   *y = *(const char *const *) b;

	if (x == NULL || y == NULL)
		return (x != NULL) - (y != NULL);
	return strcmp(x, y);
}

/* the frame of the map; the legend or colour bar is to its right */
static const SvgFrame latent_frame = {80, 62, 600, 378};

/*
 * The labels of the points by count (then text), the first
 * SVG_N_CATEGORICAL with a colour each when there are no more, else
 * LATENT_MAX_LABELS and "other" for the rest; cls[i] the class of point i
 * (SVG_N_CATEGORICAL for "other", grey).
 */
static int
LabelClasses(const LatentPoint *p, int n, LabelClass **out, int *cls)
{
	const char **labels = palloc(sizeof(char *) * n);
	LabelClass *c = palloc(sizeof(LabelClass) * n);
	int			nc = 0,
				i,
				j;

	for (i = 0; i < n; i++)
		labels[i] = p[i].label;
	qsort(labels, n, sizeof(char *), LabelCmp);
	for (i = 0; i < n; i++)
	{
		if (nc > 0 && LabelCmp(&labels[i], &c[nc - 1].label) == 0)
			c[nc - 1].count++;
		else
		{
			c[nc].label = labels[i];
			c[nc].count = 1;
			nc++;
		}
	}
	qsort(c, nc, sizeof(LabelClass), LabelClassCmp);
	for (i = 0; i < n; i++)
	{
		cls[i] = SVG_N_CATEGORICAL;	/* "other": grey */
		for (j = 0; j < (nc > SVG_N_CATEGORICAL ? LATENT_MAX_LABELS : nc); j++)
			if (LabelCmp(&p[i].label, &c[j].label) == 0)
			{
				cls[i] = j;
				break;
			}
	}
	*out = c;
	return nc;
}

/* the colour bar of the score scale [lo, hi], right of the frame */
static void
ColourBar(StringInfo s, const SvgFrame *f, double lo, double hi, bool clipped,
		  const char *method)
{
	double		x = f->right + 40,
				h = f->bottom - f->top - 60,
				y0 = f->top + 30;
	char		col[8],
				style[64],
				buf[48],
				num[32];
	int			i;

	snprintf(buf, sizeof(buf), "score (%s)", method);
	SvgText(s, x, f->top + 12, "start", 12, NULL, buf);
	for (i = 0; i < 50; i++)
	{
		SvgSequential(1.0 - (i + 0.5) / 50, col);
		snprintf(style, sizeof(style), "fill=\"%s\"", col);
		SvgRect(s, x, y0 + h * i / 50, 18, h / 50 + 0.6, style);
	}
	SvgRect(s, x, y0, 18, h, "fill=\"none\" stroke=\"#333333\"");
	snprintf(buf, sizeof(buf), "%s%s", clipped ? ">= " : "", SvgFormatSig(hi, 4, num, sizeof(num)));
	SvgText(s, x + 24, y0 + 4, "start", 11, NULL, buf);
	SvgText(s, x + 24, y0 + h / 2 + 4, "start", 11, NULL,
			SvgFormatSig((lo + hi) / 2, 4, num, sizeof(num)));
	SvgText(s, x + 24, y0 + h + 4, "start", 11, NULL, SvgFormatSig(lo, 4, num, sizeof(num)));
	SvgText(s, x, y0 + h + 24, "start", 11, "fill=\"#555555\"", "higher = more unusual");
}

static char *
LatentPicture(LatentState *st)
{
	StringInfoData s;
	SvgFrame	f = latent_frame;
	SvgAxis		ax,
				ay;
	LatentPoint *p = st->heap;
	int			n = st->n,
				d = st->latent,
				i,
				j;
	double	   *px = palloc(sizeof(double) * n),
			   *py = palloc(sizeof(double) * n);
	int		   *order = palloc(sizeof(int) * n);
	int		   *cls = palloc(sizeof(int) * n);
	const char *xlabel,
			   *ylabel;
	char		xl[96],
				yl[96],
				sub[256],
				b1[32],
				b2[32],
				b3[32];
	double		slo = 0,
				shi = 1;
	bool		sclipped = false;

	/* canonical order: everything below is a function of the sample alone */
	qsort(p, n, sizeof(LatentPoint), PointQsortCmp);
	if (d == 1)
	{
		for (i = 0; i < n; i++)
		{
			px[i] = p[i].mu[0];
			/* remixed: the sample's hashes are the smallest, not uniform */
			py[i] = (double) (vc_mix64(p[i].hash) >> 11) / (double) (UINT64CONST(1) << 53);
		}
		xlabel = "z1 (latent mean)";
		ylabel = "random spread (the latent is one-dimensional)";
	}
	else if (d == 2)
	{
		for (i = 0; i < n; i++)
		{
			px[i] = p[i].mu[0];
			py[i] = p[i].mu[1];
		}
		xlabel = "z1 (latent mean)";
		ylabel = "z2 (latent mean)";
	}
	else
	{
		/* the first two principal axes of the sample's latent means */
		double	   *X = palloc(sizeof(double) * n * d),
				   *mean = palloc0(sizeof(double) * d),
				   *v1 = palloc(sizeof(double) * d),
				   *v2 = palloc(sizeof(double) * d);
		double		total = 0,
					var1,
					var2;

		for (i = 0; i < n; i++)
			for (j = 0; j < d; j++)
				mean[j] += p[i].mu[j];
		for (j = 0; j < d; j++)
			mean[j] /= n;
		for (i = 0; i < n; i++)
			for (j = 0; j < d; j++)
			{
				X[(size_t) i * d + j] = p[i].mu[j] - mean[j];
				total += X[(size_t) i * d + j] * X[(size_t) i * d + j];
			}
		total = n > 1 ? total / (n - 1) : 0;
		var1 = PrincipalAxis(X, n, d, NULL, v1);
		var2 = PrincipalAxis(X, n, d, v1, v2);
		for (i = 0; i < n; i++)
		{
			double		a = 0,
						b = 0;

			for (j = 0; j < d; j++)
			{
				a += X[(size_t) i * d + j] * v1[j];
				b += X[(size_t) i * d + j] * v2[j];
			}
			px[i] = a;
			py[i] = b;
		}
		snprintf(xl, sizeof(xl), "principal axis 1 (%s%% of the latent variance)",
				 SvgFormatSig(total > 0 ? 100 * var1 / total : 0, 3, b1, sizeof(b1)));
		snprintf(yl, sizeof(yl), "principal axis 2 (%s%%)",
				 SvgFormatSig(total > 0 ? 100 * var2 / total : 0, 3, b1, sizeof(b1)));
		xlabel = xl;
		ylabel = yl;
	}

	ax.lo = ay.lo = 0;
	ax.hi = ay.hi = 0;
	for (i = 0; i < n; i++)
	{
		if (i == 0 || px[i] < ax.lo)
			ax.lo = px[i];
		if (i == 0 || px[i] > ax.hi)
			ax.hi = px[i];
		if (i == 0 || py[i] < ay.lo)
			ay.lo = py[i];
		if (i == 0 || py[i] > ay.hi)
			ay.hi = py[i];
	}
	SvgPadRange(&ax.lo, &ax.hi, 0.04);
	SvgPadRange(&ay.lo, &ay.hi, 0.04);
	ax.p0 = f.left;
	ax.p1 = f.right;
	ay.p0 = f.bottom;
	ay.p1 = f.top;

	/* the drawing order: by score (the unusual on top), else the sample order */
	for (i = 0; i < n; i++)
		order[i] = i;
	if (!st->labelled)
	{
		double	   *sorted = palloc(sizeof(double) * n);
		int			top;

		int			nf = 0;

		/* the finite scores (an overflowing one is +Infinity: the top colour) */
		for (i = 0; i < n; i++)
			if (isfinite(p[i].score))
				sorted[nf++] = p[i].score;
		qsort(sorted, nf, sizeof(double), DoubleCmp);
		/* the scale: lowest to the 98th percentile, the tail in the top colour */
		if (nf > 0)
		{
			top = (int) floor(0.98 * (nf - 1));
			slo = sorted[0];
			shi = sorted[top];
		}
		sclipped = nf < n || (nf > 0 && sorted[nf - 1] > shi);
		if (!(shi > slo))
			SvgPadRange(&slo, &shi, 0);
		for (i = 1; i < n; i++)
		{
			/* insertion sort by score, stable: ties keep the sample order */
			int			o = order[i],
						k = i - 1;

			while (k >= 0 && p[order[k]].score > p[o].score)
			{
				order[k + 1] = order[k];
				k--;
			}
			order[k + 1] = o;
		}
	}

	initStringInfo(&s);
	SvgBegin(&s, SVG_WIDTH, SVG_HEIGHT, "Latent map");
	SvgText(&s, SVG_WIDTH / 2.0, 26, "middle", 16, "font-weight=\"bold\"", "Latent map");
	if (st->rows > n + st->skipped)
		snprintf(sub, sizeof(sub), "%s rows; %s drawn, a sample (the smallest row hashes)%s%s%s",
				 SvgFormatCount(st->rows, b1, sizeof(b1)), SvgFormatCount(n, b2, sizeof(b2)),
				 st->skipped ? "; " : "",
				 st->skipped ? SvgFormatCount(st->skipped, b3, sizeof(b3)) : "",
				 st->skipped ? " left out (the mean overflows)" : "");
	else
		snprintf(sub, sizeof(sub), "%s rows, all drawn%s%s%s",
				 SvgFormatCount(st->rows, b1, sizeof(b1)),
				 st->skipped ? "; " : "",
				 st->skipped ? SvgFormatCount(st->skipped, b3, sizeof(b3)) : "",
				 st->skipped ? " left out (the mean overflows)" : "");
	SvgText(&s, SVG_WIDTH / 2.0, 45, "middle", 12, "fill=\"#555555\"", sub);
	SvgAxisSide(&s, &f, &ay, ylabel, false, false, true);
	SvgAxisBottom(&s, &f, &ax, xlabel, false);
	SvgRect(&s, f.left, f.top, f.right - f.left, f.bottom - f.top,
			"fill=\"none\" stroke=\"#cccccc\"");

	if (st->labelled)
	{
		LabelClass *c;
		int			nc = LabelClasses(p, n, &c, cls),
					shown = nc > SVG_N_CATEGORICAL ? LATENT_MAX_LABELS : nc,
					other = 0;

		appendStringInfoString(&s, "<g fill-opacity=\"0.8\">\n");
		for (i = 0; i < n; i++)
		{
			char		style[32];

			snprintf(style, sizeof(style), "fill=\"%s\"", SvgCategorical(cls[i]));
			SvgCircle(&s, SvgMap(&ax, px[i]), SvgMap(&ay, py[i]), 2.6, style);
		}
		appendStringInfoString(&s, "</g>\n");
		SvgText(&s, f.right + 20, f.top + 12, "start", 12, NULL, "label (points)");
		for (j = 0; j < shown; j++)
		{
			char		text[64];
			char	   *lab = c[j].label ? pnstrdup(c[j].label, 1000) : NULL;

			/* at most 18 characters of the label in the legend */
			if (lab && pg_mbstrlen(lab) > 18)
			{
				lab[pg_mbcharcliplen(lab, strlen(lab), 17)] = '\0';
				snprintf(text, sizeof(text), "%s... (%s)", lab,
						 SvgFormatCount(c[j].count, b1, sizeof(b1)));
			}
			else
				snprintf(text, sizeof(text), "%s (%s)", lab ? lab : "NULL",
						 SvgFormatCount(c[j].count, b1, sizeof(b1)));
			SvgLegendBox(&s, f.right + 16, f.top + 34 + 20 * j, SvgCategorical(j), text);
		}
		for (j = shown; j < nc; j++)
			other += c[j].count;
		if (other > 0)
		{
			char		text[64];

			snprintf(text, sizeof(text), "%d others (%s)", nc - shown,
					 SvgFormatCount(other, b1, sizeof(b1)));
			SvgLegendBox(&s, f.right + 16, f.top + 34 + 20 * shown,
						 SvgCategorical(SVG_N_CATEGORICAL), text);
		}
	}
	else
	{
		appendStringInfoString(&s, "<g fill-opacity=\"0.85\">\n");
		for (i = 0; i < n; i++)
		{
			int			k = order[i];
			char		col[8],
						style[32];

			SvgSequential((p[k].score - slo) / (shi - slo), col);
			snprintf(style, sizeof(style), "fill=\"%s\"", col);
			SvgCircle(&s, SvgMap(&ax, px[k]), SvgMap(&ay, py[k]), 2.6, style);
		}
		appendStringInfoString(&s, "</g>\n");
		ColourBar(&s, &f, slo, shi, sclipped, vc_method_name(st->method));
	}
	SvgEnd(&s);
	return s.data;
}

/*
 * vae_plot_latent_final(state): the picture; no rows (or none with a
 * finite latent mean): a picture saying so, so that a file written from it
 * is still an image.
 */
Datum
vae_plot_latent_final(PG_FUNCTION_ARGS)
{
	LatentState *st;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "vae_plot_latent_final called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (LatentState *) PG_GETARG_POINTER(0);
	if (st == NULL || st->rows == 0)
		PG_RETURN_TEXT_P(cstring_to_text(SvgMessage("Latent map", "no rows")));
	if (st->n == 0)
		PG_RETURN_TEXT_P(cstring_to_text(SvgMessage("Latent map",
													"no row with a finite latent mean")));
	PG_RETURN_TEXT_P(cstring_to_text(LatentPicture(st)));
}
