/*
 * vae_info.c - vae_model_info(model): what a model is and how it was trained.
 */
#include "vae.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "vc_options.h"

PG_FUNCTION_INFO_V1(vae_model_info);

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

	initStringInfo(&s);
	appendStringInfo(&s, "{\"format_version\": %d, \"input_dim\": %d, \"latent_dim\": ",
					 VC_FORMAT_VERSION, m->dim);
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
	AppendNumber(&s, m->train_seconds);
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
	appendStringInfoString(&s, "}}");

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}
