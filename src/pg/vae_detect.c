/*
 * vae_detect.c - detection in one call: vae_detect(model, row or features
 * [, contamination [, top_columns [, method]]]) returns a vae_detection, the
 * score, the threshold it is compared with, the verdict, where the score
 * lies among the training rows' scores, and the columns that contribute
 * most (the set-returning form over a relation or query is
 * vae_detect_srf.c).
 *
 * The score is vae_score(model, r, method)'s bit for bit (recon_prob by
 * default), and the threshold vae_threshold(model, contamination, method)'s,
 * so a report built on vae_detect agrees with queries written with those.
 * The top columns are vae_explain's, whatever the method.  Deterministic:
 * IMMUTABLE, like them.
 */
#include "vae_detect.h"
#include "vae_rows.h"

#include <math.h>

#include "access/htup_details.h"
#include "common/shortest_dec.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(vae_detect_row);

int
VaeDetectMethod(FunctionCallInfo fcinfo, int argno)
{
	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return VAE_MODEL_METHOD;
	return VaeEnumMethod(PG_GETARG_OID(argno));
}

double
VaeDetectThreshold(const VcModel *m, int method, double c, bool is_null)
{
	if (is_null)
		return vc_threshold_auto(m, method);
	VaeCheckContamination(c);
	return vc_threshold(m, method, c);
}

int
VaeDetectTopCount(int32 n, bool is_null)
{
	if (is_null)
		return VAE_DETECT_TOP_DEFAULT;
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("top_columns must be at least 0, got %d", n)));
	return n;
}

/*
 * Binary search in the sorted stored scores (float): the count strictly
 * below score over their number; NULL-worthy NaN when the model holds none.
 */
double
VaeDetectPercentile(const VcModel *m, int method, double score)
{
	const float *sc = m->scores[method];
	int			lo = 0,
				hi = m->n_scores;

	if (m->n_scores <= 0)
		return NAN;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if ((double) sc[mid] < score)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (double) lo / m->n_scores;
}

/* a double for JSON, its shortest exact decimal whatever the settings; non-finite as null */
static void
AppendJsonDouble(StringInfo s, double v)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (!isfinite(v))
	{
		appendStringInfoString(s, "null");
		return;
	}
	double_to_shortest_decimal_buf(v, buf);
	appendStringInfoString(s, buf);
}

/*
 * The indexes of the k largest contributions (ties: the lower index first),
 * largest first, into idx; k <= n.  n is a model's width and k small, so a
 * selection pass per entry is enough.
 */
static void
TopIndexes(const double *contrib, int n, int k, int *idx)
{
	bool	   *taken = palloc0(sizeof(bool) * n);
	int			t,
				j;

	for (t = 0; t < k; t++)
	{
		int			best = -1;

		for (j = 0; j < n; j++)
			if (!taken[j] && (best < 0 || contrib[j] > contrib[best]))
				best = j;
		taken[best] = true;
		idx[t] = best;
	}
}

/*
 * Each column's share of the score's reconstruction term: its contribution
 * over the sum of the positive contributions (a gaussian term is negative
 * where the decoder is confident and right: such columns explain none of
 * the score and count as 0).  When some contributions overflowed (+Inf),
 * those share the whole equally.
 */
static void
Shares(const double *contrib, int n, double *share)
{
	double		pos = 0.0;
	int			inf = 0,
				j;

	for (j = 0; j < n; j++)
	{
		if (isinf(contrib[j]) && contrib[j] > 0)
			inf++;
		else if (contrib[j] > 0)
			pos += contrib[j];
	}
	for (j = 0; j < n; j++)
	{
		if (inf > 0)
			share[j] = isinf(contrib[j]) && contrib[j] > 0 ? 1.0 / inf : 0.0;
		else
			share[j] = contrib[j] > 0 && pos > 0 ? contrib[j] / pos : 0.0;
	}
}

/* one entry of top: ", " between entries, then the column's name or feature number */
static void
BeginEntry(StringInfo s, int t)
{
	if (t)
		appendStringInfoString(s, ", ");
	appendStringInfoString(s, "{\"column\": ");
}

/* the rest of an entry: contribution and share */
static void
EndEntry(StringInfo s, double contribution, double share)
{
	appendStringInfoString(s, ", \"contribution\": ");
	AppendJsonDouble(s, contribution);
	appendStringInfoString(s, ", \"share\": ");
	AppendJsonDouble(s, share);
	appendStringInfoChar(s, '}');
}

