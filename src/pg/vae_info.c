/*
 * vae_info.c - vae_model_info(model): what a model is and how it was trained.
 */
#include "vae.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

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

static void
AppendHidden(StringInfo s, const VcOptions *o)
{
	int			i;

	appendStringInfoChar(s, '[');
	for (i = 0; i < o->n_hidden; i++)
		appendStringInfo(s, "%s%d", i ? "," : "", o->hidden[i]);
	appendStringInfoChar(s, ']');
}

Datum
vae_model_info(PG_FUNCTION_ARGS)
{
	VaeModelCache *c = VaeGetModel(fcinfo, 0);
	const VcModel *m = c->model;
	const VcOptions *o = &m->opt;
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"format_version\": %d, \"input_dim\": %d, \"latent_dim\": %d, \"hidden\": ",
					 VC_FORMAT_VERSION, m->dim, o->latent_dim);
	AppendHidden(&s, o);
	appendStringInfo(&s, ", \"likelihood\": \"%s\", \"activation\": \"%s\", \"normalize\": \"%s\"",
					 vc_likelihood_name(o->likelihood), vc_activation_name(o->activation),
					 vc_normalize_name(o->normalize));
	appendStringInfo(&s, ", \"parameters\": %zu, \"size_bytes\": %zu, \"rows\": %lld, \"epochs\": %d, \"best_epoch\": %d",
					 m->n_params, c->len, (long long) m->rows, m->epochs_run, m->best_epoch);
	appendStringInfoString(&s, ", \"train_loss\": ");
	AppendDoubles(&s, m->train_loss, m->epochs_run);
	appendStringInfoString(&s, ", \"val_loss\": ");
	AppendDoubles(&s, m->val_loss, m->epochs_run);
	appendStringInfoString(&s, ", \"train_seconds\": ");
	AppendNumber(&s, m->train_seconds);
	appendStringInfo(&s, ", \"device\": \"%s\", \"seed\": " UINT64_FORMAT ", \"score_sample\": %d",
					 vc_device_name(m->device), (uint64) o->seed, m->n_scores);

	/* every option as the training resolved it, in the form vae_train accepts */
	appendStringInfoString(&s, ", \"options\": {\"hidden\": ");
	AppendHidden(&s, o);
	appendStringInfo(&s, ", \"latent_dim\": %d, \"likelihood\": \"%s\", \"activation\": \"%s\", \"normalize\": \"%s\"",
					 o->latent_dim, vc_likelihood_name(o->likelihood),
					 vc_activation_name(o->activation), vc_normalize_name(o->normalize));
	appendStringInfo(&s, ", \"epochs\": %d, \"batch_size\": %d, \"learning_rate\": ", o->epochs, o->batch_size);
	AppendNumber(&s, o->learning_rate);
	appendStringInfoString(&s, ", \"beta\": ");
	AppendNumber(&s, o->beta);
	appendStringInfoString(&s, ", \"weight_decay\": ");
	AppendNumber(&s, o->weight_decay);
	appendStringInfo(&s, ", \"seed\": " UINT64_FORMAT ", \"validation_fraction\": ", (uint64) o->seed);
	AppendNumber(&s, o->validation_fraction);
	appendStringInfo(&s, ", \"patience\": %d, \"max_rows\": %lld, \"mc_samples\": %d, \"verbose\": %s, \"device\": \"%s\"}}",
					 o->patience, (long long) o->max_rows, o->mc_samples,
					 o->verbose ? "true" : "false", vc_device_name(o->device));

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}
