/*
 * vae_plot.c - the pictures of one model, as SVG documents (text):
 *   vae_plot_training(model)                the loss per epoch, train and
 *                                           validation, the kept epoch marked;
 *   vae_plot_scores(model [, contamination]) the stored training scores as a
 *                                           histogram, with the threshold.
 * Both depend on the model's bytes and the arguments only (IMMUTABLE); the
 * writer is vae_svg.c.  The latent map is vae_plot_latent.c, a report's
 * history vae_plot_history.c.
 */
#include "vae.h"

#include <math.h>

#include "utils/builtins.h"

#include "vae_svg.h"
#include "vc_options.h"

PG_FUNCTION_INFO_V1(vae_plot_training);
PG_FUNCTION_INFO_V1(vae_plot_scores);

#define TRAIN_COLOUR	"#1f77b4"
#define VAL_COLOUR		"#ff7f0e"
#define BEST_STYLE		"stroke=\"#555555\" stroke-width=\"1.2\" stroke-dasharray=\"5 4\""
#define BELOW_FILL		"#4e79a7"
#define ABOVE_FILL		"#e15759"
#define THRESHOLD_STYLE "stroke=\"#b22222\" stroke-width=\"2\" stroke-dasharray=\"6 4\""

/* the plot area of both pictures */
static const SvgFrame model_frame = {80, 62, 770, 378};

/*
 * A loss curve as one path: every epoch while there are no more epochs than
 * pixel columns; beyond that, per pixel column the smallest and the largest
 * value of its epochs, in the order they occur, so 10,000 epochs cost at
 * most two points a column and no spike is lost.  Non-finite values break
 * the line.
 */
static void
LossPath(StringInfo s, const double *v, int n, const SvgAxis *ax, const SvgAxis *ay,
		 const char *colour)
{
	int			cols = (int) (ax->p1 - ax->p0);
	bool		pen_down = false;
	int			c,
				i;

	/* "M0 0" first: a valid path even if no value is finite (it draws nothing) */
	appendStringInfo(s, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" "
					 "stroke-linejoin=\"round\" d=\"M0 0", colour);
	if (n <= cols)
		cols = n;
	for (c = 0; c < cols; c++)
	{
		/* epochs [a, b) of column c */
		int			a = (int) ((int64) c * n / cols),
					b = (int) ((int64) (c + 1) * n / cols);
		int			imin = -1,
					imax = -1;
		int			pick[2];

		for (i = a; i < b; i++)
		{
			if (!isfinite(v[i]))
			{
				pen_down = false;
				continue;
			}
			if (imin < 0 || v[i] < v[imin])
				imin = i;
			if (imax < 0 || v[i] > v[imax])
				imax = i;
		}
		if (imin < 0)
			continue;
		pick[0] = Min(imin, imax);
		pick[1] = Max(imin, imax);
		for (i = 0; i < (pick[0] == pick[1] ? 1 : 2); i++)
		{
			appendStringInfoChar(s, pen_down ? 'L' : 'M');
			SvgNum(s, SvgMap(ax, pick[i] + 1));
			appendStringInfoChar(s, ' ');
			SvgNum(s, SvgMap(ay, v[pick[i]]));
			pen_down = true;
		}
	}
	appendStringInfoString(s, "\"/>\n");
}

/* the smallest and largest finite value of v[from, n) into *lo, *hi; false if none */
static bool
FiniteRange(const double *v, int from, int n, double *lo, double *hi)
{
	bool		any = false;
	int			i;

	for (i = from; i < n; i++)
		if (isfinite(v[i]))
		{
			if (!any || v[i] < *lo)
				*lo = v[i];
			if (!any || v[i] > *hi)
				*hi = v[i];
			any = true;
		}
	return any;
}

/*
 * The training picture.  The loss usually falls steeply in the first
 * epochs; when the first tenth of the epochs reaches more than four times
 * as high as the rest, the y axis stops a little above the rest (the early
 * curve leaves the top of the frame, and the picture says so), otherwise
 * the flat part where the best epoch lies would be a line at the bottom.
 */
