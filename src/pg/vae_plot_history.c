/*
 * vae_plot_history.c - vae_plot_history(title, at, rows, anomalies, flagged):
 * a report's run history as an SVG picture (the building block of
 * vae_plot_report): rows scored per run as bars (left axis), anomalies per
 * run as a line (right axis), drift-flagged runs shaded, over a time axis
 * in UTC (so the picture never depends on the TimeZone setting: IMMUTABLE).
 */
#include "vae.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "vae_svg.h"

PG_FUNCTION_INFO_V1(vae_plot_history);

typedef struct Run
{
	TimestampTz at;
	int			index;			/* position in the arrays: ties keep their order */
	bool		has_rows,
				has_anomalies;
	int64		rows,
				anomalies;
	bool		flagged;
} Run;

/* runs ordered by time, then by position in the input */
static int
RunCmp(const void *a, const void *b)
{
	const Run  *x = a,
			   *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->index - y->index;
}

/*
 * The elements of a one-dimensional array argument (NULL array: none, n =
 * -1), checked to have `want` elements when want >= 0.
 */
static void
ArrayArg(FunctionCallInfo fcinfo, int argno, Oid elemtype, int elemlen, bool byval,
		 char align, Datum **values, bool **nulls, int *n, int want)
{
	ArrayType  *a;
	const char *name = argno == 1 ? "at" : argno == 2 ? "rows" :
	argno == 3 ? "anomalies" : "flagged";

	*n = -1;
	*values = NULL;
	*nulls = NULL;
	if (PG_ARGISNULL(argno))
		return;
	a = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("vae_plot_history: %s must be a one-dimensional array", name)));
	deconstruct_array(a, elemtype, elemlen, byval, align, values, nulls, n);
	if (want >= 0 && *n != want)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("vae_plot_history: %s has %d elements, but at has %d",
						name, *n, want),
				 errdetail("Element i of every array describes run i.")));
}

/* ---- the time axis ---- */

#define SECS	((int64) USECS_PER_SEC)
#define MINS	((int64) 60 * SECS)
#define HOURS	((int64) 60 * MINS)
#define DAYS	((int64) 24 * HOURS)

/* tick steps shorter than a month, in microseconds */
static const int64 time_steps[] = {
	1 * SECS, 2 * SECS, 5 * SECS, 10 * SECS, 15 * SECS, 30 * SECS,
	1 * MINS, 2 * MINS, 5 * MINS, 10 * MINS, 15 * MINS, 30 * MINS,
	1 * HOURS, 2 * HOURS, 3 * HOURS, 6 * HOURS, 12 * HOURS,
	1 * DAYS, 2 * DAYS, 7 * DAYS, 14 * DAYS
};
/* and of a month or more, in months */
static const int month_steps[] = {1, 2, 3, 6, 12, 24, 60, 120, 600};

