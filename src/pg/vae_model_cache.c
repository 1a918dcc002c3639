/*
 * vae_model_cache.c - decode a model once per query, not once per row.
 *
 * The decoded model lives in fn_extra (fn_mcxt), so it is freed with the
 * query.  Before reusing it we must know the bytes are the same, exactly:
 *  - a constant cannot change during the query (ArgIsConst), so it is
 *    decoded once and never compared.  An external parameter is NOT taken
 *    as fixed, though get_fn_expr_arg_stable would: PL/pgSQL keeps a simple
 *    expression's state, fn_extra included, for the whole transaction and
 *    evaluates it again with new parameter values (a function f(m bytea, r)
 *    RETURN vae_score(m, r) called with three models);
 *  - a model stored out of line (every real model kept in a table) is
 *    identified by its TOAST pointer (toast relation, value id), which
 *    PostgreSQL never reuses for different bytes while the value exists, so a
 *    join that passes the same stored model for every row neither detoasts
 *    nor compares;
 *  - anything else (a model computed per row) is compared byte for byte
 *    with a copy of the bytes it was decoded from.
 * A stable argument is always entry 0: it is the first and only model seen.
 * A model name (the function's model argument declared text) is looked up
 * in the registry (vae_registry.c) the first time this call site meets it
 * in the query, and its entry found again by the name.
 */
#include "vae.h"

#include "vae_rows.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

/*
 * Is argument argno a Const in the call's expression: a value that is the
 * same for every evaluation of this FmgrInfo (unlike get_fn_expr_arg_stable,
 * which also trusts PARAM_EXTERN, see the top of the file).
 */
static bool
ArgIsConst(FmgrInfo *flinfo, int argno)
{
	Node	   *expr = flinfo ? flinfo->fn_expr : NULL;
	List	   *args;

	if (expr == NULL)
		return false;
	if (IsA(expr, FuncExpr))
		args = ((FuncExpr *) expr)->args;
	else if (IsA(expr, OpExpr))
		args = ((OpExpr *) expr)->args;
	else
		return false;
	if (argno < 0 || argno >= list_length(args))
		return false;
	return IsA(list_nth(args, argno), Const);
}

/* does entry c hold a model decoded from exactly these bytes */
static bool
SameBytes(const VaeModelCache *c, const char *data, Size len)
{
	return c->model != NULL && c->bytes != NULL && c->len == len &&
		memcmp(c->bytes, data, len) == 0;
}

/*
 * A few entries per call site, so a query that alternates between models (a
 * join of rows with several stored models) decodes each model once, not on
 * every call.  Replacement is round robin.
 */
#define CACHE_ENTRIES 4

typedef struct VaeModelCacheSet
{
	int			input_form;		/* the scored argument: 0 not known yet, 1 array, 2 row */
	int			model_form;		/* the model argument: 0 not known yet, 1 bytes, 2 name */
	int			next;			/* entry to replace next */
	VaeModelCache *const_name;	/* the entry of a constant model name, once looked up */
	VaeModelCache entries[CACHE_ENTRIES];
} VaeModelCacheSet;

/* frees what entry c owns and leaves it empty */
static void
ClearEntry(VaeModelCache *c)
{
	vc_scratch_free(c->scratch);
	vc_model_free(c->model);
	if (c->rowmap_cxt)
		MemoryContextDelete(c->rowmap_cxt);
	if (c->row)
		pfree(c->row);
	if (c->bytes)
		pfree(c->bytes);
	if (c->name)
		pfree(c->name);
	memset(c, 0, sizeof(*c));
}

/*
 * Decode data into c (in fn_mcxt), with the length and CRC of the bytes it
 * came from, whichever way they were found; or raise the reader's error
 */
static void
DecodeInto(FunctionCallInfo fcinfo, VaeModelCache *c, const char *data, Size len)
{
	MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	VcModel    *model;
	char		msg[VC_ERRMSG_LEN];
	VcStatus	st;

	ClearEntry(c);
	st = vc_model_deserialize((const uint8_t *) data, len, &model, msg);
	if (st == VC_OK)
	{
		c->scratch = vc_scratch_create(model);
		c->row = palloc(sizeof(float) * Max(model->dim, model->n_cols));
		if (c->scratch == NULL)
		{
			vc_model_free(model);
			st = VC_ENOMEM;
			snprintf(msg, sizeof(msg), "out of memory preparing the model for scoring");
		}
		else
			c->model = model;
	}
	MemoryContextSwitchTo(old);
	if (st != VC_OK)
		VaeReportStatus(st, msg);
	c->len = len;
	c->crc = vc_model_bytes_crc((const uint8_t *) data, len);
}