static char *
TrainingPicture(const VcModel *m)
{
	StringInfoData s;
	SvgFrame	f = model_frame;
	SvgAxis		ax,
				ay;
	int			n = m->epochs_run,
				best = m->best_epoch;
	double		lo = 0,
				hi = 0,
				vlo = 0,
				vhi = 0,
				tail_lo = 0,
				tail_hi = 0;
	bool		has_val,
				clipped = false;
	const double *decider;
	char		sub[256],
				b1[32],
				b2[32];

	has_val = FiniteRange(m->val_loss, 0, n, &vlo, &vhi);
	if (!FiniteRange(m->train_loss, 0, n, &lo, &hi))
		return SvgMessage("Training loss", "no finite loss recorded");
	if (has_val)
	{
		lo = Min(lo, vlo);
		hi = Max(hi, vhi);
	}
	if (n >= 10)
	{
		int			from = n / 10;
		bool		any = FiniteRange(m->train_loss, from, n, &tail_lo, &tail_hi);

		if (has_val)
		{
			double		a = 0,
						b = 0;

			if (FiniteRange(m->val_loss, from, n, &a, &b))
			{
				tail_lo = any ? Min(tail_lo, a) : a;
				tail_hi = any ? Max(tail_hi, b) : b;
				any = true;
			}
		}
		if (any && hi - lo > 4 * (tail_hi - lo) && tail_hi > lo)
		{
			hi = tail_hi + 0.15 * (tail_hi - lo);
			clipped = true;
		}
	}
	SvgPadRange(&lo, &hi, 0.04);
	ax.lo = n > 1 ? 1 : 0.5;
	ax.hi = n > 1 ? n : 1.5;
	ax.p0 = f.left;
	ax.p1 = f.right;
	ay.lo = lo;
	ay.hi = hi;
	ay.p0 = f.bottom;
	ay.p1 = f.top;

	initStringInfo(&s);
	SvgBegin(&s, SVG_WIDTH, SVG_HEIGHT, "Training loss");
	SvgText(&s, SVG_WIDTH / 2.0, 26, "middle", 16, "font-weight=\"bold\"", "Training loss");
	snprintf(sub, sizeof(sub), "%s epoch%s on %s rows; weights of epoch %d%s%s%s",
			 SvgFormatCount(n, b1, sizeof(b1)), n == 1 ? "" : "s",
			 SvgFormatCount(m->rows, b2, sizeof(b2)), best,
			 has_val && n < m->opt.epochs ? " (early stopping)" : "",
			 has_val ? "" : "; no rows held out",
			 clipped ? "; first epochs above the frame" : "");
	SvgText(&s, SVG_WIDTH / 2.0, 45, "middle", 12, "fill=\"#555555\"", sub);
	SvgAxisSide(&s, &f, &ay, "loss per row (negative ELBO)", false, false, true);
	SvgAxisBottom(&s, &f, &ax, "epoch", true);

	/* the kept epoch, behind the curves */
	if (best >= 1 && best <= n)
		SvgLine(&s, SvgMap(&ax, best), f.top, SvgMap(&ax, best), f.bottom, BEST_STYLE);
	SvgClipBegin(&s, &f, "training-frame");
	LossPath(&s, m->train_loss, n, &ax, &ay, TRAIN_COLOUR);
	if (has_val)
		LossPath(&s, m->val_loss, n, &ax, &ay, VAL_COLOUR);
	decider = has_val ? m->val_loss : m->train_loss;
	if (best >= 1 && best <= n && isfinite(decider[best - 1]))
		SvgCircle(&s, SvgMap(&ax, best), SvgMap(&ay, decider[best - 1]), 4.5,
				  has_val ? "fill=\"" VAL_COLOUR "\" stroke=\"#333333\""
				  : "fill=\"" TRAIN_COLOUR "\" stroke=\"#333333\"");
	SvgClipEnd(&s);

	/* the legend, top right inside the frame, on a white box */
	SvgRect(&s, f.right - 212, f.top + 8, 204, has_val ? 66 : 48,
			"fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#cccccc\"");
	SvgLegendLine(&s, f.right - 204, f.top + 22,
				  "stroke=\"" TRAIN_COLOUR "\" stroke-width=\"2\"", "training rows");
	if (has_val)
		SvgLegendLine(&s, f.right - 204, f.top + 40,
					  "stroke=\"" VAL_COLOUR "\" stroke-width=\"2\"", "held-out rows (validation)");
	snprintf(sub, sizeof(sub), "kept: epoch %d", best);
	SvgLegendLine(&s, f.right - 204, f.top + (has_val ? 58 : 40), BEST_STYLE, sub);
	SvgEnd(&s);
	return s.data;
}

