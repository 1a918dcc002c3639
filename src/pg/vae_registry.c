/*
 * vae_registry.c - named models: the C side of the registry (README "Named
 * models"; the tables and the SQL functions that write them are in the
 * "Named models" section of vae--1.1.sql).
 *
 * Reading: VaeRegistryModel maps a name to its deployed version's bytes
 * (one SPI query, as the calling role, so reading needs SELECT on the
 * registry).  Every scoring function takes a name where it takes a model:
 * VaeGetModel (vae_model_cache.c) sees from the function's declared
 * argument type (text, not bytea) that it was given a name and resolves it
 * once per call site and query, like it decodes bytes once.  A function
 * added later gets name overloads by declaring its model argument text.
 *
 * Writing: vae_register, vae_deploy and vae_rollback pass the calling role
 * (current_user) to SECURITY DEFINER functions of the extension that the
 * public cannot execute (vae_registry_register, ...), which check the
 * caller's rights and write as the extension's owner.  A SECURITY DEFINER
 * function alone cannot see who called it; this C gate can, and calls them
 * directly through fmgr (no EXECUTE check), so the caller cannot be forged.
 */
#include "vae.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(vae_register);
PG_FUNCTION_INFO_V1(vae_deploy);
PG_FUNCTION_INFO_V1(vae_rollback);
PG_FUNCTION_INFO_V1(vae_model);

/*
 * Is argument argno of the function being called a model name (declared
 * text) rather than the model's bytes?  Looked up in pg_proc, not in the
 * call's expression, so that it also holds for calls without one
 * (FunctionCall from C, PL/pgSQL's simple expressions).
 */
bool
VaeModelArgIsName(FunctionCallInfo fcinfo, int argno)
{
	HeapTuple	tp;
	bool		is_name;

	/* a direct call from C (DirectFunctionCall: no pg_proc entry) passes bytes */
	if (!OidIsValid(fcinfo->flinfo->fn_oid))
		return false;
	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	is_name = argno < ((Form_pg_proc) GETSTRUCT(tp))->pronargs &&
		((Form_pg_proc) GETSTRUCT(tp))->proargtypes.values[argno] == TEXTOID;
	ReleaseSysCache(tp);
	return is_name;
}

/* the schema of the function being called: the extension's (it is not relocatable) */
static char *
ExtensionSchema(FunctionCallInfo fcinfo)
{
	return get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));
}

/*
 * The bytes of the deployed version of model name, copied into cxt.  An
 * unknown name is ERROR 42704, a name without a deployed version 55000;
 * never NULL.  Reads the registry in the caller's snapshot, as the caller.
 */
bytea *
VaeRegistryModel(FunctionCallInfo fcinfo, const char *name, MemoryContext cxt)
{
	const char *nsp = quote_identifier(ExtensionSchema(fcinfo));
	char	   *sql = psprintf("SELECT (SELECT model FROM %s.vae_model_registry"
							   " WHERE name OPERATOR(pg_catalog.=) $1"
							   " AND state OPERATOR(pg_catalog.=) 'deployed'),"
							   " EXISTS (SELECT FROM %s.vae_model_registry"
							   " WHERE name OPERATOR(pg_catalog.=) $1)", nsp, nsp);
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	bytea	   *result = NULL;
	bool		exists = false;
	bool		isnull;
	Datum		d;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "reading the model registry failed");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	exists = !isnull && DatumGetBool(d);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		result = DatumGetByteaPCopy(d);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	if (!exists)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" is not registered", VaeEchoText(name, strlen(name))),
				 errhint("vae_register(name, model) registers a model; SELECT * FROM vae_models lists them.")));
	if (result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" has no deployed version", VaeEchoText(name, strlen(name))),
				 errhint("vae_deploy(name, version) deploys one of its versions.")));
	return result;
}

/*
 * The identity of the active snapshot, in which a name was looked up: a
 * query scans with one snapshot, so its rows share one lookup; a new one
 * (the next statement, or the next evaluation of a PL/pgSQL expression after
 * a vae_deploy in the same transaction, whose call site keeps its cache)
 * looks the name up again.
 */
void
VaeRegistrySnapTake(struct VaeRegistrySnap *s)
{
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;

	s->xmin = snap ? snap->xmin : InvalidTransactionId;
	s->xmax = snap ? snap->xmax : InvalidTransactionId;
	s->curcid = snap ? snap->curcid : InvalidCommandId;
}

/* is the active snapshot the one s was taken of (as far as its identity tells) */
bool
VaeRegistrySnapSame(const struct VaeRegistrySnap *s)
{
	struct VaeRegistrySnap now;

	VaeRegistrySnapTake(&now);
	return now.xmin == s->xmin && now.xmax == s->xmax && now.curcid == s->curcid;
}

