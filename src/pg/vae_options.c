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
#include "vc_schema.h"

PG_FUNCTION_INFO_V1(vae_options);

/*
 * The options of training on rows.  They are parsed here, next to the
 * table's, but are not in the core's option table: their values are lists
 * of column names and an object of column kinds, which the table's types
 * cannot describe, and they live in the model's column schema (which
 * columns, their kinds, max_categories), not in the options block that the
 * model header and the GPU worker's protocol carry.  vae_options() lists
 * them after the table's.
 */
typedef struct VaeRowOptionDef
{
	const char *name;
	const char *type;
	const char *default_rule;
	int			min_value;		/* integers; 0 when not one */
	int			max_value;
	const char *accepts;
	const char *description;
} VaeRowOptionDef;

static const char *const kind_names[] = {"continuous", "boolean", "categorical", "cyclic", "ignore"};

#define N_ROW_OPTIONS 4
static const VaeRowOptionDef row_option_defs[N_ROW_OPTIONS] = {
	{"columns", "text[]", "every column", 0, 0, "an array of column names",
	"rows only: the columns to model, all others excluded"},
	{"exclude", "text[]", "none", 0, 0, "an array of column names",
	"rows only: columns to leave out"},
	{"kind", "object", "by type", 0, 0,
		"an object of column name: 'continuous', 'boolean', 'categorical', 'cyclic' or 'ignore'",
	"rows only: how to model a column, whatever its type would choose"},
	{"max_categories", "integer", "32", 2, VC_MAX_CATEGORIES, "an integer between 2 and 1024",
	"rows only: categories kept per text column, the \"other\" bucket included"}
};

/* "hidden, latent_dim, ...": every key of the table, for hints */
static const char *
ValidKeys(void)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	for (i = 0; i < VC_N_OPTIONS; i++)
		appendStringInfo(&s, "%s%s", i ? ", " : "", vc_option_defs[i].name);
	for (i = 0; i < N_ROW_OPTIONS; i++)
		appendStringInfo(&s, ", %s", row_option_defs[i].name);
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

/* "option \"NAME\" must be ..." for a row option */
static void
RowOptionError(const VaeRowOptionDef *def)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("vae_train option \"%s\" must be %s", def->name, def->accepts)));
}

/* a jsonb array of strings as a palloc'd array of C strings */
static char **
StringList(const VaeRowOptionDef *def, JsonbValue *av, int *n_out)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	  **names;
	int			n = 0;

	if (av->type != jbvBinary || !JsonContainerIsArray(av->val.binary.data))
		RowOptionError(def);
	names = palloc(sizeof(char *) * (JsonContainerSize(av->val.binary.data) + 1));
	it = JsonbIteratorInit(av->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (v.type != jbvString)
			RowOptionError(def);
		names[n++] = pnstrdup(v.val.string.val, v.val.string.len);
	}
	*n_out = n;
	return names;
}

/* "kind": {"col": "categorical", ...} */
static void
ParseKinds(const VaeRowOptionDef *def, JsonbValue *ov, VaeRowOptions *ro)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			cap;

	if (ov->type != jbvBinary || !JsonContainerIsObject(ov->val.binary.data))
		RowOptionError(def);
	cap = JsonContainerSize(ov->val.binary.data) + 1;
	ro->kind_names = palloc(sizeof(char *) * cap);
	ro->kinds = palloc(sizeof(int) * cap);
	it = JsonbIteratorInit(ov->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			ro->kind_names[ro->n_kinds] = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
		{
			int			k;

			if (v.type != jbvString)
				RowOptionError(def);
			for (k = 0; k < lengthof(kind_names); k++)
				if (strlen(kind_names[k]) == (size_t) v.val.string.len &&
					memcmp(kind_names[k], v.val.string.val, v.val.string.len) == 0)
					break;
			if (k == lengthof(kind_names))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("vae_train option \"kind\": unknown kind \"%s\" for column \"%s\"",
								VaeEchoText(v.val.string.val, v.val.string.len),
								VaeEchoText(ro->kind_names[ro->n_kinds],
											strlen(ro->kind_names[ro->n_kinds]))),
						 errhint("Kinds are continuous, boolean, categorical, cyclic and ignore.")));
			ro->kinds[ro->n_kinds++] = k;
		}
	}
}