/*
 * The deployed model of the name in argument argno: the entry of that name
 * when this call site already looked it up in the same snapshot (so once
 * per query), else looked up now; the decoded model is kept when the
 * deployed bytes did not change, else they are decoded into the name's
 * entry, or into the next one round robin.  Named entries are never
 * "stable": a deployment may change what a name means between statements.
 */
static VaeModelCache *
GetNamedModel(FunctionCallInfo fcinfo, VaeModelCacheSet *set, int argno)
{
	char	   *name;
	VaeModelCache *c = NULL;
	bytea	   *b;
	const char *data;
	Size		len;
	int			i;

	/* a constant name (the usual vae_score('traffic', t)): no text to compare */
	if (set->const_name && set->const_name->model && VaeRegistrySnapSame(&set->const_name->snap))
		return set->const_name;
	name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	for (i = 0; i < CACHE_ENTRIES; i++)
	{
		if (set->entries[i].model && set->entries[i].name &&
			strcmp(set->entries[i].name, name) == 0)
		{
			c = &set->entries[i];
			if (VaeRegistrySnapSame(&c->snap))
				return c;
			break;
		}
	}
	b = VaeRegistryModel(fcinfo, name, CurrentMemoryContext);
	data = VARDATA_ANY(b);
	len = VARSIZE_ANY_EXHDR(b);
	if (c == NULL || !SameBytes(c, data, len))
	{
		if (c == NULL)
		{
			c = &set->entries[set->next];
			set->next = (set->next + 1) % CACHE_ENTRIES;
		}
		DecodeInto(fcinfo, c, data, len);
		c->bytes = MemoryContextAllocHuge(fcinfo->flinfo->fn_mcxt, len);
		memcpy(c->bytes, data, len);
		c->name = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, name);
	}
	VaeRegistrySnapTake(&c->snap);
	if (ArgIsConst(fcinfo->flinfo, argno))
		set->const_name = c;
	pfree(b);
	return c;
}

/*
 * The decoded model of argument argno: a cached entry when this call site
 * already decoded the same model in this query (see the top of the file),
 * else decoded now into the next entry round robin; bad bytes raise the
 * reader's error.
 */
VaeModelCache *
VaeGetModel(FunctionCallInfo fcinfo, int argno)
{
	VaeModelCacheSet *set = (VaeModelCacheSet *) fcinfo->flinfo->fn_extra;
	struct varlena *raw = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));
	struct varatt_external ext = {0};
	bool		external = VARATT_IS_EXTERNAL_ONDISK(raw);
	VaeModelCache *c;
	bytea	   *b;
	const char *data;
	Size		len;
	int			i;

	if (set == NULL)
	{
		set = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(VaeModelCacheSet));
		fcinfo->flinfo->fn_extra = set;
	}
	if (set->model_form == 0)
		set->model_form = VaeModelArgIsName(fcinfo, argno) ? 2 : 1;
	if (set->entries[0].model && set->entries[0].stable)
		return &set->entries[0];
	if (set->model_form == 2)
		return GetNamedModel(fcinfo, set, argno);
	if (external)
	{
		VARATT_EXTERNAL_GET_POINTER(ext, raw);
		for (i = 0; i < CACHE_ENTRIES; i++)
		{
			c = &set->entries[i];
			if (c->model && c->from_toast &&
				c->toastrelid == ext.va_toastrelid && c->valueid == ext.va_valueid)
				return c;
		}
	}
	b = DatumGetByteaPP(PG_GETARG_DATUM(argno));
	data = VARDATA_ANY(b);
	len = VARSIZE_ANY_EXHDR(b);
	for (i = 0; i < CACHE_ENTRIES; i++)
	{
		c = &set->entries[i];
		if (SameBytes(c, data, len))
			return c;
	}

	c = &set->entries[set->next];
	set->next = (set->next + 1) % CACHE_ENTRIES;
	DecodeInto(fcinfo, c, data, len);
	c->stable = ArgIsConst(fcinfo->flinfo, argno);
	c->from_toast = external;
	c->toastrelid = ext.va_toastrelid;
	c->valueid = ext.va_valueid;
	if (!c->stable && !external)
	{
		c->bytes = MemoryContextAllocHuge(fcinfo->flinfo->fn_mcxt, len);
		memcpy(c->bytes, data, len);
	}
	return c;
}