/* vae_plot_training(model): the loss curves of a model's training */
Datum
vae_plot_training(PG_FUNCTION_ARGS)
{
	VaeModelCache *c = VaeGetModel(fcinfo, 0);

	PG_RETURN_TEXT_P(cstring_to_text(TrainingPicture(c->model)));
}

/* ---- the score histogram ---- */

#define SCORE_BINS 60

/*
 * The histogram of the stored training scores (the model's scoring method, sorted), cut at
 * thr.  A long right tail would squeeze the bulk into a few bins, so the
 * score axis ends at the 99th percentile (or at the threshold, if that is
 * further right) when the largest score lies much further out; the scores
 * beyond are counted in one bar of their own past the end of the axis.
 * Counts stay linear: the bars above the threshold are few but the
 * overflow bar and the text say how many.
 */
static char *
ScoresPicture(const VcModel *m, double thr, const char *cut_rule)
{
	int			method = m->opt.method;
	const float *sc = m->scores[method];
	StringInfoData s;
	SvgFrame	f = model_frame;
	SvgAxis		ax,
				ay;
	int64		bins[SCORE_BINS] = {0},
				over = 0,
				above = 0,
				max_count = 1;
	int			n = 0,
				first = -1,
				i;
	double		lo,
				hi,
				top,
				q99,
				width;
	bool		clipped = false;
	char		sub[256],
				b1[32],
				b2[32],
				b3[32];

	/* the finite scores (sorted: NaN would only come from a damaged model) */
	for (i = 0; i < m->n_scores; i++)
		if (isfinite(sc[i]))
		{
			if (first < 0)
				first = i;
			n++;
		}
	if (n == 0)
		return SvgMessage("Training scores", "the model stores no training scores");
	/* the finite ones are consecutive in the sorted array: [first, first + n) */
	sc += first;
	lo = sc[0];
	top = sc[n - 1];
	q99 = sc[(int) floor(0.99 * (n - 1))];
	hi = top;
	if (isfinite(thr) && top - lo > 0)
	{
		double		cut = Max(q99, thr);

		if (top > cut + 0.25 * (cut - lo) && cut > lo)
		{
			hi = cut + 0.05 * (cut - lo);
			clipped = true;
		}
	}
	if (isfinite(thr) && thr > hi)
		hi = thr + 0.02 * (thr - lo);
	if (!(hi > lo))
		SvgPadRange(&lo, &hi, 0.0);
	width = (hi - lo) / SCORE_BINS;
	for (i = 0; i < n; i++)
	{
		if (sc[i] > hi)
			over++;
		else
			bins[Min(SCORE_BINS - 1, (int) ((sc[i] - lo) / width))]++;
		if (isfinite(thr) && sc[i] > thr)
			above++;
	}
	for (i = 0; i < SCORE_BINS; i++)
		max_count = Max(max_count, bins[i]);
	max_count = Max(max_count, over);

	ax.lo = lo;
	ax.hi = hi;
	ax.p0 = f.left;
	ax.p1 = clipped ? f.right - 50 : f.right;
	ay.lo = 0;
	ay.hi = max_count * 1.1;
	ay.p0 = f.bottom;
	ay.p1 = f.top;

	initStringInfo(&s);
	SvgBegin(&s, SVG_WIDTH, SVG_HEIGHT, "Training scores");
	snprintf(sub, sizeof(sub), "Training scores (%s)", vc_method_name(method));
	SvgText(&s, SVG_WIDTH / 2.0, 26, "middle", 16, "font-weight=\"bold\"", sub);
	snprintf(sub, sizeof(sub), "%s training rows kept in the model; %s above the threshold (%s%%)",
			 SvgFormatCount(n, b1, sizeof(b1)), SvgFormatCount(above, b2, sizeof(b2)),
			 SvgFormatSig(100.0 * above / n, 3, b3, sizeof(b3)));
	SvgText(&s, SVG_WIDTH / 2.0, 45, "middle", 12, "fill=\"#555555\"", sub);
	SvgAxisSide(&s, &f, &ay, "training rows", false, true, true);
	{
		SvgFrame	fx = f;

		fx.right = ax.p1;
		SvgAxisBottom(&s, &fx, &ax,
					  method == VC_METHOD_MSE ? "score: mean squared error (higher = more unusual)" :
					  method == VC_METHOD_ELBO ? "score: negative ELBO (higher = more unusual)" :
					  "score: negative log-likelihood (higher = more unusual)", false);
	}
	for (i = 0; i < SCORE_BINS; i++)
		if (bins[i] > 0)
		{
			double		x0 = SvgMap(&ax, lo + i * width),
						x1 = SvgMap(&ax, lo + (i + 1) * width),
						y = SvgMap(&ay, (double) bins[i]);

			SvgRect(&s, x0 + 0.5, y, x1 - x0 - 1, f.bottom - y,
					isfinite(thr) && lo + (i + 0.5) * width > thr
					? "fill=\"" ABOVE_FILL "\"" : "fill=\"" BELOW_FILL "\"");
		}
	if (clipped)
	{
		/* the tail past the axis: one bar, after a break */
		double		x0 = ax.p1 + 14,
					y = SvgMap(&ay, (double) over);

		SvgRect(&s, x0, y, 28, f.bottom - y, "fill=\"" ABOVE_FILL "\" fill-opacity=\"0.7\"");
		snprintf(sub, sizeof(sub), "> %s", SvgFormatSig(hi, 3, b1, sizeof(b1)));
		SvgText(&s, x0 + 14, f.bottom + 18, "middle", 11, NULL, sub);
		snprintf(sub, sizeof(sub), "%s", SvgFormatCount(over, b2, sizeof(b2)));
		SvgText(&s, x0 + 14, Min(y, f.bottom - 4) - 6, "middle", 11, NULL, sub);
	}
	if (isfinite(thr))
	{
		double		x = SvgMap(&ax, thr);

		SvgLine(&s, x, f.top, x, f.bottom, THRESHOLD_STYLE);
		snprintf(sub, sizeof(sub), "threshold %s (%s)",
				 SvgFormatSig(thr, 4, b1, sizeof(b1)), cut_rule);
		/* the label on the side with more room */
		if (x < (f.left + f.right) / 2)
			SvgText(&s, x + 6, f.top + 14, "start", 12, "fill=\"#b22222\"", sub);
		else
			SvgText(&s, x - 6, f.top + 14, "end", 12, "fill=\"#b22222\"", sub);
	}
	SvgEnd(&s);
	return s.data;
}

/*
 * vae_plot_scores(model, contamination DEFAULT NULL): the histogram of the
 * training scores with the cut vae_threshold(model [, contamination])
 * gives: the automatic one for NULL.
 */
Datum
vae_plot_scores(PG_FUNCTION_ARGS)
{
	VaeModelCache *c;
	double		thr;
	char		rule[64],
				buf[32];

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	c = VaeGetModel(fcinfo, 0);
	if (PG_ARGISNULL(1))
	{
		thr = vc_threshold_auto(c->model, c->model->opt.method);
		snprintf(rule, sizeof(rule), "automatic: Q3 + 1.5 IQR");
	}
	else
	{
		double		contamination = PG_GETARG_FLOAT8(1);

		VaeCheckContamination(contamination);
		thr = vc_threshold(c->model, c->model->opt.method, contamination);
		snprintf(rule, sizeof(rule), "contamination %s",
				 SvgFormatSig(contamination, 6, buf, sizeof(buf)));
	}
	PG_RETURN_TEXT_P(cstring_to_text(ScoresPicture(c->model, thr, rule)));
}
