/*
 * vae_info.c - vae_model_info(model): what a model is and how it was trained;
 * vae_model_member(model, k): one network of an ensemble as a model of its own.
 */
#include "vae.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "vc_options.h"
#include "vc_schema.h"

PG_FUNCTION_INFO_V1(vae_model_info);
PG_FUNCTION_INFO_V1(vae_model_member);

/* a JSON number; NaN and infinities (not JSON) become null */
static void
AppendNumber(StringInfo s, double v)
{
	if (isfinite(v))
		appendStringInfo(s, "%.17g", v);
	else
		appendStringInfoString(s, "null");
}

/* a JSON array of n numbers, non-finite ones as null */
static void
AppendDoubles(StringInfo s, const double *v, int n)
{
	int			i;

	appendStringInfoChar(s, '[');
	for (i = 0; i < n; i++)
	{
		if (i)
			appendStringInfoChar(s, ',');
		AppendNumber(s, v[i]);
	}
	appendStringInfoChar(s, ']');
}

/* an option as JSON, from the option table: the form vae_train accepts */
static void
AppendOption(StringInfo s, const VcOptions *o, VcOptionId id)
{
	char		buf[128];

	appendStringInfoString(s, vc_option_json(&vc_option_defs[id], o, buf, sizeof(buf)));
}

/* where a column's values come from, as vae_model_info names it */
static const char *
SourceName(int source)
{
	switch (source)
	{
		case VC_SRC_ARRAY_ELEMENT:
			return "array element";
		case VC_SRC_HOUR_OF_DAY:
			return "hour of day";
		case VC_SRC_DAY_OF_WEEK:
			return "day of week";
		case VC_SRC_DAY_OF_YEAR:
			return "day of year";
		default:
			return "value";
	}
}

/*
 * A row model's "columns" (each column the model reads: name, attribute,
 * kind, source, categories, NULL share, scaling) and "excluded" (the
 * training rows' columns left out, and why).
 */
static void
AppendSchema(StringInfo s, const VcSchema *schema)
{
	int			i,
				k;

	appendStringInfo(s, ", \"max_categories\": %d, \"columns\": [", schema->max_categories);
	for (i = 0; i < schema->n_columns; i++)
	{
		const VcColumn *c = &schema->columns[i];

		appendStringInfoString(s, i ? ", {\"name\": " : "{\"name\": ");
		escape_json(s, c->name);
		appendStringInfoString(s, ", \"attribute\": ");
		escape_json(s, c->attribute);
		appendStringInfo(s, ", \"kind\": \"%s\", \"source\": \"%s\"",
						 vc_column_kind_name(c->kind), SourceName(c->source));
		if (c->source == VC_SRC_ARRAY_ELEMENT)
			appendStringInfo(s, ", \"element\": %d", c->element);
		if (c->kind == VC_COL_CATEGORICAL)
		{
			appendStringInfoString(s, ", \"categories\": [");
			for (k = 0; k < c->n_categories - 1; k++)
			{
				if (k)
					appendStringInfoString(s, ", ");
				escape_json(s, c->categories[k]);
			}
			appendStringInfoString(s, "], \"other\": true");
		}
		if (c->kind == VC_COL_CONTINUOUS)
		{
			appendStringInfoString(s, ", \"center\": ");
			AppendNumber(s, c->center);
			appendStringInfoString(s, ", \"scale\": ");
			AppendNumber(s, c->scale);
		}
		if (c->kind == VC_COL_CYCLIC)
		{
			appendStringInfoString(s, ", \"period\": ");
			AppendNumber(s, c->period);
		}
		appendStringInfoString(s, ", \"null_share\": ");
		AppendNumber(s, c->null_share);
		appendStringInfo(s, ", \"null_unit\": %s}", c->has_null_unit ? "true" : "false");
	}
	appendStringInfoString(s, "], \"excluded\": [");
	for (i = 0; i < schema->n_excluded; i++)
	{
		appendStringInfoString(s, i ? ", {\"name\": " : "{\"name\": ");
		escape_json(s, schema->excluded[i].name);
		appendStringInfo(s, ", \"reason\": \"%s\"}",
						 vc_exclude_reason_name(schema->excluded[i].reason));
	}
	appendStringInfoChar(s, ']');
}

/*
 * An ensemble's "members": per network its seed, training record (losses
 * per epoch, best epoch, time, device) and the median and interquartile
 * range of its training scores of the model's scoring method that its
 * scores are scaled by.
 */
