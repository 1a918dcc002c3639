/*
 * vae_score_rows.c - the SQL functions of models trained on rows that
 * differ from the array ones in what they return: vae_explain and
 * vae_reconstruct of a row (a record), and the jsonb of generated rows.
 * (vae_score and vae_encode take either form, and vae_generate_rows is
 * vae_generate's C function: vae_score.c.)
 *
 * Columns are matched by name (vae_rows.c), so the same table, a view, a
 * subquery with the columns in another order or with more columns, or a
 * ROW() cast to a type all score alike.  All are deterministic (IMMUTABLE):
 * the same model and row give the same bits whatever the query.
 */
#include "vae_rows.h"

#include <math.h>

#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(vae_explain_row);
PG_FUNCTION_INFO_V1(vae_reconstruct_row);

/* a number for JSON: shortest float4 text (whatever the settings), non-finite as null */
void
VaeAppendJsonNumber(StringInfo s, double v)
{
	if (!isfinite(v) || !isfinite((float) v))
		appendStringInfoString(s, "null");
	else
		appendStringInfoString(s, VaeFloatText((float) v));
}

/* a category code as text: the category, or "(other)" for the last code */
static const char *
CategoryName(const VcColumn *c, int code)
{
	if (code >= 0 && code < c->n_categories - 1)
		return c->categories[code];
	return "(other)";
}

/*
 * One column's value of a compact row in JSON: a number, a boolean, a
 * category's text, or null.
 */
void
VaeAppendJsonValue(StringInfo s, const VcColumn *c, float v)
{
	if (vc_is_null(v))
		appendStringInfoString(s, "null");
	else if (c->kind == VC_COL_BOOLEAN)
		appendStringInfoString(s, v >= 0.5f ? "true" : "false");
	else if (c->kind == VC_COL_CATEGORICAL)
		escape_json(s, CategoryName(c, (int) v));
	else
		VaeAppendJsonNumber(s, v);
}

/* {"column": value, ...} of a compact row as jsonb */
Datum
VaeCompactRowJsonb(const VcSchema *schema, const float *x)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (i = 0; i < schema->n_columns; i++)
	{
		if (i)
			appendStringInfoString(&s, ", ");
		escape_json(&s, schema->columns[i].name);
		appendStringInfoString(&s, ": ");
		VaeAppendJsonValue(&s, &schema->columns[i], x[i]);
	}
	appendStringInfoChar(&s, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data));
}

/*
 * What the decoder expects of each column at the row's latent mean, as a
 * compact row: the mean of numbers, the most probable category and boolean,
 * NULL where NULL is more probable than not.
 */
float *
VaeExpectedRow(const VcSchema *schema, const VcColumnExpect *e)
{
	float	   *x = palloc(sizeof(float) * schema->n_columns);

	vc_expected_row(schema, e, x);
	return x;
}

/* the columns' expectations of row x */
static VcColumnExpect *
Explain(VaeModelCache *c, const float *x)
{
	VcColumnExpect *e = palloc(sizeof(VcColumnExpect) * c->model->schema->n_columns);
	char		msg[VC_ERRMSG_LEN];

	VaeCheckStatus(vc_explain_columns(c->model, c->scratch, x, e, msg), msg);
	return e;
}

/* vae_reconstruct(model, r record): column name -> what the model expects there */
Datum
vae_reconstruct_row(PG_FUNCTION_ARGS)
{
	VaeModelCache *c = VaeGetModel(fcinfo, 0);
	const float *x = VaeGetScoringRecord(fcinfo, c, 1, NULL);
	VcColumnExpect *e = Explain(c, x);

	PG_RETURN_DATUM(VaeCompactRowJsonb(c->model->schema, VaeExpectedRow(c->model->schema, e)));
}

/*
 * The "expected" text of vae_explain: the decoder mean of a number, the
 * most probable category or boolean with its probability; and P(NULL)
 * where the value is NULL, or NULL is what the model expects.
 */
static char *
ExpectedText(const VcColumn *c, const VcColumnExpect *e, bool value_null)
{
	StringInfoData s;

	initStringInfo(&s);
	if (c->kind == VC_COL_CATEGORICAL)
		appendStringInfo(&s, "%s (p=%.2f)", CategoryName(c, (int) e->value), e->prob);
	else if (c->kind == VC_COL_BOOLEAN)
		appendStringInfo(&s, "%s (p=%.2f)", e->prob >= 0.5 ? "true" : "false",
						 e->prob >= 0.5 ? e->prob : 1.0 - e->prob);
	else
		appendStringInfo(&s, "%.6g", e->value);
	if (value_null || e->p_null > 0.5)
		appendStringInfo(&s, "; NULL (p=%.2f)", e->p_null);
	return s.data;
}

/*
 * vae_explain(model, r record): one row per model column (an array element
 * and a cyclic part are columns of their own): the value as text, what the
 * model expects there, and the column's share of the reconstruction term;
 * the shares sum to it.
 */
Datum
vae_explain_row(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	VaeModelCache *c = VaeGetModel(fcinfo, 0);
	const VcSchema *schema;
	char	  **texts;
	const float *x;
	VcColumnExpect *e;
	int			i;

	if (c->model->schema == NULL)
		(void) VaeGetScoringRecord(fcinfo, c, 1, NULL);	/* its error */
	schema = c->model->schema;
	texts = palloc0(sizeof(char *) * schema->n_columns);
	x = VaeGetScoringRecord(fcinfo, c, 1, texts);
	e = Explain(c, x);
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < schema->n_columns; i++)
	{
		const VcColumn *col = &schema->columns[i];
		Datum		v[4];
		bool		nulls[4] = {false, false, false, false};
		char	   *value = texts[i] ? texts[i] : "NULL";

		if (texts[i] && col->kind == VC_COL_CATEGORICAL && (int) x[i] == col->n_categories - 1)
			value = psprintf("%s (other)", texts[i]);
		v[0] = CStringGetTextDatum(col->name);
		v[1] = CStringGetTextDatum(value);
		/* a row far out overflows the decoder: nothing is expected (NULL), as for arrays */
		if (isnan(e[i].value))
			nulls[2] = true;
		else
			v[2] = CStringGetTextDatum(ExpectedText(col, &e[i], texts[i] == NULL));
		v[3] = Float8GetDatum(e[i].contribution);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}