Datum
VaeDetectTop(const VcModel *m, VcScratch *scratch, const float *x, char **texts, int top)
{
	int			n = m->schema ? m->n_cols : m->dim,
				k = top < n ? top : n,
				t;
	double	   *contrib = palloc(sizeof(double) * n);
	double	   *share = palloc(sizeof(double) * n);
	int		   *idx = palloc(sizeof(int) * (k > 0 ? k : 1));
	StringInfoData s;
	char		msg[VC_ERRMSG_LEN];

	initStringInfo(&s);
	appendStringInfoChar(&s, '[');
	if (m->schema)
	{
		VcColumnExpect *e = palloc(sizeof(VcColumnExpect) * n);
		float	   *expected;

		VaeCheckStatus(vc_explain_columns(m, scratch, x, e, msg), msg);
		expected = VaeExpectedRow(m->schema, e);
		for (t = 0; t < n; t++)
			contrib[t] = e[t].contribution;
		Shares(contrib, n, share);
		TopIndexes(contrib, n, k, idx);
		for (t = 0; t < k; t++)
		{
			const VcColumn *c = &m->schema->columns[idx[t]];

			BeginEntry(&s, t);
			escape_json(&s, c->name);
			appendStringInfoString(&s, ", \"value\": ");
			/* a category's own text, also one the model did not see in training */
			if (c->kind == VC_COL_CATEGORICAL && texts && texts[idx[t]])
				escape_json(&s, texts[idx[t]]);
			else
				VaeAppendJsonValue(&s, c, x[idx[t]]);
			appendStringInfoString(&s, ", \"expected\": ");
			VaeAppendJsonValue(&s, c, expected[idx[t]]);
			EndEntry(&s, contrib[idx[t]], share[idx[t]]);
		}
	}
	else
	{
		float	   *recon = palloc(sizeof(float) * n);

		VaeCheckStatus(vc_reconstruct_row(m, scratch, x, recon, contrib, msg), msg);
		Shares(contrib, n, share);
		TopIndexes(contrib, n, k, idx);
		for (t = 0; t < k; t++)
		{
			BeginEntry(&s, t);
			appendStringInfo(&s, "%d", idx[t] + 1);
			appendStringInfoString(&s, ", \"value\": ");
			VaeAppendJsonNumber(&s, x[idx[t]]);
			appendStringInfoString(&s, ", \"expected\": ");
			VaeAppendJsonNumber(&s, recon[idx[t]]);
			EndEntry(&s, contrib[idx[t]], share[idx[t]]);
		}
	}
	appendStringInfoChar(&s, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data));
}

/*
 * vae_detect(model, r record or features anyarray, contamination, top_columns,
 * method) -> vae_detection.  Not STRICT: a NULL contamination is the
 * automatic threshold and a NULL top_columns the default; a NULL model, row
 * or method gives NULL, as a strict function would.
 */
Datum
vae_detect_row(PG_FUNCTION_ARGS)
{
	VaeModelCache *c;
	const VcModel *m;
	TupleDesc	td;
	const float *x;
	char	  **texts = NULL;
	double		out[VC_N_METHODS];
	double		score,
				threshold,
				pct;
	int			top,
				method;
	char		msg[VC_ERRMSG_LEN];
	Datum		v[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	method = VaeDetectMethod(fcinfo, 4);
	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vae_detect must be called where a composite result is accepted")));
	c = VaeGetModel(fcinfo, 0);
	m = c->model;
	method = VaeMethodFor(m, method);
	threshold = VaeDetectThreshold(m, method, PG_NARGS() > 2 ? PG_GETARG_FLOAT8(2) : 0.0,
								   PG_NARGS() <= 2 || PG_ARGISNULL(2));
	top = VaeDetectTopCount(PG_NARGS() > 3 ? PG_GETARG_INT32(3) : 0,
							PG_NARGS() <= 3 || PG_ARGISNULL(3));
	if (m->schema)
		texts = palloc0(sizeof(char *) * m->n_cols);
	x = VaeGetScoringInputTexts(fcinfo, c, 1, texts);

	/* exactly vae_score's call: the same bits */
	VaeCheckStatus(vc_score_row(m, c->scratch, x, 1u << method, out, msg), msg);
	score = out[method];
	pct = VaeDetectPercentile(m, method, score);

	v[0] = Float8GetDatum(score);
	v[1] = Float8GetDatum(threshold);
	nulls[1] = isnan(threshold);
	v[2] = BoolGetDatum(score > threshold);
	nulls[2] = isnan(threshold);
	v[3] = Float8GetDatum(pct);
	nulls[3] = isnan(pct);
	v[4] = VaeDetectTop(m, c->scratch, x, texts, top);
	td = BlessTupleDesc(td);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, v, nulls)));
}