static void
AppendMembers(StringInfo s, const VcModel *m)
{
	int			k;

	appendStringInfoString(s, ", \"members\": [");
	for (k = 0; k < m->n_members; k++)
	{
		const VcModel *e = m->members[k];
		const double *r = &m->robust[(k * VC_N_METHODS + m->opt.method) * 2];

		appendStringInfoString(s, k ? ", {\"seed\": " : "{\"seed\": ");
		AppendOption(s, &e->opt, VC_OPTION_seed);
		appendStringInfo(s, ", \"epochs\": %d, \"best_epoch\": %d, \"train_loss\": ",
						 e->epochs_run, e->best_epoch);
		AppendDoubles(s, e->train_loss, e->epochs_run);
		appendStringInfoString(s, ", \"val_loss\": ");
		AppendDoubles(s, e->val_loss, e->epochs_run);
		appendStringInfoString(s, ", \"train_seconds\": ");
		AppendNumber(s, e->train_seconds);
		appendStringInfo(s, ", \"device\": \"%s\", \"median\": ", vc_device_name(e->device));
		AppendNumber(s, r[0]);
		appendStringInfoString(s, ", \"iqr\": ");
		AppendNumber(s, r[1]);
		appendStringInfoChar(s, '}');
	}
	appendStringInfoChar(s, ']');
}

/*
 * vae_model_info(model bytea) returns jsonb: the model's shape, size,
 * training record (losses per epoch, time, device, rows) and every option as
 * training resolved it.
 */
Datum
vae_model_info(PG_FUNCTION_ARGS)
{
	VaeModelCache *c = VaeGetModel(fcinfo, 0);
	const VcModel *m = c->model;
	const VcOptions *o = &m->opt;
	StringInfoData s;
	int			i;

	int			k;
	double		seconds = m->train_seconds;

	/* an ensemble: the time of every network ("parameters" are one network's) */
	for (k = 1; k < m->n_members; k++)
		seconds += m->members[k]->train_seconds;
	initStringInfo(&s);
	/* the version the model is written in (vc_model_format_version) */
	appendStringInfo(&s, "{\"format_version\": %d, \"input_dim\": %d, \"latent_dim\": ",
					 vc_model_format_version(m), m->dim);
	AppendOption(&s, o, VC_OPTION_latent_dim);
	appendStringInfoString(&s, ", \"hidden\": ");
	AppendOption(&s, o, VC_OPTION_hidden);
	appendStringInfoString(&s, ", \"likelihood\": ");
	AppendOption(&s, o, VC_OPTION_likelihood);
	appendStringInfoString(&s, ", \"activation\": ");
	AppendOption(&s, o, VC_OPTION_activation);
	appendStringInfoString(&s, ", \"normalize\": ");
	AppendOption(&s, o, VC_OPTION_normalize);
	appendStringInfo(&s, ", \"parameters\": %zu, \"size_bytes\": %zu, \"rows\": %lld, \"epochs\": %d, \"best_epoch\": %d",
					 m->n_params, c->len, (long long) m->rows, m->epochs_run, m->best_epoch);
	appendStringInfoString(&s, ", \"train_loss\": ");
	AppendDoubles(&s, m->train_loss, m->epochs_run);
	appendStringInfoString(&s, ", \"val_loss\": ");
	AppendDoubles(&s, m->val_loss, m->epochs_run);
	appendStringInfoString(&s, ", \"train_seconds\": ");
	AppendNumber(&s, seconds);
	appendStringInfo(&s, ", \"device\": \"%s\", \"seed\": ", vc_device_name(m->device));
	AppendOption(&s, o, VC_OPTION_seed);
	appendStringInfo(&s, ", \"score_sample\": %d", m->n_scores);

	/* every option of the table as the training resolved it */
	appendStringInfoString(&s, ", \"options\": {");
	for (i = 0; i < VC_N_OPTIONS; i++)
	{
		appendStringInfo(&s, "%s\"%s\": ", i ? ", " : "", vc_option_defs[i].name);
		AppendOption(&s, o, (VcOptionId) i);
	}
	appendStringInfoChar(&s, '}');
	if (m->n_members > 1)
		AppendMembers(&s, m);
	if (m->schema)
	{
		appendStringInfoString(&s, ", \"input\": \"rows\"");
		AppendSchema(&s, m->schema);
	}
	appendStringInfoChar(&s, '}');

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/*
 * vae_model_member(model bytea, member integer) returns bytea: network
 * `member` (1-based) of an ensemble as a model of its own, the bytes the
 * ensemble holds for it (version 1 or 2), so it can be scored, inspected or
 * compared with a model trained alone with its seed.  A single network is
 * its own member 1.
 */
Datum
vae_model_member(PG_FUNCTION_ARGS)
{
	VaeModelCache *c = VaeGetModel(fcinfo, 0);
	int32		k = PG_GETARG_INT32(1);
	const VcModel *m = c->model;
	int			n = m->n_members > 1 ? m->n_members : 1;

	if (k < 1 || k > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vae_model_member: member %d does not exist", k),
				 errdetail("The model has %d member%s.", n, n == 1 ? "" : "s")));
	PG_RETURN_BYTEA_P(VaeModelToBytea(n == 1 ? m : m->members[k - 1], CurrentMemoryContext));
}
