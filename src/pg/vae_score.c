/*
 * vae_score.c - the SQL functions that use a trained model: vae_score,
 * vae_threshold, vae_encode, vae_reconstruct, vae_explain, vae_generate.
 *
 * All are deterministic (IMMUTABLE): the same model and row give the same
 * bits whatever the query, plan or call order.
 */
#include "vae.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "catalog/pg_enum.h"
#include "utils/tuplestore.h"

#include "vc_options.h"

PG_FUNCTION_INFO_V1(vae_score);
PG_FUNCTION_INFO_V1(vae_score_m);
PG_FUNCTION_INFO_V1(vae_threshold);
PG_FUNCTION_INFO_V1(vae_threshold_m);
PG_FUNCTION_INFO_V1(vae_threshold_auto);
PG_FUNCTION_INFO_V1(vae_encode);
PG_FUNCTION_INFO_V1(vae_reconstruct);
PG_FUNCTION_INFO_V1(vae_explain);
PG_FUNCTION_INFO_V1(vae_generate);

/* a scoring method by name; an unknown one is quoted by its prefix only */
static int
MethodByName(const char *s, int len)
{
	int			m;

	for (m = 0; m < VC_N_METHODS; m++)
		if (strlen(vc_method_name(m)) == (size_t) len &&
			memcmp(s, vc_method_name(m), len) == 0)
			return m;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown scoring method \"%s\"", VaeEchoText(s, len)),
			 errhint("Valid methods are recon_prob, elbo and mse.")));
	return -1;					/* unreachable */
}