/* t's UTC fields as text in the form the step calls for */
static void
TimeText(TimestampTz t, int64 step_us, int step_months, char *buf, size_t len)
{
	struct pg_tm tm;
	fsec_t		fsec;

	/* no time zone argument: the fields of UTC */
	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
	{
		snprintf(buf, len, "?");
		return;
	}
	if (step_months >= 12 && step_months % 12 == 0)
		snprintf(buf, len, "%04d", tm.tm_year);
	else if (step_months > 0)
		snprintf(buf, len, "%04d-%02d", tm.tm_year, tm.tm_mon);
	else if (step_us >= DAYS)
		snprintf(buf, len, "%04d-%02d-%02d", tm.tm_year, tm.tm_mon, tm.tm_mday);
	else if (step_us >= MINS)
		snprintf(buf, len, "%02d-%02d %02d:%02d", tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min);
	else
		snprintf(buf, len, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* the first day of month (year, month) 00:00 UTC; month may be out of 1..12 */
static TimestampTz
MonthStart(int year, int month)
{
	struct pg_tm tm = {0};
	Timestamp	t;

	year += (month - 1) / 12 - ((month - 1) % 12 < 0 ? 1 : 0);
	month = ((month - 1) % 12 + 12) % 12 + 1;
	tm.tm_year = year;
	tm.tm_mon = month;
	tm.tm_mday = 1;
	if (tm2timestamp(&tm, 0, NULL, &t) != 0)
		return DT_NOBEGIN;
	return t;
}

/*
 * The bottom time axis: ticks at round UTC times (a step from seconds to
 * years giving at most about 7 ticks), labelled in UTC.
 */
static void
TimeAxis(StringInfo s, const SvgFrame *f, const SvgAxis *a)
{
	double		span = a->hi - a->lo;
	int64		step = 0;
	int			months = 0,
				i;
	char		buf[64];

	for (i = 0; i < lengthof(time_steps); i++)
		if (span / time_steps[i] <= 7)
		{
			step = time_steps[i];
			break;
		}
	if (step == 0)
	{
		for (i = 0; i < lengthof(month_steps); i++)
			if (span / (month_steps[i] * 30.44 * DAYS) <= 7)
				break;
		months = month_steps[Min(i, lengthof(month_steps) - 1)];
	}
	SvgLine(s, f->left, f->bottom + 0.5, f->right, f->bottom + 0.5,
			"stroke=\"#333333\" stroke-width=\"1\"");
	if (months == 0)
	{
		/* multiples of the step since 2000-01-01 UTC (a Saturday: weeks not aligned) */
		int64		k = (int64) ceil(a->lo / step);
		int			drawn = 0;

		for (; (double) k * step <= a->hi && drawn < 20; k++, drawn++)
		{
			double		x = SvgMap(a, (double) k * step);

			SvgLine(s, x, f->bottom, x, f->bottom + 5, "stroke=\"#333333\"");
			TimeText((TimestampTz) (k * step), step, 0, buf, sizeof(buf));
			SvgText(s, x, f->bottom + 18, "middle", 11, NULL, buf);
		}
	}
	else
	{
		struct pg_tm tm;
		fsec_t		fsec;
		int			m,
					drawn = 0;

		if (timestamp2tm((TimestampTz) a->lo, NULL, &tm, &fsec, NULL, NULL) == 0)
			for (m = ((tm.tm_year * 12 + tm.tm_mon - 1) / months) * months;
				 drawn < 20; m += months)
			{
				TimestampTz t = MonthStart(m / 12, m % 12 + 1);
				double		x;

				if (t < a->lo)
					continue;
				if (t > a->hi)
					break;
				x = SvgMap(a, (double) t);
				SvgLine(s, x, f->bottom, x, f->bottom + 5, "stroke=\"#333333\"");
				TimeText(t, 0, months, buf, sizeof(buf));
				SvgText(s, x, f->bottom + 18, "middle", 11, NULL, buf);
				drawn++;
			}
	}
	SvgText(s, (f->left + f->right) / 2, f->bottom + 36, "middle", 13, NULL,
			"time of the run (UTC)");
}

/* ---- the picture ---- */

#define BAR_FILL	"#9ecae1"
#define LINE_COLOUR "#d62728"
#define FLAG_FILL	"#fdae6b"

/*
 * Many runs are drawn per pixel column of this width: the largest rows and
 * anomalies of the runs in it, flagged if any is, so the picture stays
 * small and nothing stands out less than it did.
 */
#define COLUMN_PX 3

static char *
HistoryPicture(const char *title, Run *runs, int n)
{
	StringInfoData s;
	SvgFrame	f = {80, 62, 720, 378};
	SvgAxis		ax,
				ay,
				ya;
	int64		max_rows = 0,
				max_anom = 0,
				n_flagged = 0;
	double		min_gap = -1,
				bar_w;
	char		sub[256],
				a[64];
	int			i,
				n_cols,
				n_drawn;
	bool		binned;
	Run		   *cols;

	for (i = 0; i < n; i++)
	{
		if (runs[i].has_rows)
			max_rows = Max(max_rows, runs[i].rows);
		if (runs[i].has_anomalies)
			max_anom = Max(max_anom, runs[i].anomalies);
		n_flagged += runs[i].flagged;
		if (i > 0 && runs[i].at > runs[i - 1].at &&
			(min_gap < 0 || runs[i].at - runs[i - 1].at < min_gap))
			min_gap = runs[i].at - runs[i - 1].at;
	}
	ax.lo = runs[0].at;
	ax.hi = runs[n - 1].at;
	if (ax.hi - ax.lo < 60.0 * USECS_PER_SEC)
	{
		/* one run, or all within a minute: a minute each side */
		ax.lo -= 60.0 * USECS_PER_SEC;
		ax.hi += 60.0 * USECS_PER_SEC;
	}
	else
	{
		/* room for half a bar at either end */
		double		pad = Max(0.03 * (ax.hi - ax.lo), min_gap > 0 ? 0.5 * min_gap : 0);

		ax.lo -= pad;
		ax.hi += pad;
	}
	ax.p0 = f.left;
	ax.p1 = f.right;
	ay.lo = 0;
	ay.hi = Max(1, max_rows) * 1.08;
	ay.p0 = f.bottom;
	ay.p1 = f.top;
	ya.lo = 0;
	ya.hi = Max(1, max_anom) * 1.08;
	ya.p0 = f.bottom;
	ya.p1 = f.top;

	/* bars: a share of the closest two runs' distance, or one pixel column */
	n_cols = (int) ((f.right - f.left) / COLUMN_PX);
	bar_w = min_gap > 0 ? 0.7 * min_gap / (ax.hi - ax.lo) * (f.right - f.left) : 24;
	binned = n > n_cols / 2 || bar_w < COLUMN_PX;
	if (binned)
	{
		/* per pixel column: the largest values, flagged if any run is */
		cols = palloc0(sizeof(Run) * n_cols);
		for (i = 0; i < n_cols; i++)
			cols[i].index = -1;
		for (i = 0; i < n; i++)
		{
			int			c = (int) ((SvgMap(&ax, runs[i].at) - f.left) / COLUMN_PX);
			Run		   *col;

			c = Max(0, Min(n_cols - 1, c));
			col = &cols[c];
			if (col->index < 0)
			{
				col->index = c;
				col->at = runs[i].at;
			}
			if (runs[i].has_rows)
				col->rows = col->has_rows ? Max(col->rows, runs[i].rows) : runs[i].rows;
			col->has_rows |= runs[i].has_rows;
			if (runs[i].has_anomalies)
				col->anomalies = col->has_anomalies ?
					Max(col->anomalies, runs[i].anomalies) : runs[i].anomalies;
			col->has_anomalies |= runs[i].has_anomalies;
			col->flagged |= runs[i].flagged;
		}
		bar_w = COLUMN_PX - 1;
	}
	else
	{
		cols = runs;
		n_cols = n;
		bar_w = Max(2, Min(40, bar_w));
	}

	initStringInfo(&s);
	SvgBegin(&s, SVG_WIDTH, SVG_HEIGHT, title);
	SvgText(&s, SVG_WIDTH / 2.0, 26, "middle", 16, "font-weight=\"bold\"", title);
	{
		char		t0[64],
					t1[64],
					d0[32],
					d1[32],
					cnt[32];

		TimeText(runs[0].at, DAYS, 0, d0, sizeof(d0));
		TimeText(runs[0].at, SECS, 0, t0, sizeof(t0));
		TimeText(runs[n - 1].at, DAYS, 0, d1, sizeof(d1));
		TimeText(runs[n - 1].at, SECS, 0, t1, sizeof(t1));
		snprintf(sub, sizeof(sub), "%s run%s, %s %s to %s %s UTC; %s drift-flagged%s",
				 SvgFormatCount(n, cnt, sizeof(cnt)), n == 1 ? "" : "s",
				 d0, t0, d1, t1, SvgFormatCount(n_flagged, a, sizeof(a)),
				 binned ? "; bars: largest run per column" : "");
	}
	SvgText(&s, SVG_WIDTH / 2.0, 45, "middle", 12, "fill=\"#555555\"", sub);

	SvgClipBegin(&s, &f, "history-frame");
	/* flagged runs first (behind), as shaded columns the frame's height */
	for (i = 0; i < n_cols; i++)
		if (cols[i].index >= 0 && cols[i].flagged)
		{
			/* a run's share of the axis: neighbouring flagged runs join into one band */
			double		x = SvgMap(&ax, cols[i].at);
			double		w = binned ? COLUMN_PX : Max(bar_w / 0.7, 6);

			SvgRect(&s, x - w / 2, f.top, w, f.bottom - f.top,
					"fill=\"" FLAG_FILL "\" fill-opacity=\"0.45\"");
		}
	SvgClipEnd(&s);
	SvgAxisSide(&s, &f, &ay, "rows scored per run", false, true, true);
	SvgAxisSide(&s, &f, &ya, "anomalies per run", true, true, false);
	SvgClipBegin(&s, &f, "history-bars");
	for (i = 0; i < n_cols; i++)
		if (cols[i].index >= 0 && cols[i].has_rows)
		{
			double		x = SvgMap(&ax, cols[i].at),
						y = SvgMap(&ay, (double) cols[i].rows);

			SvgRect(&s, x - bar_w / 2, y, bar_w, f.bottom - y, "fill=\"" BAR_FILL "\"");
		}

	/* anomalies: a line through the runs that have a count, dots when few */
	n_drawn = 0;
	appendStringInfoString(&s, "<path fill=\"none\" stroke=\"" LINE_COLOUR
						   "\" stroke-width=\"1.5\" d=\"");
	for (i = 0; i < n_cols; i++)
		if (cols[i].index >= 0 && cols[i].has_anomalies)
		{
			appendStringInfoChar(&s, n_drawn++ ? 'L' : 'M');
			SvgNum(&s, SvgMap(&ax, cols[i].at));
			appendStringInfoChar(&s, ' ');
			SvgNum(&s, SvgMap(&ya, (double) cols[i].anomalies));
		}
	if (n_drawn == 0)
		appendStringInfoString(&s, "M0 0");
	appendStringInfoString(&s, "\"/>\n");
	if (n_drawn <= 100)
		for (i = 0; i < n_cols; i++)
			if (cols[i].index >= 0 && cols[i].has_anomalies)
				SvgCircle(&s, SvgMap(&ax, cols[i].at), SvgMap(&ya, (double) cols[i].anomalies),
						  3, "fill=\"" LINE_COLOUR "\"");
	SvgClipEnd(&s);

	TimeAxis(&s, &f, &ax);
	SvgLegendBox(&s, 150, 436, BAR_FILL, "rows scored");
	SvgLegendLine(&s, 300, 436, "stroke=\"" LINE_COLOUR "\" stroke-width=\"2\"", "anomalies");
	SvgLegendBox(&s, 450, 436, FLAG_FILL, "drift flagged");
	SvgEnd(&s);
	return s.data;
}

/*
 * vae_plot_history(title, at, rows, anomalies, flagged): element i of the
 * arrays describes run i.  NULL arrays are no data (no runs when at is
 * NULL); runs without a finite time are left out, as are NULL counts.
 * Arrays of another length than at are an ERROR.  No runs: a picture
 * saying so.
 */
Datum
vae_plot_history(PG_FUNCTION_ARGS)
{
	const char *title = PG_ARGISNULL(0) ? "report history" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	Datum	   *at,
			   *rows,
			   *anom,
			   *flag;
	bool	   *at_null,
			   *rows_null,
			   *anom_null,
			   *flag_null;
	int			n_at,
				n_rows,
				n_anom,
				n_flag,
				n = 0,
				i;
	Run		   *runs;

	ArrayArg(fcinfo, 1, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
			 &at, &at_null, &n_at, -1);
	ArrayArg(fcinfo, 2, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
			 &rows, &rows_null, &n_rows, Max(n_at, 0));
	ArrayArg(fcinfo, 3, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
			 &anom, &anom_null, &n_anom, Max(n_at, 0));
	ArrayArg(fcinfo, 4, BOOLOID, 1, true, TYPALIGN_CHAR,
			 &flag, &flag_null, &n_flag, Max(n_at, 0));

	runs = palloc0(sizeof(Run) * Max(n_at, 1));
	for (i = 0; i < n_at; i++)
	{
		Run		   *r = &runs[n];

		if (at_null[i] || TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(at[i])))
			continue;
		r->at = DatumGetTimestampTz(at[i]);
		r->index = i;
		r->has_rows = n_rows >= 0 && !rows_null[i];
		r->rows = r->has_rows ? Max(0, DatumGetInt64(rows[i])) : 0;
		r->has_anomalies = n_anom >= 0 && !anom_null[i];
		r->anomalies = r->has_anomalies ? Max(0, DatumGetInt64(anom[i])) : 0;
		r->flagged = n_flag >= 0 && !flag_null[i] && DatumGetBool(flag[i]);
		n++;
	}
	if (n == 0)
		PG_RETURN_TEXT_P(cstring_to_text(SvgMessage(title, "no runs yet")));
	qsort(runs, n, sizeof(Run), RunCmp);
	PG_RETURN_TEXT_P(cstring_to_text(HistoryPicture(title, runs, n)));
}