/*
 * The model argument argno as bytes, whichever form it was given in: the
 * bytea itself, or a name resolved to its deployed version (in the current
 * memory context).  For functions that do not use VaeGetModel's cache.
 */
bytea *
VaeModelArgBytes(FunctionCallInfo fcinfo, int argno)
{
	if (VaeModelArgIsName(fcinfo, argno))
		return VaeRegistryModel(fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(argno)),
								CurrentMemoryContext);
	return PG_GETARG_BYTEA_PP(argno);
}

/* vae_model(name text) -> bytea: the deployed version, looked up once per call site */
typedef struct NamedModel
{
	char	   *name;
	bytea	   *bytes;
	struct VaeRegistrySnap snap;
} NamedModel;

Datum
vae_model(PG_FUNCTION_ARGS)
{
	NamedModel *nm = (NamedModel *) fcinfo->flinfo->fn_extra;
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (nm == NULL || strcmp(nm->name, name) != 0 || !VaeRegistrySnapSame(&nm->snap))
	{
		bytea	   *b = VaeRegistryModel(fcinfo, name, fcinfo->flinfo->fn_mcxt);

		if (nm == NULL)
			nm = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(NamedModel));
		else
		{
			pfree(nm->name);
			pfree(nm->bytes);
		}
		nm->name = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, name);
		nm->bytes = b;
		VaeRegistrySnapTake(&nm->snap);
		fcinfo->flinfo->fn_extra = nm;
	}
	/* a copy: the caller may free the result */
	PG_RETURN_BYTEA_P(DatumGetByteaPCopy(PointerGetDatum(nm->bytes)));
}

/*
 * Call the extension's function fn (argument types argtypes) with the
 * calling role prepended to args: the gate described at the top of the
 * file.  Returns its result; *isnull says whether it is NULL.
 */
static Datum
CallAsOwner(FunctionCallInfo fcinfo, const char *fn, int nargs, const Oid *argtypes,
			const Datum *args, const bool *nulls, bool *isnull)
{
	Oid			types[FUNC_MAX_ARGS];
	Oid			fnoid;
	FmgrInfo	flinfo;
	Datum		result;
	int			i;

	LOCAL_FCINFO(call, FUNC_MAX_ARGS);

	types[0] = OIDOID;
	memcpy(types + 1, argtypes, sizeof(Oid) * nargs);
	fnoid = LookupFuncName(list_make2(makeString(ExtensionSchema(fcinfo)), makeString((char *) fn)),
						   nargs + 1, types, false);
	fmgr_info(fnoid, &flinfo);
	InitFunctionCallInfoData(*call, &flinfo, nargs + 1, InvalidOid, NULL, NULL);
	call->args[0].value = ObjectIdGetDatum(GetUserId());
	call->args[0].isnull = false;
	for (i = 0; i < nargs; i++)
	{
		call->args[i + 1].value = args[i];
		call->args[i + 1].isnull = nulls[i];
	}
	result = FunctionCallInvoke(call);
	*isnull = call->isnull;
	return result;
}

/* ERROR 22004 when argument argno (called what) is NULL */
static void
CheckNotNull(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s: %s must not be NULL", get_func_name(fcinfo->flinfo->fn_oid), what)));
}

/*
 * vae_register(name, model [, note [, source]]) -> int: a new version of
 * name (the first one deployed, later ones candidates); see the SQL side.
 */
Datum
vae_register(PG_FUNCTION_ARGS)
{
	Oid			types[4] = {TEXTOID, BYTEAOID, TEXTOID, TEXTOID};
	Datum		args[4];
	bool		nulls[4];
	bool		isnull;
	Datum		v;
	int			i;

	CheckNotNull(fcinfo, 0, "the model name");
	CheckNotNull(fcinfo, 1, "the model");
	for (i = 0; i < 4; i++)
	{
		nulls[i] = i >= PG_NARGS() || PG_ARGISNULL(i);
		args[i] = nulls[i] ? (Datum) 0 : PG_GETARG_DATUM(i);
	}
	v = CallAsOwner(fcinfo, "vae_registry_register", 4, types, args, nulls, &isnull);
	PG_RETURN_DATUM(v);
}

/* vae_deploy(name, version): that version becomes the one names score with */
Datum
vae_deploy(PG_FUNCTION_ARGS)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		args[2] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)};
	bool		nulls[2] = {false, false};
	bool		isnull;

	(void) CallAsOwner(fcinfo, "vae_registry_deploy", 2, types, args, nulls, &isnull);
	PG_RETURN_VOID();
}

/* vae_rollback(name) -> int: back to the version deployed before, which it returns */
Datum
vae_rollback(PG_FUNCTION_ARGS)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {PG_GETARG_DATUM(0)};
	bool		nulls[1] = {false};
	bool		isnull;

	PG_RETURN_DATUM(CallAsOwner(fcinfo, "vae_registry_rollback", 1, types, args, nulls, &isnull));
}