/* a scoring method given as text (the 1.0 signatures) */
static int
ParseMethod(text *t)
{
	return MethodByName(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

/*
 * A vae_method enum value (the 1.1 signatures: no collation, so postgres_fdw
 * ships the call; docs/scale-out.md) as a method number.  The label is read
 * from pg_enum per call, so a renamed label cannot be stale; one that names
 * no method errors like an unknown text.  Shared with vae_detect.
 */
int
VaeEnumMethod(Oid value)
{
	HeapTuple	tup = SearchSysCache1(ENUMOID, ObjectIdGetDatum(value));
	int			m;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid scoring method: enum value %u not found", value)));
	{
		const char *label = NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel);

		m = MethodByName(label, strlen(label));
	}
	ReleaseSysCache(tup);
	return m;
}

/* a real[] of v[0, n) */
static ArrayType *
FloatArray(const float *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Float4GetDatum(v[i]);
	return construct_array(d, n, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
}

/*
 * The score of argument 1 (features or row) by model argument 0, by method,
 * or by the model's own (VAE_MODEL_METHOD: none given)
 */
static Datum
Score(FunctionCallInfo fcinfo, int method)
{
	VaeModelCache *c = VaeGetModel(fcinfo, 0);
	const float *x = VaeGetScoringInput(fcinfo, c, 1);
	double		out[VC_N_METHODS];
	char		msg[VC_ERRMSG_LEN];

	method = VaeMethodFor(c->model, method);
	VaeCheckStatus(vc_score_row(c->model, c->scratch, x, 1u << method, out, msg), msg);
	PG_RETURN_FLOAT8(out[method]);
}

/* vae_score(model, features or row [, method text]) */
Datum
vae_score(PG_FUNCTION_ARGS)
{
	return Score(fcinfo, PG_NARGS() > 2 ? ParseMethod(PG_GETARG_TEXT_PP(2)) : VAE_MODEL_METHOD);
}

/* vae_score(model, features or row, method vae_method) */
Datum
vae_score_m(PG_FUNCTION_ARGS)
{
	return Score(fcinfo, VaeEnumMethod(PG_GETARG_OID(2)));
}

/* a contamination must be a share: ERROR 22023 otherwise */
void
VaeCheckContamination(double contamination)
{
	char		buf[32];

	/* the shortest exact digits: 1.0000000001 must not read "got 1" */
	if (!(contamination >= 0.0 && contamination <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("contamination must be between 0 and 1, got %s",
						vc_format_double(contamination, buf, sizeof(buf)))));
}

/*
 * vae_threshold(model, contamination [, method]): the training score above
 * which that share of the training rows lies, interpolated in the model's
 * sorted score sample
 */
static Datum
Threshold(FunctionCallInfo fcinfo, int method)
{
	VaeModelCache *c = VaeGetModel(fcinfo, 0);
	double		contamination = PG_GETARG_FLOAT8(1);

	VaeCheckContamination(contamination);
	PG_RETURN_FLOAT8(vc_threshold(c->model, VaeMethodFor(c->model, method), contamination));
}

/* vae_threshold(model, contamination [, method text]) */
Datum
vae_threshold(PG_FUNCTION_ARGS)
{
	return Threshold(fcinfo, PG_NARGS() > 2 ? ParseMethod(PG_GETARG_TEXT_PP(2)) : VAE_MODEL_METHOD);
}

/* vae_threshold(model, contamination, method vae_method) */
Datum
vae_threshold_m(PG_FUNCTION_ARGS)
{
	return Threshold(fcinfo, VaeEnumMethod(PG_GETARG_OID(2)));
}

/*
 * vae_threshold(model): the automatic cut of the model's method, for users
 * who do not know their contamination (vc_threshold_auto: Tukey's
 * fence of the stored training scores)
 */
Datum
vae_threshold_auto(PG_FUNCTION_ARGS)
{
	VaeModelCache *c = VaeGetModel(fcinfo, 0);

	PG_RETURN_FLOAT8(vc_threshold_auto(c->model, c->model->opt.method));
}

/* vae_encode(model, features or row): the latent mean */
Datum
vae_encode(PG_FUNCTION_ARGS)
{
	VaeModelCache *c = VaeGetModel(fcinfo, 0);
	const float *x = VaeGetScoringInput(fcinfo, c, 1);
	float	   *mu = palloc(sizeof(float) * c->model->opt.latent_dim);
	char		msg[VC_ERRMSG_LEN];

	VaeCheckStatus(vc_encode_row(c->model, c->scratch, x, mu, msg), msg);
	PG_RETURN_ARRAYTYPE_P(FloatArray(mu, c->model->opt.latent_dim));
}

/*
 * vae_reconstruct(model, features): an array model's decoder mean at the
 * latent mean, in input units
 */
Datum
vae_reconstruct(PG_FUNCTION_ARGS)
{
	VaeModelCache *c = VaeGetModel(fcinfo, 0);
	const float *x = VaeGetScoringRow(fcinfo, c, 1);
	float	   *recon = palloc(sizeof(float) * c->model->dim);
	char		msg[VC_ERRMSG_LEN];

	VaeCheckStatus(vc_reconstruct_row(c->model, c->scratch, x, recon, NULL, msg), msg);
	PG_RETURN_ARRAYTYPE_P(FloatArray(recon, c->model->dim));
}

/*
 * One row per feature: its value, the reconstruction at the latent mean (both
 * in input units) and its share of the reconstruction negative
 * log-likelihood; the shares sum to the reconstruction term at the latent mean.
 * For a row so far out that the decoder overflows, expected is NULL and the
 * contribution Infinity (docs/scoring.md).
 */
Datum
vae_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	VaeModelCache *c = VaeGetModel(fcinfo, 0);
	const float *x = VaeGetScoringRow(fcinfo, c, 1);
	int			dim = c->model->dim,
				j;
	float	   *recon = palloc(sizeof(float) * dim);
	float	   *values = palloc(sizeof(float) * dim);
	double	   *contrib = palloc(sizeof(double) * dim);
	char		msg[VC_ERRMSG_LEN];

	memcpy(values, x, sizeof(float) * dim);
	VaeCheckStatus(vc_reconstruct_row(c->model, c->scratch, values, recon, contrib, msg), msg);
	InitMaterializedSRF(fcinfo, 0);
	for (j = 0; j < dim; j++)
	{
		Datum		v[4];
		bool		nulls[4] = {false, false, false, false};

		v[0] = Int32GetDatum(j + 1);
		v[1] = Float4GetDatum(values[j]);
		v[2] = Float4GetDatum(recon[j]);
		nulls[2] = isnan(recon[j]);	/* the reconstruction overflowed: no value */
		v[3] = Float8GetDatum(contrib[j]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

typedef struct GenerateState
{
	VcModel    *model;
	VcScratch  *scratch;
	float	   *row;
	uint64		seed;
} GenerateState;

/* n rows to generate: at least 0 and at most vae.max_generate_rows, or ERROR */
static void
CheckGenerateCount(const char *fn, int32 n)
{
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs n >= 0, got %d", fn, n)));
	if (n > vae_max_generate_rows)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: n = %d is more than vae.max_generate_rows (%d)",
						fn, n, vae_max_generate_rows),
				 errhint("SET vae.max_generate_rows to at least %d to generate that many rows.  "
						 "In FROM, every row is generated (into temporary files past "
						 "work_mem) before LIMIT applies.", n)));
}

/*
 * The first call of vae_generate(model, n, seed) (rows false) or
 * vae_generate_rows (rows true): n checked, the model decoded into the
 * multi-call context (fn_extra belongs to the SRF machinery here) and of
 * the kind the function takes.
 */
static void
GenerateBegin(FunctionCallInfo fcinfo, bool rows)
{
	int32		n = PG_GETARG_INT32(1);
	bytea	   *b;
	FuncCallContext *funcctx;
	GenerateState *gs;
	MemoryContext old;
	char		msg[VC_ERRMSG_LEN];
	VcStatus	st;

	CheckGenerateCount(rows ? "vae_generate_rows" : "vae_generate", n);
	b = VaeModelArgBytes(fcinfo, 0);	/* the bytes, or a name's deployed model */
	funcctx = SRF_FIRSTCALL_INIT();
	old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
	gs = palloc0(sizeof(GenerateState));
	gs->seed = (uint64) PG_GETARG_INT64(2);
	st = vc_model_deserialize((const uint8_t *) VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b),
							  &gs->model, msg);
	if (st == VC_OK)
	{
		gs->scratch = vc_scratch_create(gs->model);
		gs->row = palloc(sizeof(float) * Max(gs->model->dim, gs->model->n_cols));
	}
	MemoryContextSwitchTo(old);
	VaeCheckStatus(st, msg);
	if (!rows && gs->model->schema != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("this model was trained on rows: use vae_generate_rows(model, n, seed)"),
				 errhint("vae_generate_rows returns each generated row as jsonb, column name -> value.")));
	if (rows && gs->model->schema == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("this model was trained on feature arrays: use vae_generate(model, n, seed)")));
	if (gs->scratch == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	funcctx->max_calls = n;
	funcctx->user_fctx = gs;
}

/*
 * vae_generate(model, n, seed): n rows sampled from an array model, as
 * real[]; and vae_generate_rows(model, n, seed), the function returning
 * jsonb: n rows of a row model, column name -> value.  Value-per-call, so
 * that LIMIT stops generation early.
 */
Datum
vae_generate(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	GenerateState *gs;

	if (SRF_IS_FIRSTCALL())
		GenerateBegin(fcinfo, get_func_rettype(fcinfo->flinfo->fn_oid) == JSONBOID);
	funcctx = SRF_PERCALL_SETUP();
	gs = funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls)
	{
		vc_generate_row(gs->model, gs->scratch, gs->seed, (int64) funcctx->call_cntr, gs->row);
		if (gs->model->schema)
			SRF_RETURN_NEXT(funcctx, VaeCompactRowJsonb(gs->model->schema, gs->row));
		SRF_RETURN_NEXT(funcctx, PointerGetDatum(FloatArray(gs->row, gs->model->dim)));
	}
	SRF_RETURN_DONE(funcctx);
}