/*
 * A row option (true), or false when key is none.  Without ro (training on
 * arrays) a row option is an error that says where it applies.
 */
static bool
ParseRowKey(const char *key, int keylen, JsonbValue *v, VaeRowOptions *ro)
{
	const VaeRowOptionDef *def = NULL;
	int			i;

	for (i = 0; i < N_ROW_OPTIONS; i++)
		if (strlen(row_option_defs[i].name) == (size_t) keylen &&
			memcmp(row_option_defs[i].name, key, keylen) == 0)
			def = &row_option_defs[i];
	if (def == NULL)
		return false;
	if (ro == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vae_train option \"%s\" applies to training on rows, not on arrays",
						def->name),
				 errhint("Pass whole rows, as in SELECT vae_train(t, options) FROM my_table t.")));
	if (def == &row_option_defs[0])
		ro->columns = StringList(def, v, &ro->n_columns);
	else if (def == &row_option_defs[1])
		ro->exclude = StringList(def, v, &ro->n_exclude);
	else if (def == &row_option_defs[2])
		ParseKinds(def, v, ro);
	else
	{
		char	   *text,
				   *end;
		long		n;

		if (v->type != jbvNumeric)
			RowOptionError(def);
		text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		n = strtol(text, &end, 10);
		if (*end != '\0' || n < def->min_value || n > def->max_value)
			RowOptionError(def);
		ro->max_categories = (int) n;
	}
	return true;
}

/* one key: its jsonb type by the table, then the table's check */
static void
ParseKey(const char *key, int keylen, JsonbValue *v, VcOptions *opt, VaeRowOptions *ro)
{
	const VcOptionDef *def = vc_option_find(key, keylen);
	VcOptionValue val = {0};

	if (def == NULL && ParseRowKey(key, keylen, v, ro))
		return;
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
 * vae_train's jsonb options (NULL: none) into opt, and with ro (training on
 * rows) the row options into ro: each key must be in the option table (or
 * be a row option) and its value pass the table's check, or ERROR.  Keys
 * not given keep vc_options_init's values; device defaults to 'auto'.
 */
void
VaeParseRowOptions(Jsonb *jb, VcOptions *opt, VaeRowOptions *ro)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	const char *key = NULL;
	int			keylen = 0;

	vc_options_init(opt);
	if (ro)
	{
		memset(ro, 0, sizeof(*ro));
		ro->n_columns = -1;
		ro->max_categories = 32;
	}

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
			ParseKey(key, keylen, &v, opt, ro);
	}
}

/* the options of training on arrays: the table's keys only */
void
VaeParseOptions(Jsonb *jb, VcOptions *opt)
{
	VaeParseRowOptions(jb, opt, NULL);
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
	for (i = 0; i < N_ROW_OPTIONS; i++)
	{
		const VaeRowOptionDef *def = &row_option_defs[i];
		Datum		values[8];
		bool		nulls[8] = {false};

		values[0] = CStringGetTextDatum(def->name);
		values[1] = CStringGetTextDatum(def->type);
		values[2] = CStringGetTextDatum(def->default_rule);
		nulls[3] = nulls[4] = def->max_value == 0;
		if (def->max_value)
		{
			values[3] = NumericFromText(psprintf("%d", def->min_value));
			values[4] = NumericFromText(psprintf("%d", def->max_value));
		}
		nulls[5] = true;
		values[6] = CStringGetTextDatum(def->accepts);
		values[7] = CStringGetTextDatum(def->description);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
