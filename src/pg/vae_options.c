/*
 * vae_options.c - the jsonb options of vae_train().
 *
 * Every key is optional.  An unknown key, a wrong type or a value out of
 * range is an ERROR that names the key and what it accepts, so a typo never
 * trains a model with silently ignored settings.  Which keys exist, their
 * types and ranges come from the core's option table (vc_options.h), and
 * each value goes through its one check, the one the GPU worker's protocol
 * and the model reader use too: this file only maps jsonb onto it.
 */
#include "vae.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "vc_options.h"

PG_FUNCTION_INFO_V1(vae_options);

/* "hidden, latent_dim, ...": every key of the table, for hints */
static const char *
ValidKeys(void)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	for (i = 0; i < VC_N_OPTIONS; i++)
		appendStringInfo(&s, "%s%s", i ? ", " : "", vc_option_defs[i].name);
	return s.data;
}

/* the range message of the table for def, whatever was wrong */
static void
OptionError(const VcOptionDef *def)
{
	char		msg[VC_ERRMSG_LEN];

	vc_option_error(def, msg);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("vae_train %s", msg)));
}

/* a value of the right type, through the table's check */
static void
CheckValue(const VcOptionDef *def, const VcOptionValue *val)
{
	if (vc_option_check(def, val, NULL) != VC_OK)
		OptionError(def);
}

/*
 * Exact integer conversion from the numeric's decimal text (numeric_out never
 * uses exponents): a double would round values near 2^63 and make the range
 * check lie.
 */
static int64
IntValue(JsonbValue *v, const VcOptionDef *def)
{
	char	   *text,
			   *end;
	long long	n;

	if (v->type != jbvNumeric)
		OptionError(def);
	text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	errno = 0;
	n = strtoll(text, &end, 10);
	if (*end == '.')
		for (end++; *end == '0'; end++)
			;
	if (errno != 0 || end == text || *end != '\0')
		OptionError(def);
	return (int64) n;
}

/* nested containers arrive as jbvBinary because the iterators skip nesting */
static void
ParseHidden(const VcOptionDef *def, JsonbValue *hv, VcOptions *opt)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	VcOptionValue val = {0};
	int			n = 0;

	if (hv->type != jbvBinary || !JsonContainerIsArray(hv->val.binary.data))
		OptionError(def);
	it = JsonbIteratorInit(hv->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (n >= VC_MAX_HIDDEN)
			OptionError(def);
		val.i = IntValue(&v, def);
		CheckValue(def, &val);
		opt->hidden[n++] = (int) val.i;
	}
	opt->n_hidden = n;
}

/* one key: its jsonb type by the table, then the table's check */
static void
ParseKey(const char *key, int keylen, JsonbValue *v, VcOptions *opt)
{
	const VcOptionDef *def = vc_option_find(key, keylen);
	VcOptionValue val = {0};

	if (def == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown vae_train option \"%s\"", VaeEchoText(key, keylen)),
				 errhint("Valid options are: %s.", ValidKeys())));
	switch (def->type)
	{
		case VC_OPT_HIDDEN:
			ParseHidden(def, v, opt);
			return;
		case VC_OPT_INT:
		case VC_OPT_INT64:
			val.i = IntValue(v, def);
			break;
		case VC_OPT_UINT64:
			val.i = IntValue(v, def);
			if (val.i < 0)
				OptionError(def);
			val.u = (uint64) val.i;
			break;
		case VC_OPT_REAL:
			if (v->type != jbvNumeric)
				OptionError(def);
			val.d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
													   NumericGetDatum(v->val.numeric)));
			break;
		case VC_OPT_BOOL:
			if (v->type != jbvBool)
				OptionError(def);
			val.i = v->val.boolean ? 1 : 0;
			break;
		case VC_OPT_ENUM:
			if (v->type != jbvString ||
				(val.i = vc_option_enum_index(def, v->val.string.val, v->val.string.len)) < 0)
				OptionError(def);
			break;
	}
	CheckValue(def, &val);
	vc_option_set(def, opt, &val);
}

/*
 * vae_train's jsonb options (NULL: none) into opt: each key must be in the
 * option table and its value pass the table's check, or ERROR.  Keys not
 * given keep vc_options_init's values; device defaults to 'auto'.
 */
void
VaeParseOptions(Jsonb *jb, VcOptions *opt)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	const char *key = NULL;
	int			keylen = 0;

	vc_options_init(opt);

	/*
	 * 'auto': the GPU worker when one is configured (vae.gpu_worker, or the
	 * supervised one) and it answers, else the CPU; so configuring a worker
	 * is all it takes to use it.
	 */
	opt->device = VC_DEVICE_AUTO;
	if (jb == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vae_train options must be a jsonb object"),
				 errhint("Valid options are: %s.", ValidKeys())));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key = v.val.string.val;
			keylen = v.val.string.len;
		}
		else if (tok == WJB_VALUE)
			ParseKey(key, keylen, &v, opt);
	}
}

/* ---- vae_options(): the table, for users ---- */

/* the option's type as jsonb spells it */
static const char *
JsonTypeName(const VcOptionDef *def)
{
	switch (def->type)
	{
		case VC_OPT_HIDDEN:
			return "integer[]";
		case VC_OPT_REAL:
			return "number";
		case VC_OPT_BOOL:
			return "boolean";
		case VC_OPT_ENUM:
			return "string";
		default:
			return "integer";
	}
}

/* a numeric from decimal text: exact for every bound, int64 ones included */
static Datum
NumericFromText(const char *s)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(s),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/* the choices of an enum or boolean option as text[] */
static Datum
AllowedArray(const VcOptionDef *def)
{
	static const char *const booleans[] = {"true", "false"};
	const char *const *names = def->type == VC_OPT_BOOL ? booleans : def->names;
	int			n = def->type == VC_OPT_BOOL ? 2 : vc_option_n_names(def);
	Datum	   *d = palloc(sizeof(Datum) * n);
	int			i;

	for (i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(names[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * One row per option, straight from the core's table: what the jsonb parser,
 * the GPU worker and the model reader check is what users read here.
 */
Datum
vae_options(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < VC_N_OPTIONS; i++)
	{
		const VcOptionDef *def = &vc_option_defs[i];
		Datum		values[8];
		bool		nulls[8] = {false};
		char		buf[160];

		values[0] = CStringGetTextDatum(def->name);
		values[1] = CStringGetTextDatum(JsonTypeName(def));
		values[2] = CStringGetTextDatum(def->default_rule);
		if (def->type == VC_OPT_REAL)
		{
			values[3] = NumericFromText(vc_format_double(def->dmin, buf, sizeof(buf)));
			values[4] = NumericFromText(vc_format_double(def->dmax, buf, sizeof(buf)));
		}
		else if (def->type == VC_OPT_ENUM || def->type == VC_OPT_BOOL)
			nulls[3] = nulls[4] = true;
		else
		{
			values[3] = NumericFromText(psprintf(INT64_FORMAT, def->imin));
			values[4] = NumericFromText(psprintf(INT64_FORMAT, def->imax));
		}
		if (def->type == VC_OPT_ENUM || def->type == VC_OPT_BOOL)
			values[5] = AllowedArray(def);
		else
			nulls[5] = true;
		values[6] = CStringGetTextDatum(vc_option_describe(def, buf, sizeof(buf)));
		values[7] = CStringGetTextDatum(def->description);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