/*
 * A row model where an array model is needed: ERROR 22023 saying which form
 * it takes (the function's name, fn_oid's, is looked up for the message only)
 */
void
VaeCheckArrayModel(const VcModel *m, Oid fn_oid)
{
	if (m->schema != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("this model was trained on rows: pass a row, as in %s(model, t)",
						get_func_name(fn_oid)),
				 errdetail("It models the columns of a table; a feature array cannot be scored with it.")));
}

/* the features argument, checked against the model's width, as float32 */
const float *
VaeGetScoringRow(FunctionCallInfo fcinfo, VaeModelCache *c, int argno)
{
	VaeCheckArrayModel(c->model, fcinfo->flinfo->fn_oid);
	VaeArrayFeatures(c->model, PG_GETARG_ARRAYTYPE_P(argno), c->row);
	return c->row;
}

/* array a as array model m's features into out (m->dim floats); a wrong length is ERROR 22000 */
void
VaeArrayFeatures(const VcModel *m, ArrayType *a, float *out)
{
	int			dim = VaeArrayDim(a, "features");

	if (dim != m->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("features has %d elements, but the model was trained on %d",
						dim, m->dim)));
	VaeArrayToFloats(a, "features", out, dim);
}

/*
 * The record argument as the model's compact row, its columns matched by
 * name (the mapping is built once per row type and kept with the model);
 * with texts, each column's value as text too.  An array model given a
 * record is ERROR 22023.
 */
const float *
VaeGetScoringRecord(FunctionCallInfo fcinfo, VaeModelCache *c, int argno, char **texts)
{
	HeapTupleHeader rec;
	Oid			typid;
	int32		typmod;

	if (c->model->schema == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("this model was trained on feature arrays: pass an array, as in %s(model, features)",
						get_func_name(fcinfo->flinfo->fn_oid)),
				 errdetail("It has %d features and no columns to match a row's by name.",
						   c->model->dim)));
	rec = PG_GETARG_HEAPTUPLEHEADER(argno);
	typid = HeapTupleHeaderGetTypeId(rec);
	typmod = HeapTupleHeaderGetTypMod(rec);
	if (!VaeRowMapMatches(c->rowmap, typid, typmod))
	{
		TupleDesc	tupdesc = lookup_rowtype_tupdesc(typid, typmod);

		if (c->rowmap_cxt)
			MemoryContextDelete(c->rowmap_cxt);
		c->rowmap = NULL;
		c->rowmap_cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "vae row map",
											  ALLOCSET_SMALL_SIZES);
		PG_TRY();
		{
			c->rowmap = VaeBuildRowMap(c->model->schema, tupdesc, typid, typmod, c->rowmap_cxt);
		}
		PG_FINALLY();
		{
			ReleaseTupleDesc(tupdesc);
		}
		PG_END_TRY();
	}
	VaeReadRecord(c->rowmap, c->model->schema, rec, c->row, texts);
	return c->row;
}

/*
 * The argument to score as the model's raw row, whichever form the function
 * was given: a row (matched by column name) or a feature array.  VaeGetModel
 * came first (it made fn_extra).
 */
const float *
VaeGetScoringInput(FunctionCallInfo fcinfo, VaeModelCache *c, int argno)
{
	return VaeGetScoringInputTexts(fcinfo, c, argno, NULL);
}

/*
 * VaeGetScoringInput, with each column's value as text into texts (row
 * models given a row; may be NULL)
 */
const float *
VaeGetScoringInputTexts(FunctionCallInfo fcinfo, VaeModelCache *c, int argno, char **texts)
{
	VaeModelCacheSet *set = (VaeModelCacheSet *) fcinfo->flinfo->fn_extra;

	/* the argument's type is the call site's: look it up once */
	if (set->input_form == 0)
	{
		Oid			type = get_fn_expr_argtype(fcinfo->flinfo, argno);

		set->input_form = OidIsValid(type) && type_is_rowtype(type) ? 2 : 1;
	}
	if (set->input_form == 2)
		return VaeGetScoringRecord(fcinfo, c, argno, texts);
	return VaeGetScoringRow(fcinfo, c, argno);
}
