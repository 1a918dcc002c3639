/*
 * vae_agg_rows.c - the vae_train aggregate over whole rows (a record):
 * vae_train(t) and vae_train(t, options).
 *
 * The first row fixes the row type and a plan per attribute: numbers are
 * continuous, booleans boolean, text-like values categorical, numeric arrays
 * one continuous column per element, date/time values excluded unless their
 * kind is cyclic, other types excluded.  Each row is encoded once, on
 * arrival, into a compact float row (vc_schema.h) in the chunked buffer of
 * vae_buffer.c: numbers as float32, categories as provisional codes (order
 * of first appearance, in a per-column dictionary that counts them), NULL as
 * the canonical NULL marker.  Its seeded hash is computed from the values
 * themselves -- a category's text, not its provisional code -- so that the
 * canonical order, and with it the model, depends only on the multiset of
 * rows.
 *
 * The final function decides which columns to model (identifier-like and
 * all-NULL columns are left out, with one NOTICE; a column with one value
 * is kept, so that another value at scoring time shows), keeps the categories
 * seen in at least two rows (the most frequent, ties by text), recodes the
 * buffered rows in place into the model's column order and final codes,
 * and trains with the core on the CPU.
 *
 * The state is a vae_train_state (vae_state.c): an expanded object updated
 * in place, flattened by SerializeRows only when it leaves the aggregate.
 * VaeRowsCombine merges two states exactly (MergeRows: counts, dictionaries
 * by category text, array widths, the bottom-k sample), so Citus can run
 * the transition on its shards (vae_train(vae_row(t)), vae_row below) and
 * postgres_fdw can push vae_sample down (docs/scale-out.md).  The aggregate
 * is PARALLEL RESTRICTED like the one over arrays, so the scan may run in
 * parallel workers and the rows are aggregated in the leader.
 */
#include "vae_rows.h"

#include <math.h>

#include "vae_gpu.h"

#include "access/htup_details.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

/* distinct values a dictionary counts before its column is left out */
#define DICT_CAP 65536
/* rows an identifier-like column needs before it is called one */
#define ID_MIN_ROWS 20

PG_FUNCTION_INFO_V1(vae_train_rows_trans);
PG_FUNCTION_INFO_V1(vae_row);
PG_FUNCTION_INFO_V1(vae_row_in);
PG_FUNCTION_INFO_V1(vae_row_out);

/* the state's serializer and deserializer, for vae_train_state (below) */
static void SerializeRows(void *state, StringInfo buf);
static void *DeserializeRows(MemoryContext cxt, const char *p, Size len);
static int64 RowsRows(const void *state);
static void RowsCopy(VaeState *dst, void *src);
static void RowsMerge(VaeState *dst, void *src);
static const VaeStateOps vae_rows_state_ops = {VAE_STATE_ROWS, SerializeRows, DeserializeRows,
RowsRows, RowsCopy, RowsMerge};

/* one distinct value of a categorical column */
typedef struct DictEntry
{
	uint64		hash;			/* VaeHashBytes of the text: the key */
	char	   *text;
	int			code;			/* provisional: order of first appearance */
	int64		count;			/* rows with this value */
} DictEntry;

/* one attribute of the row type, and how it is read */
typedef struct RowAttr
{
	char	   *name;
	bool		dropped;		/* a dropped attribute of the row type */
	char	   *type_name;		/* its type, for messages */
	bool		stable_text;	/* VaeStableText of its base type, for messages */
	VaeTypeClass cls;
	VaeElemKind num;
	int			kind;			/* VcColumnKind */
	int			excluded;		/* VcExcludeReason, or -1 while modelled */
	bool		kind_given;		/* its kind came from the "kind" option */
	int			col;			/* its first float in the buffer's rows */
	int			width;			/* floats: 1, the array's length (0: not known yet), parts */
	int			sources[2];		/* cyclic: VcColumnSource of each part */
	FmgrInfo	out;			/* categorical: the output function */
	bool		stored_text;	/* categorical: its text is its stored bytes (text, varchar) */
	HTAB	   *dict;			/* categorical: hash -> DictEntry */
	MemoryContext dict_cxt;
	DictEntry **by_code;		/* provisional code -> entry */
	int			n_codes;
	int			cap_codes;
	int64		n_nonnull;
	int64		n_null;
} RowAttr;

typedef struct VaeRowsState
{
	Oid			typid;
	int32		typmod;
	TupleDesc	tupdesc;		/* a copy, in the aggregate context */
	int			natts;
	RowAttr    *attrs;
	VaeRowBuffer buf;
	float	   *row;			/* the row being encoded, buf.dim floats */
	Datum	   *values;
	bool	   *isnull;
	int64		seen;			/* rows fed, for messages */
	int64		rows_in;		/* rows appended (before any trimming) */
	int64		k;				/* the sample kept: max_rows, or the memory budget's (0: all) */
	Jsonb	   *options;
	VcOptions	opt;
	VaeRowOptions ro;
	bytea	   *result;
} VaeRowsState;

/* is name among names[0, n) */
static bool
InList(char **names, int n, const char *name)
{
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* every name an option gives must be an attribute: ERROR 42703 listing them */
static void
CheckOptionNames(const char *option, char **names, int n, TupleDesc tupdesc)
{
	int			i;

	for (i = 0; i < n; i++)
		if (VaeFindAttribute(tupdesc, names[i]) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("vae_train option \"%s\" names column \"%s\", which the rows do not have",
							option, VaeEchoText(names[i], strlen(names[i]))),
					 errhint("The columns are: %s.", VaeAttributeList(tupdesc))));
}

/* a kind the "kind" option asked for, checked against the attribute's type */
static void
ApplyKind(RowAttr *a, int kind, Oid typid)
{
	bool		ok;

	a->kind_given = true;
	if (kind == VAE_KIND_IGNORE)
	{
		a->excluded = VC_EXCL_OPTION;
		return;
	}
	switch (kind)
	{
		case VC_COL_CONTINUOUS:
			ok = a->cls == VAE_CLASS_NUMBER || a->cls == VAE_CLASS_BOOL ||
				a->cls == VAE_CLASS_ARRAY;
			break;
		case VC_COL_BOOLEAN:
			ok = a->cls == VAE_CLASS_BOOL;
			break;
		case VC_COL_CYCLIC:
			ok = a->cls >= VAE_CLASS_DATE;
			break;
		default:
			ok = a->cls != VAE_CLASS_ARRAY;
			break;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("vae_train option \"kind\": column \"%s\" of type %s cannot be %s",
						a->name, format_type_be(typid), vc_column_kind_name(kind)),
				 errhint("continuous takes numbers, booleans and numeric arrays; boolean takes "
						 "booleans; cyclic takes dates and times; categorical takes any type "
						 "but arrays.")));
	a->kind = kind;
	a->excluded = -1;
}

/* a new dictionary for a categorical attribute, in cxt */
static void
CreateDictionary(MemoryContext cxt, RowAttr *a)
{
	HASHCTL		ctl;

	a->dict_cxt = AllocSetContextCreate(cxt, "vae_train dictionary", ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(DictEntry);
	ctl.hcxt = a->dict_cxt;
	a->dict = hash_create("vae_train dictionary", 256, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	a->cap_codes = 256;
	a->by_code = MemoryContextAlloc(a->dict_cxt, sizeof(DictEntry *) * a->cap_codes);
}

/* the plan of one attribute: its kind by type, then the options */
static void
PlanAttribute(MemoryContext aggctx, VaeRowsState *st, int i, TupleDesc tupdesc)
{
	Form_pg_attribute att = TupleDescAttr(tupdesc, i);
	RowAttr    *a = &st->attrs[i];
	const VaeRowOptions *ro = &st->ro;
	int			k;

	a->name = MemoryContextStrdup(aggctx, NameStr(att->attname));
	a->excluded = -1;
	a->col = -1;
	if (att->attisdropped)
	{
		a->dropped = true;
		a->type_name = "";
		a->excluded = VC_EXCL_OPTION;
		a->cls = VAE_CLASS_OTHER;
		return;
	}
	a->cls = VaeClassifyType(att->atttypid, &a->num);
	a->type_name = MemoryContextStrdup(aggctx, format_type_be(att->atttypid));
	a->stable_text = VaeStableText(getBaseType(att->atttypid));
	switch (a->cls)
	{
		case VAE_CLASS_NUMBER:
		case VAE_CLASS_ARRAY:
			a->kind = VC_COL_CONTINUOUS;
			break;
		case VAE_CLASS_BOOL:
			a->kind = VC_COL_BOOLEAN;
			break;
		case VAE_CLASS_TEXT:
			a->kind = VC_COL_CATEGORICAL;
			break;
		case VAE_CLASS_OTHER:
			a->excluded = VC_EXCL_TYPE;
			break;
		default:
			a->excluded = VC_EXCL_TIME;
			break;
	}
	for (k = 0; k < ro->n_kinds; k++)
		if (strcmp(ro->kind_names[k], a->name) == 0)
			ApplyKind(a, ro->kinds[k], att->atttypid);
	if ((ro->n_columns >= 0 && !InList(ro->columns, ro->n_columns, a->name)) ||
		InList(ro->exclude, ro->n_exclude, a->name))
		a->excluded = VC_EXCL_OPTION;
	if (a->excluded >= 0)
		return;

	a->col = st->buf.dim;
	if (a->kind == VC_COL_CYCLIC)
		a->width = VaeCyclicSources(a->cls, a->sources);
	else
		a->width = a->cls == VAE_CLASS_ARRAY ? 0 : 1;
	st->buf.dim += a->width;
	if (a->kind == VC_COL_CATEGORICAL)
	{
		VaeCategoryOutput(att->atttypid, a->name, &a->out, aggctx);
		a->stored_text = VaeTextIsStored(att->atttypid);
		CreateDictionary(aggctx, a);
	}
}

/* the state, from the first row: its type, the options and the plan of each attribute */
static VaeRowsState *
CreateRowsState(MemoryContext aggctx, HeapTupleHeader rec, Jsonb *options)
{
	VaeRowsState *st = MemoryContextAllocZero(aggctx, sizeof(VaeRowsState));
	MemoryContext old;
	TupleDesc	tupdesc;
	int			i;

	st->typid = HeapTupleHeaderGetTypeId(rec);
	st->typmod = HeapTupleHeaderGetTypMod(rec);
	old = MemoryContextSwitchTo(aggctx);
	if (options)
	{
		st->options = palloc(VARSIZE(options));
		memcpy(st->options, options, VARSIZE(options));
	}
	VaeParseRowOptions(st->options, &st->opt, &st->ro);
	MemoryContextSwitchTo(old);

	tupdesc = lookup_rowtype_tupdesc(st->typid, st->typmod);
	PG_TRY();
	{
		CheckOptionNames("columns", st->ro.columns, Max(st->ro.n_columns, 0), tupdesc);
		CheckOptionNames("exclude", st->ro.exclude, st->ro.n_exclude, tupdesc);
		CheckOptionNames("kind", st->ro.kind_names, st->ro.n_kinds, tupdesc);
		st->natts = tupdesc->natts;
		old = MemoryContextSwitchTo(aggctx);
		st->tupdesc = CreateTupleDescCopy(tupdesc);
		MemoryContextSwitchTo(old);
		st->attrs = MemoryContextAllocZero(aggctx, sizeof(RowAttr) * Max(st->natts, 1));
		for (i = 0; i < st->natts; i++)
			PlanAttribute(aggctx, st, i, tupdesc);
	}
	PG_FINALLY();
	{
		ReleaseTupleDesc(tupdesc);
	}
	PG_END_TRY();
	if (st->buf.dim > VC_MAX_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vae_train: the rows have %d columns to model; the limit is %d",
						st->buf.dim, VC_MAX_COLUMNS)));
	VaeBufferInit(aggctx, &st->buf, st->buf.dim);
	st->row = MemoryContextAlloc(aggctx, sizeof(float) * Max(st->buf.dim, 1));
	st->values = MemoryContextAlloc(aggctx, sizeof(Datum) * Max(st->natts, 1));
	st->isnull = MemoryContextAlloc(aggctx, sizeof(bool) * Max(st->natts, 1));
	return st;
}

/*
 * The sample this state keeps: max_rows, or the bottom-k that fits the
 * memory budget for its current width (which only grows, so k only
 * shrinks: the bottom-k of a bottom-k is the same sample).
 */
static void
UpdateSampleSize(VaeRowsState *st)
{
	if (st->opt.max_rows > 0)
		st->k = st->opt.max_rows;
	else
		st->k = VaeMinSample(st->k, VaeBudgetSampleSize(&st->opt, st->buf.dim));
}

/*
 * An array attribute's length becomes known (its first non-NULL value):
 * its elements get columns at the end of every row, NULL in the rows
 * buffered so far (where the array was NULL).
 */
static void
WidenForArray(MemoryContext aggctx, VaeRowsState *st, RowAttr *a, int len)
{
	VaeRowBuffer old = st->buf;
	int64		i;
	int			j;

	if (old.dim + len > VC_MAX_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vae_train: the rows have %d columns to model with the elements of \"%s\"; "
						"the limit is %d", old.dim + len, a->name, VC_MAX_COLUMNS)));
	a->col = old.dim;
	a->width = len;
	VaeBufferInit(aggctx, &st->buf, old.dim + len);
	for (i = 0; i < old.n_rows; i++)
	{
		char	   *rec = VaeBufferAppend(aggctx, &st->buf);
		float	   *row = (float *) (rec + sizeof(uint64));

		memcpy(rec, VaeBufferRecord(&old, i), sizeof(uint64) + sizeof(float) * old.dim);
		for (j = 0; j < len; j++)
			row[old.dim + j] = vc_null_value();
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	VaeBufferFree(&old);
	pfree(old.chunks);
	pfree(st->row);
	st->row = MemoryContextAlloc(aggctx, sizeof(float) * st->buf.dim);
	UpdateSampleSize(st);
}

/* the memory the category dictionaries hold, for the memory budget */
static double
DictionaryBytes(const VaeRowsState *st)
{
	double		bytes = 0;
	int			i;

	for (i = 0; i < st->natts; i++)
		if (st->attrs[i].dict_cxt)
			bytes += (double) MemoryContextMemAllocated(st->attrs[i].dict_cxt, true);
	return bytes;
}

/*
 * Past DICT_CAP distinct values a column is not a category any model can
 * use: it is left out and its dictionary freed; its values still enter the
 * row hash (the decision depends on the multiset of rows only).
 */
static void
DropDictionary(RowAttr *a)
{
	hash_destroy(a->dict);
	MemoryContextDelete(a->dict_cxt);
	a->dict = NULL;
	a->dict_cxt = NULL;
	a->by_code = NULL;
	a->excluded = VC_EXCL_CARDINALITY;
}

/*
 * The provisional code of a category text (len bytes, not necessarily
 * NUL-terminated), counted; -1 when the column was dropped.
 */
static float
CountCategory(RowAttr *a, const char *text, int len, uint64 hash)
{
	DictEntry  *e;
	bool		found;

	if (a->dict == NULL)
		return vc_null_value();
	e = hash_search(a->dict, &hash, HASH_ENTER, &found);
	if (!found)
	{
		if (a->n_codes == DICT_CAP)
		{
			DropDictionary(a);
			return vc_null_value();
		}
		e->text = MemoryContextAlloc(a->dict_cxt, len + 1);
		memcpy(e->text, text, len);
		e->text[len] = '\0';
		e->code = a->n_codes;
		e->count = 0;
		if (a->n_codes == a->cap_codes)
		{
			a->cap_codes *= 2;
			a->by_code = repalloc(a->by_code, sizeof(DictEntry *) * a->cap_codes);
		}
		a->by_code[a->n_codes++] = e;
	}
	e->count++;
	return (float) e->code;
}

/* fold one 64-bit item into a row hash */
static inline uint64
HashItem(uint64 h, uint64 item)
{
	return vc_mix64(h ^ (item + UINT64CONST(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2)));
}

/* the bits of a float, -0 as 0 and every NaN as the NULL marker's */
static inline uint64
FloatItem(float f)
{
	uint32		u;

	if (f == 0.0f)
		f = 0.0f;
	if (f != f)
		f = vc_null_value();
	memcpy(&u, &f, sizeof(u));
	return u;
}

/* encode attribute a's value d of row `row` into st->row; returns its hash item */
static uint64
EncodeValue(VaeRowsState *st, RowAttr *a, Datum d)
{
	float	   *x = st->row + a->col;
	uint64		item = 0;
	int			j;

	if (a->kind == VC_COL_CONTINUOUS || a->kind == VC_COL_BOOLEAN)
	{
		if (a->cls == VAE_CLASS_ARRAY)
		{
			VaeReadArray(d, a->name, st->seen, a->width, x);
			return vc_hash_row(x, a->width, 0);
		}
		if (a->cls == VAE_CLASS_BOOL)
			x[0] = DatumGetBool(d) ? 1.0f : 0.0f;
		else
			x[0] = VaeReadNumber(d, a->num, a->name, st->seen);
		return FloatItem(x[0]);
	}
	if (a->kind == VC_COL_CYCLIC)
	{
		for (j = 0; j < a->width; j++)
		{
			x[j] = VaeCyclicPhase(d, a->cls, a->sources[j]);
			item = HashItem(item, FloatItem(x[j]));
		}
		return item;
	}
	if (a->stored_text)
	{
		/* text and varchar: the stored bytes are the output function's text */
		text	   *t = DatumGetTextPP(d);
		const char *p = VARDATA_ANY(t);
		int			len = VaeClipCategory(p, VARSIZE_ANY_EXHDR(t));

		item = VaeHashBytes(p, len);
		x[0] = CountCategory(a, p, len, item);
		if ((Pointer) t != DatumGetPointer(d))
			pfree(t);
		return item;
	}
	{
		int			len;
		char	   *text = VaeCategoryText(&a->out, d, &len);

		item = VaeHashBytes(text, len);
		x[0] = CountCategory(a, text, len, item);
		pfree(text);
		return item;
	}
}

/*
 * Transition of vae_train over table rows: encode one row (NULL rows and
 * rows of NULLs skipped) into a compact row with its seeded hash, counting
 * NULLs and categories per column, and trim to the bottom-k when max_rows
 * or the memory budget asks for a sample.  The first row fixes the row type
 * and the options.  The state is an expanded vae_train_state (vae_state.c),
 * updated in place.
 */
Datum
vae_train_rows_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx,
				cxt;
	VaeState   *vs;
	VaeRowsState *st;
	HeapTupleHeader rec;
	Jsonb	   *options;
	uint64		hash;
	bool		all_null = true;
	int			i;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "vae_train_rows_trans called in non-aggregate context");
	/* a NULL row is skipped, as every built-in aggregate does */
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	vs = VaeStateForUpdate(fcinfo, 0, aggctx, &vae_rows_state_ops);
	rec = PG_GETARG_HEAPTUPLEHEADER(1);
	options = (PG_NARGS() > 2 && !PG_ARGISNULL(2)) ? PG_GETARG_JSONB_P(2) : NULL;
	if (vs == NULL)
	{
		vs = VaeStateCreate(aggctx, &vae_rows_state_ops);
		vs->state = CreateRowsState(vs->hdr.eoh_context, rec, options);
		st = vs->state;
		UpdateSampleSize(st);
	}
	else
	{
		st = vs->state;
		VaeCheckSameOptions(st->options, options);
		if (st->tupdesc == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("vae_train cannot add rows to a state read back from its text or "
							"binary form"),
					 errhint("Combine states with vae_train_samples.")));
		if (HeapTupleHeaderGetTypeId(rec) != st->typid ||
			HeapTupleHeaderGetTypMod(rec) != st->typmod)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("vae_train rows must all be of the same row type")));
	}
	cxt = vs->hdr.eoh_context;
	st->seen++;

	VaeDeformRecord(rec, st->tupdesc, st->values, st->isnull);
	for (i = 0; i < st->natts; i++)
		all_null &= st->isnull[i];
	/* a row whose every column is NULL (t IS NULL) is skipped, as a NULL row is */
	if (all_null)
		PG_RETURN_DATUM(VaeStateDatum(vs));

	/* arrays whose length this row tells first */
	for (i = 0; i < st->natts; i++)
	{
		RowAttr    *a = &st->attrs[i];

		if (a->col >= 0 && a->cls == VAE_CLASS_ARRAY && a->width == 0 && !st->isnull[i])
		{
			int			len = VaeArrayLength(st->values[i], a->name, st->seen);

			if (len == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("vae_train: column \"%s\" has an empty array in row %lld",
								a->name, (long long) st->seen),
						 errhint("Use NULL for a missing array.")));
			WidenForArray(cxt, st, a, len);
		}
	}

	hash = vc_mix64(st->opt.seed ^ UINT64CONST(0x726f777320766165));
	for (i = 0; i < st->natts; i++)
	{
		RowAttr    *a = &st->attrs[i];
		int			j;

		if (a->col < 0)
			continue;
		if (st->isnull[i])
		{
			for (j = 0; j < a->width; j++)
				st->row[a->col + j] = vc_null_value();
			a->n_null++;
			hash = HashItem(hash, UINT64CONST(0x6e756c6c));
			continue;
		}
		a->n_nonnull++;
		hash = HashItem(hash, EncodeValue(st, a, st->values[i]));
	}
	{
		char	   *r = VaeBufferAppend(cxt, &st->buf);

		memcpy(r, &hash, sizeof(hash));
		memcpy(r + sizeof(uint64), st->row, sizeof(float) * st->buf.dim);
	}
	st->rows_in++;
	VaeBufferCompact(cxt, &st->buf, st->k);
	if (VaeBudgetCheckDue(&st->buf))
		VaeCheckMemoryBudget(&st->opt, st->k, st->buf.dim, &st->buf, DictionaryBytes(st));
	PG_RETURN_DATUM(VaeStateDatum(vs));
}

/* ---- final ---- */

/* the attributes' names, for messages (VaeAttributeList without the row type) */
static char *
AttributeList(const VaeRowsState *st)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	for (i = 0; i < st->natts; i++)
		if (!st->attrs[i].dropped)
			appendStringInfo(&s, "%s%s", s.len ? ", " : "", st->attrs[i].name);
	return s.data;
}

/* qsort comparator of floats, ascending */
static int
FloatCmp(const void *a, const void *b)
{
	float		x = *(const float *) a,
				y = *(const float *) b;

	return (x > y) - (x < y);
}

/*
 * Integers that round to the float32 f, at most: one below 2^24, where
 * float32 holds every integer; above, the spacing of the floats around f
 * plus one (a tie may round either way).
 */
static double
IntegersPerFloat(float f)
{
	float		a = fabsf(f);

	if (a < 16777216.0f)
		return 1.0;
	return (double) (nextafterf(a, INFINITY) - a) + 1.0;
}

/*
 * Whether n distinct integers fit between the float32 values lo and hi of
 * an integer column, allowing for the integers that round to each end
 */
static bool
RangeHoldsIntegers(float lo, float hi, int64 n)
{
	return (double) hi - (double) lo + IntegersPerFloat(lo) + IntegersPerFloat(hi) - 1.0 >= (double) n;
}

/*
 * Whether the sorted float32 values v[0, n) of an integer column can be n
 * distinct integers.  The buffer holds every value as a float32, exact only
 * up to 2^24: above it, neighbouring keys (a bigint id past 16,777,216) share
 * a float, and only a run of equal floats longer than the integers that
 * round to it proves that a value repeats.
 */
static bool
CanBeDistinctIntegers(const float *v, int64 n)
{
	int64		i,
				run;

	for (i = 0; i < n; i += run)
	{
		for (run = 1; i + run < n && v[i + run] == v[i]; run++)
			;
		if (run > 1 && (double) run > IntegersPerFloat(v[i]))
			return false;
	}
	return true;
}

/*
 * Leave out a continuous or boolean column that holds one value in every
 * row (NULL never among them), and an integer column whose non-NULL values
 * are all distinct over at least ID_MIN_ROWS rows: a key, which a model
 * would only memorize (and which, growing, would make every new row look
 * anomalous).  An explicit kind keeps a key.  Only a possible key is
 * sorted; constancy needs the extremes alone.
 */
static void
DecideNumeric(VaeRowsState *st, RowAttr *a)
{
	bool		key = (a->num == VAE_ELEM_INT2 || a->num == VAE_ELEM_INT4 ||
					   a->num == VAE_ELEM_INT8) && !a->kind_given &&
		a->n_nonnull >= ID_MIN_ROWS;
	float	   *v = NULL;
	float		lo = 0,
				hi = 0;
	int64		n = 0,
				i;

	if (key)
		v = palloc_extended(sizeof(float) * Max(st->buf.n_rows, 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < st->buf.n_rows; i++)
	{
		float		f = ((float *) (VaeBufferRecord(&st->buf, i) + sizeof(uint64)))[a->col];

		if (!vc_is_null(f))
		{
			lo = (n == 0 || f < lo) ? f : lo;
			hi = (n == 0 || f > hi) ? f : hi;
			if (key)
				v[n] = f;
			n++;
		}
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	/* fewer integers in [lo, hi] than values: some repeat, no sort needed */
	if (key && n >= ID_MIN_ROWS && RangeHoldsIntegers(lo, hi, n))
	{
		qsort(v, n, sizeof(float), FloatCmp);
		if (CanBeDistinctIntegers(v, n))
			a->excluded = VC_EXCL_IDENTIFIER;
	}
	if (v)
		pfree(v);
}

/* qsort comparator of category entries: the more frequent first, then by text */
static int
EntryCmp(const void *a, const void *b)
{
	const DictEntry *x = *(const DictEntry *const *) a,
			   *y = *(const DictEntry *const *) b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->text, y->text);
}

/*
 * The categories of a categorical column: those seen in at least 2 rows,
 * at most max_categories - 1 of them, by count then text (a canonical
 * order: the same whatever the scan order); *final_of maps each provisional
 * code to its final one, every other value to "other".  Returns the kept
 * count; leaves the column out when no value repeats.
 */
static int
DecideCategories(VaeRowsState *st, RowAttr *a, char ***kept, int **final_of)
{
	DictEntry **sorted = palloc(sizeof(DictEntry *) * Max(a->n_codes, 1));
	int			n_kept = 0,
				i;

	memcpy(sorted, a->by_code, sizeof(DictEntry *) * a->n_codes);
	qsort(sorted, a->n_codes, sizeof(DictEntry *), EntryCmp);
	while (n_kept < a->n_codes && n_kept < st->ro.max_categories - 1 &&
		   sorted[n_kept]->count >= 2)
		n_kept++;
	if (n_kept == 0 ||
			 (!a->kind_given && a->n_codes == a->n_nonnull && a->n_nonnull >= ID_MIN_ROWS))
		a->excluded = VC_EXCL_IDENTIFIER;
	if (a->excluded >= 0)
		return 0;
	*kept = palloc(sizeof(char *) * n_kept);
	*final_of = palloc(sizeof(int) * a->n_codes);
	for (i = 0; i < a->n_codes; i++)
		(*final_of)[sorted[i]->code] = i < n_kept ? i : n_kept;
	for (i = 0; i < n_kept; i++)
		(*kept)[i] = sorted[i]->text;
	pfree(sorted);
	return n_kept;
}

/* why a column was left out, and how to include it, for the NOTICE */
static void
AppendExclusion(StringInfo s, const RowAttr *a)
{
	appendStringInfo(s, "%s\"%s\": ", s->len ? "\n" : "", a->name);
	switch (a->excluded)
	{
		case VC_EXCL_IDENTIFIER:
			appendStringInfo(s, "every value is distinct (an identifier?); to include it: "
							 "\"kind\": {\"%s\": \"%s\"}", a->name,
							 a->kind == VC_COL_CATEGORICAL ? "categorical" : "continuous");
			break;
		case VC_EXCL_TYPE:
			if (a->stable_text)
				appendStringInfo(s, "type %s cannot be encoded; to include it: \"kind\": {\"%s\": "
								 "\"categorical\"}, or cast it in a subquery", a->type_name,
								 a->name);
			else
				appendStringInfo(s, "type %s cannot be encoded; to include it, cast it in a "
								 "subquery (to text, for categories)", a->type_name);
			break;
		case VC_EXCL_TIME:
			appendStringInfo(s, "a date/time; to include it as cycles (hour of day, day of week): "
							 "\"kind\": {\"%s\": \"cyclic\"}", a->name);
			break;
		case VC_EXCL_CONSTANT:
			appendStringInfoString(s, "NULL in every row");
			break;
		case VC_EXCL_CARDINALITY:
			appendStringInfo(s, "more than %d distinct values", DICT_CAP);
			break;
	}
}

/* qsort_arg comparator of column positions: by feature name, then position */
static int
FeatureNameCmp(const void *a, const void *b, void *arg)
{
	const VcColumn *cols = arg;
	int			x = *(const int *) a,
				y = *(const int *) b;
	int			c = strcmp(cols[x].name, cols[y].name);

	return c != 0 ? c : (x > y) - (x < y);
}

/* where feature c comes from, for an error message */
static char *
FeatureSource(const VcColumn *c)
{
	if (c->source == VC_SRC_ARRAY_ELEMENT)
		return psprintf("element %d of the array column \"%s\"", c->element, c->attribute);
	if (c->kind == VC_COL_CYCLIC)
		return psprintf("the %s phase of the column \"%s\"", VaeCyclicSuffix(c->source),
						c->attribute);
	return psprintf("the column \"%s\"", c->attribute);
}

/*
 * Two features of one name, such as element 1 of an array column "a" beside
 * a column named "a[1]", could not be told apart when rows are scored by
 * name: an ERROR that names both sources (the schema check after it would
 * only say that a name is doubled).
 */
static void
CheckFeatureNames(const VcSchema *s)
{
	int		   *order = palloc(sizeof(int) * Max(s->n_columns, 1));
	int			i;

	for (i = 0; i < s->n_columns; i++)
		order[i] = i;
	qsort_arg(order, s->n_columns, sizeof(int), FeatureNameCmp, s->columns);
	for (i = 1; i < s->n_columns; i++)
	{
		const VcColumn *a = &s->columns[order[i - 1]],
				   *b = &s->columns[order[i]];

		if (strcmp(a->name, b->name) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("vae_train: two features would be named \"%s\": %s and %s",
							a->name, FeatureSource(a), FeatureSource(b)),
					 errhint("Rename one of the columns in a subquery, or leave one out with the option \"exclude\".")));
	}
	pfree(order);
}

/*
 * The schema of the model and the mapping from buffer floats to its columns
 * (src_col[j]: the buffer float of column j; final_of[j]: categorical
 * recoding or NULL), after deciding every column; one NOTICE names the
 * columns left out.
 */
static VcSchema *
BuildSchema(VaeRowsState *st, int **src_col, int ***final_of)
{
	VcSchema   *s = palloc0(sizeof(VcSchema));
	StringInfoData notice,
				names;
	int			i,
				j,
				n = 0,
				n_excl = 0,
				n_notice = 0;

	for (i = 0; i < st->natts; i++)
	{
		RowAttr    *a = &st->attrs[i];

		if (a->dropped)
			continue;
		if (a->excluded < 0 && a->n_nonnull == 0)
			a->excluded = VC_EXCL_CONSTANT;
		else if (a->excluded < 0 && a->cls != VAE_CLASS_ARRAY &&
				 (a->kind == VC_COL_CONTINUOUS || a->kind == VC_COL_BOOLEAN))
			DecideNumeric(st, a);
	}
	s->columns = palloc0(sizeof(VcColumn) * Max(st->buf.dim, 1));
	s->excluded = palloc0(sizeof(VcExcluded) * Max(st->natts, 1));
	s->max_categories = st->ro.max_categories;
	*src_col = palloc(sizeof(int) * Max(st->buf.dim, 1));
	*final_of = palloc0(sizeof(int *) * Max(st->buf.dim, 1));
	initStringInfo(&notice);
	initStringInfo(&names);
	for (i = 0; i < st->natts; i++)
	{
		RowAttr    *a = &st->attrs[i];
		char	  **kept = NULL;
		int		   *fin = NULL;
		int			n_kept = 0;

		if (a->dropped)
			continue;
		if (a->excluded < 0 && a->kind == VC_COL_CATEGORICAL)
			n_kept = DecideCategories(st, a, &kept, &fin);
		if (a->excluded >= 0)
		{
			s->excluded[n_excl].name = a->name;
			s->excluded[n_excl++].reason = a->excluded;
			/* what the options left out needs no telling */
			if (a->excluded != VC_EXCL_OPTION)
			{
				AppendExclusion(&notice, a);
				appendStringInfo(&names, "%s%s", names.len ? ", " : "", a->name);
				n_notice++;
			}
			continue;
		}
		for (j = 0; j < a->width; j++, n++)
		{
			VcColumn   *c = &s->columns[n];

			c->attribute = a->name;
			c->kind = a->kind;
			c->scale = 1.0f;
			c->name = a->name;
			if (a->cls == VAE_CLASS_ARRAY)
			{
				c->source = VC_SRC_ARRAY_ELEMENT;
				c->element = j + 1;
				c->name = psprintf("%s[%d]", a->name, j + 1);
			}
			else if (a->kind == VC_COL_CYCLIC)
			{
				c->source = a->sources[j];
				c->period = VaeCyclicPeriod(c->source);
				c->name = psprintf("%s:%s", a->name, VaeCyclicSuffix(c->source));
			}
			if (strlen(c->name) > VC_MAX_COLUMN_NAME)
				ereport(ERROR,
						(errcode(ERRCODE_NAME_TOO_LONG),
						 errmsg("vae_train: the feature name \"%s\" is longer than %d bytes",
								c->name, VC_MAX_COLUMN_NAME),
						 errhint("Rename the column in a subquery.")));
			if (a->kind == VC_COL_CATEGORICAL)
			{
				c->n_categories = n_kept + 1;
				c->categories = kept;
				(*final_of)[n] = fin;
			}
			(*src_col)[n] = a->col + j;
		}
	}
	s->n_columns = n;
	s->n_excluded = n_excl;
	CheckFeatureNames(s);
	if (n_notice > 0)
		ereport(NOTICE,
				(errmsg("vae_train left out %d column%s: %s", n_notice, n_notice > 1 ? "s" : "",
						names.data),
				 errdetail("%s", notice.data)));
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vae_train: no column of the rows can be modelled"),
				 errhint("The columns are: %s; the options and the NOTICE above leave out every one.",
						 AttributeList(st))));
	return s;
}

/*
 * Rewrite every buffered row in place into the model's compact row: its
 * columns in schema order (the first n_columns floats of the record) and
 * each category's final code.  The hash stays: it was computed from the
 * values, not from the codes.
 */
static void
Recode(VaeRowsState *st, const VcSchema *s, const int *src_col, int **final_of)
{
	float	   *tmp = palloc(sizeof(float) * Max(s->n_columns, 1));
	int64		i;
	int			j;

	for (i = 0; i < st->buf.n_rows; i++)
	{
		float	   *row = (float *) (VaeBufferRecord(&st->buf, i) + sizeof(uint64));

		for (j = 0; j < s->n_columns; j++)
		{
			float		v = row[src_col[j]];

			if (final_of[j] && !vc_is_null(v))
				v = (float) final_of[j][(int) v];
			tmp[j] = v;
		}
		memcpy(row, tmp, sizeof(float) * s->n_columns);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(tmp);
}

/* what an ensemble member of a row model trains with */
typedef struct RowsMemberArg
{
	const VcSchema *schema;
} RowsMemberArg;

/* one ensemble member of a row model, on the CPU like a single one */
static VcModel *
TrainRowsMember(void *arg, VcRowRef *refs, int64 n, const VcOptions *opt)
{
	VcModel    *model = NULL;
	char		msg[VC_ERRMSG_LEN];

	VaeCheckStatus(vc_train_rows(refs, n, ((RowsMemberArg *) arg)->schema, opt,
								 &vae_train_callbacks, &model, msg), msg);
	return model;
}

/*
 * At least the network input's width, before the columns are decided: a
 * category takes at most max_categories units (one per kept value and
 * "other") plus one for NULL, any other column at most two per float.
 */
static int
InputWidthBound(const VaeRowsState *st)
{
	int64		w = 0;
	int			i;

	for (i = 0; i < st->natts; i++)
	{
		const RowAttr *a = &st->attrs[i];

		if (a->col < 0 || a->excluded >= 0)
			continue;
		if (a->kind == VC_COL_CATEGORICAL)
			w += Min(a->n_codes + 1, st->ro.max_categories) + 1;
		else
			w += 2 * a->width;
	}
	return (int) Min(Max(w, 1), VC_MAX_INPUT_DIM);
}

/*
 * Decide the columns, recode the rows and train (in the current context,
 * which the caller deletes).  An ensemble's members train in the canonical
 * order of the model's seed (the row hash is of the category texts, which
 * are gone once the rows are recoded), each with its own seed otherwise.
 */
static VcModel *
TrainRows(VaeRowsState *st, MemoryContext cxt)
{
	VcSchema   *schema,
			   *laid_out;
	VcRowRef   *refs;
	VcModel    *model = NULL;
	int		   *src_col;
	int		  **final_of;
	char		msg[VC_ERRMSG_LEN];
	VcStatus	status;

	/*
	 * The sample, trimmed to exactly k rows before any decision reads them,
	 * so that the columns are decided on the same rows whatever the scan
	 * order or the parts the state was combined from.  The budget's k is
	 * recomputed for the widest the network input can be.
	 */
	if (st->opt.max_rows == 0)
		st->k = VaeMinSample(st->k, VaeBudgetSampleSize(&st->opt, InputWidthBound(st)));
	VaeBufferTrim(cxt, &st->buf, st->k);
	VaeUseBudgetSample(&st->opt, st->k, st->rows_in);
	schema = BuildSchema(st, &src_col, &final_of);
	laid_out = vc_schema_copy(schema);
	if (laid_out == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	status = vc_schema_layout(laid_out, msg);
	if (status != VC_OK)
		VaeReportStatus(status, msg);
	VaeCheckTrainingLimits(&st->opt, laid_out->input_width, laid_out, st->buf.n_rows);
	VaeCheckMemoryBudget(&st->opt, st->k, laid_out->input_width, &st->buf, DictionaryBytes(st));
	if (st->opt.device == VC_DEVICE_GPU ||
		(st->opt.device == VC_DEVICE_AUTO && VaeGpuWorkerTarget() != NULL))
		ereport(NOTICE,
				(errmsg("vae_train is training on the CPU: models of table rows train on the CPU"),
				 errdetail("The GPU worker trains models of feature arrays.")));
	Recode(st, schema, src_col, final_of);
	refs = VaeBufferRefs(&st->buf);
	if (VaeEnsembleSize(&st->opt, st->buf.n_rows, laid_out->input_width) > 1)
	{
		RowsMemberArg arg = {schema};

		return VaeTrainEnsemble(refs, st->buf.n_rows, schema->n_columns,
								laid_out->input_width, &st->opt, false, TrainRowsMember, &arg);
	}
	status = vc_train_rows(refs, st->buf.n_rows, schema, &st->opt, &vae_train_callbacks,
						   &model, msg);
	if (status != VC_OK)
		VaeReportStatus(status, msg);
	return model;
}

/*
 * Final: decide the columns, train the row model and return it as bytea,
 * kept for a second call
 */
Datum
VaeRowsFinal(FunctionCallInfo fcinfo, MemoryContext aggctx)
{
	MemoryContext train_ctx,
				old;
	VaeState   *vs;
	VaeRowsState *st;
	VcModel    *model;

	vs = VaeStateForUpdate(fcinfo, 0, aggctx, &vae_rows_state_ops);
	st = vs ? (VaeRowsState *) vs->state : NULL;
	VaeCheckHasRows(st ? &st->buf : NULL);
	/* the rows are recoded in place: a second call returns the first call's model */
	if (st->result)
		PG_RETURN_BYTEA_P(st->result);

	/* everything training allocates goes with this context, on ERROR too */
	train_ctx = AllocSetContextCreate(CurrentMemoryContext, "vae_train",
									  ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(train_ctx);
	model = TrainRows(st, vs->hdr.eoh_context);
	MemoryContextSwitchTo(old);
	st->result = VaeModelToBytea(model, vs->hdr.eoh_context);
	MemoryContextDelete(train_ctx);
	PG_RETURN_BYTEA_P(st->result);
}

/* ---- shipping: serialize, deserialize, combine (docs/scale-out.md) ---- */

#define PUT(buf, v) appendBinaryStringInfo((buf), (const char *) &(v), sizeof(v))
#define GET(r, v) VaeStateRead((r), &(v), sizeof(v))

/*
 * The payload of a row aggregate's state: options, counters, every
 * attribute's plan and statistics (a categorical one's dictionary in
 * provisional-code order), then the rows as (hash, dim floats), unpadded.
 * Everything that is not the row type itself: a shard's table has a row
 * type of its own, matched by attribute names and plans when combining.
 */
static void
SerializeRows(void *state, StringInfo buf)
{
	VaeRowsState *st = state;
	int32		natts,
				dim;
	int64		i;
	int			j;

	/* a sample travels as its k rows, not the up to 2k the buffer holds */
	VaeBufferTrim(GetMemoryChunkContext(st), &st->buf, st->k);
	natts = st->natts;
	dim = st->buf.dim;

	{
		/* as text: the reader parses it, never trusting a binary jsonb */
		char	   *o = st->options ?
			DatumGetCString(DirectFunctionCall1(jsonb_out, PointerGetDatum(st->options))) : NULL;

		VaeStateWriteString(buf, o, o ? strlen(o) : 0);
	}
	PUT(buf, st->seen);
	PUT(buf, st->rows_in);
	PUT(buf, st->k);
	PUT(buf, natts);
	for (j = 0; j < st->natts; j++)
	{
		RowAttr    *a = &st->attrs[j];
		uint8		flags = (a->dropped ? 1 : 0) | (a->stable_text ? 2 : 0) |
			(a->kind_given ? 4 : 0);
		int32		ints[8] = {a->cls, a->num, a->kind, a->excluded, a->col, a->width,
		a->sources[0], a->sources[1]};
		int32		n_codes = a->dict ? a->n_codes : -1;
		int			c;

		VaeStateWriteString(buf, a->name, strlen(a->name));
		VaeStateWriteString(buf, a->type_name, strlen(a->type_name));
		PUT(buf, flags);
		appendBinaryStringInfo(buf, (const char *) ints, sizeof(ints));
		PUT(buf, a->n_nonnull);
		PUT(buf, a->n_null);
		PUT(buf, n_codes);
		for (c = 0; c < n_codes; c++)
		{
			DictEntry  *e = a->by_code[c];

			PUT(buf, e->hash);
			PUT(buf, e->count);
			VaeStateWriteString(buf, e->text, strlen(e->text));
		}
	}
	PUT(buf, dim);
	PUT(buf, st->buf.n_rows);
	for (i = 0; i < st->buf.n_rows; i++)
	{
		appendBinaryStringInfo(buf, VaeBufferRecord(&st->buf, i),
							   sizeof(uint64) + sizeof(float) * dim);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Add count rows of a category (its text and hash) to a's dictionary:
 * its code there, or -1 once the column has too many values (then dropped,
 * as CountCategory does).
 */
static int
AddCategory(RowAttr *a, const char *text, uint64 hash, int64 count)
{
	float		code;
	DictEntry  *e;

	code = CountCategory(a, text, strlen(text), hash);
	if (a->dict == NULL)
		return -1;
	e = a->by_code[(int) code];
	e->count += count - 1;
	return (int) code;
}

/*
 * ERROR unless each attribute's floats [col, col + width) lie inside rows of
 * dim floats and no two attributes claim the same float: the rows are read,
 * and per-float tables indexed, at col (codes_of below, MergeRows'
 * code_map, the final function), and a float's category codes are checked
 * against one dictionary only.  An attribute other than an array (whose
 * width is 0 until a non-NULL array is seen) has width 1, or its parts when
 * cyclic, so its first float exists; one with a dictionary has width 1.
 * Computed in int64: a forged col near INT32_MAX must not wrap around.
 */
static void
CheckColumnRanges(const VaeRowsState *st, int32 dim)
{
	bool	   *claimed = palloc0(sizeof(bool) * Max(dim, 1));
	int			j,
				t;

	for (j = 0; j < st->natts; j++)
	{
		const RowAttr *a = &st->attrs[j];

		if (a->col < 0)
			continue;
		VaeStateCheck((int64) a->col + (int64) a->width <= (int64) dim, "column position");
		VaeStateCheck(a->cls == VAE_CLASS_ARRAY ||
					  (a->kind == VC_COL_CYCLIC ? a->width >= 1 : a->width == 1),
					  "column width");
		VaeStateCheck(a->dict == NULL || a->width == 1, "dictionary column");
		for (t = 0; t < a->width; t++)
		{
			VaeStateCheck(!claimed[a->col + t], "overlapping columns");
			claimed[a->col + t] = true;
		}
	}
	pfree(claimed);
}

/*
 * A state from a payload (in cxt, the current context), checking every
 * length, range and code, so that a damaged or forged value is an ERROR:
 * the final function indexes dictionaries by the codes in the rows.
 */
static void *
DeserializeRows(MemoryContext cxt, const char *p, Size len)
{
	VaeStateReader r = {p, len, 0};
	VaeRowsState *st = palloc0(sizeof(VaeRowsState));
	char	   *opt;
	int32		natts,
				dim,
				n_codes;
	int64		n_rows,
				i;
	int			j,
				c,
				f;
	Size		rec;
	int32	   *codes_of;

	opt = VaeStateReadString(&r);
	if (opt)
		st->options = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(opt)));
	VaeParseRowOptions(st->options, &st->opt, &st->ro);
	GET(&r, st->seen);
	GET(&r, st->rows_in);
	GET(&r, st->k);
	GET(&r, natts);
	VaeStateCheck(natts >= 0 && natts <= MaxTupleAttributeNumber && st->seen >= 0 &&
				  st->rows_in >= 0 && st->k >= 0, "counters");
	st->natts = natts;
	st->attrs = palloc0(sizeof(RowAttr) * Max(natts, 1));
	for (j = 0; j < natts; j++)
	{
		RowAttr    *a = &st->attrs[j];
		uint8		flags;
		int32		ints[8];

		a->name = VaeStateReadString(&r);
		a->type_name = VaeStateReadString(&r);
		VaeStateCheck(a->name && a->type_name, "attribute name");
		GET(&r, flags);
		VaeStateRead(&r, ints, sizeof(ints));
		a->dropped = (flags & 1) != 0;
		a->stable_text = (flags & 2) != 0;
		a->kind_given = (flags & 4) != 0;
		a->cls = ints[0];
		a->num = ints[1];
		a->kind = ints[2];
		a->excluded = ints[3];
		a->col = ints[4];
		a->width = ints[5];
		a->sources[0] = ints[6];
		a->sources[1] = ints[7];
		GET(&r, a->n_nonnull);
		GET(&r, a->n_null);
		GET(&r, n_codes);
		VaeStateCheck(a->cls >= VAE_CLASS_OTHER && a->cls <= VAE_CLASS_TIMESTAMPTZ &&
					  a->num >= VAE_ELEM_OTHER && a->num <= VAE_ELEM_NUMERIC &&
					  a->kind >= 0 && a->kind <= VC_COL_CYCLIC &&
					  a->excluded >= -1 && a->excluded <= VC_EXCL_CARDINALITY &&
					  a->col >= -1 && a->width >= 0 && a->width <= VC_MAX_COLUMNS &&
					  a->n_nonnull >= 0 && a->n_null >= 0 &&
					  n_codes >= -1 && n_codes <= DICT_CAP, "attribute");
		if (a->kind == VC_COL_CYCLIC)
			VaeStateCheck(a->width <= 2 && a->sources[0] >= 0 && a->sources[1] >= 0,
						  "cyclic attribute");
		if (n_codes >= 0)
		{
			VaeStateCheck(a->kind == VC_COL_CATEGORICAL && a->col >= 0, "dictionary");
			CreateDictionary(cxt, a);
			for (c = 0; c < n_codes; c++)
			{
				uint64		hash;
				int64		count;
				char	   *text;

				GET(&r, hash);
				GET(&r, count);
				text = VaeStateReadString(&r);
				VaeStateCheck(text != NULL && count >= 1 && hash == VaeHashBytes(text, strlen(text)),
							  "category");
				VaeStateCheck(AddCategory(a, text, hash, count) == c, "duplicate category");
				pfree(text);
			}
		}
		else
			VaeStateCheck(a->kind != VC_COL_CATEGORICAL || a->col < 0 ||
						  a->excluded == VC_EXCL_CARDINALITY, "missing dictionary");
	}
	GET(&r, dim);
	GET(&r, n_rows);
	VaeStateCheck(dim >= 0 && dim <= VC_MAX_COLUMNS && n_rows >= 0, "rows");
	CheckColumnRanges(st, dim);
	rec = sizeof(uint64) + sizeof(float) * dim;
	VaeStateCheck((Size) n_rows == (len - r.pos) / rec && (len - r.pos) % rec == 0,
				  "row count");
	/* the codes each float may hold (-1: not a category), to check them */
	codes_of = palloc(sizeof(int32) * Max(dim, 1));
	for (f = 0; f < dim; f++)
		codes_of[f] = -1;
	for (j = 0; j < natts; j++)
		if (st->attrs[j].dict)
			codes_of[st->attrs[j].col] = st->attrs[j].n_codes;
	VaeBufferInit(cxt, &st->buf, dim);
	for (i = 0; i < n_rows; i++)
	{
		char	   *dst = VaeBufferAppend(cxt, &st->buf);
		float	   *row = (float *) (dst + sizeof(uint64));

		VaeStateRead(&r, dst, rec);
		for (f = 0; f < dim; f++)
			if (codes_of[f] >= 0 && !vc_is_null(row[f]))
				VaeStateCheck(row[f] >= 0 && row[f] < codes_of[f] && row[f] == floorf(row[f]),
							  "category code");
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(codes_of);
	st->row = palloc(sizeof(float) * Max(dim, 1));
	return st;
}

/* ERROR: two partial states that cannot be combined (detail: how they differ) */
static void
Incompatible(const char *detail, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("vae_train cannot combine states of different rows"),
			 errdetail(detail, name)));
}

/*
 * Add src's rows and statistics to dst, exactly as if dst's scan had also
 * read src's rows: counts add up, dictionaries merge by category text (the
 * provisional codes of src's rows are recoded into dst's), an array column
 * first seen in src widens dst, and the rows are trimmed to the bottom-k of
 * the smaller of the two samples (each part kept at least that many of its
 * smallest hashes, so the result is the sample of the union).
 */
static void
MergeRows(MemoryContext cxt, VaeRowsState *dst, VaeRowsState *src)
{
	int		  **code_map;
	int		   *src_of,
			   *src_attr;
	int			j,
				t,
				f;
	int64		i;

	VaeCheckSameOptions(dst->options, src->options);
	/*
	 * src's attribute for each of dst's (-1: dropped), matched in order
	 * over the attributes that are not dropped: a shard table created after
	 * an ALTER TABLE ... DROP COLUMN has no dropped attribute where the
	 * others have one, and dropped attributes touch neither hash nor model.
	 */
	src_attr = palloc(sizeof(int) * Max(dst->natts, 1));
	t = 0;
	for (j = 0; j < dst->natts; j++)
	{
		RowAttr    *a = &dst->attrs[j],
				   *b;

		src_attr[j] = -1;
		if (a->dropped)
			continue;
		while (t < src->natts && src->attrs[t].dropped)
			t++;
		if (t == src->natts)
			Incompatible("The other state has no column \"%s\".", a->name);
		b = &src->attrs[t];
		src_attr[j] = t++;
		if (strcmp(a->name, b->name) != 0 || a->cls != b->cls ||
			a->kind != b->kind || (a->col < 0) != (b->col < 0))
			Incompatible("Column \"%s\" differs in name, type or plan.", a->name);
		if (a->cls == VAE_CLASS_ARRAY && a->col >= 0 && b->width > 0)
		{
			if (a->width == 0)
				WidenForArray(cxt, dst, a, b->width);
			else if (a->width != b->width)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("vae_train: column \"%s\" has arrays of %d and of %d elements",
								a->name, a->width, b->width),
						 errhint("Every non-NULL array of a column must have the same length.")));
		}
	}
	while (t < src->natts && src->attrs[t].dropped)
		t++;
	if (t < src->natts)
		Incompatible("The other state has another column, \"%s\".", src->attrs[t].name);
	/* where each of dst's floats comes from in src (-1: NULL), and category recodings */
	src_of = palloc(sizeof(int) * Max(dst->buf.dim, 1));
	code_map = palloc0(sizeof(int *) * Max(dst->buf.dim, 1));
	for (f = 0; f < dst->buf.dim; f++)
		src_of[f] = -1;
	for (j = 0; j < dst->natts; j++)
	{
		RowAttr    *a = &dst->attrs[j],
				   *b;

		if (src_attr[j] < 0)
			continue;
		b = &src->attrs[src_attr[j]];
		a->n_nonnull += b->n_nonnull;
		a->n_null += b->n_null;
		if (a->col < 0)
			continue;
		for (t = 0; t < a->width && t < b->width; t++)
			src_of[a->col + t] = b->col + t;
		if (a->kind != VC_COL_CATEGORICAL)
			continue;
		if (b->dict == NULL && a->dict != NULL)
			DropDictionary(a);
		if (a->dict == NULL)
			continue;
		code_map[a->col] = palloc(sizeof(int) * Max(b->n_codes, 1));
		for (t = 0; t < b->n_codes && a->dict; t++)
			code_map[a->col][t] = AddCategory(a, b->by_code[t]->text, b->by_code[t]->hash,
											  b->by_code[t]->count);
		if (a->dict == NULL)
		{
			/* too many values: the column is left out, its codes unused */
			pfree(code_map[a->col]);
			code_map[a->col] = NULL;
		}
	}
	dst->seen += src->seen;
	dst->rows_in += src->rows_in;
	dst->k = VaeMinSample(dst->k, src->k);
	for (i = 0; i < src->buf.n_rows; i++)
	{
		const char *in = VaeBufferRecord(&src->buf, i);
		const float *x = (const float *) (in + sizeof(uint64));
		char	   *out = VaeBufferAppend(cxt, &dst->buf);
		float	   *y = (float *) (out + sizeof(uint64));

		memcpy(out, in, sizeof(uint64));
		for (f = 0; f < dst->buf.dim; f++)
		{
			float		v = src_of[f] >= 0 ? x[src_of[f]] : vc_null_value();

			if (code_map[f] && !vc_is_null(v))
				v = (float) code_map[f][(int) v];
			y[f] = v;
		}
		VaeBufferCompact(cxt, &dst->buf, dst->k);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	VaeBufferCompact(cxt, &dst->buf, dst->k);
	for (f = 0; f < dst->buf.dim; f++)
		if (code_map[f])
			pfree(code_map[f]);
	pfree(code_map);
	pfree(src_of);
	pfree(src_attr);
}

/* the rows a row state holds */
static int64
RowsRows(const void *state)
{
	return ((const VaeRowsState *) state)->buf.n_rows;
}

/* dst a copy of row state src: its image read back into dst's context */
static void
RowsCopy(VaeState *dst, void *src)
{
	StringInfoData buf;
	MemoryContext old;

	initStringInfo(&buf);
	SerializeRows(src, &buf);
	old = MemoryContextSwitchTo(dst->hdr.eoh_context);
	dst->state = DeserializeRows(dst->hdr.eoh_context, buf.data, buf.len);
	MemoryContextSwitchTo(old);
	pfree(buf.data);
}

/* row state src added to dst exactly (MergeRows), in dst's context */
static void
RowsMerge(VaeState *dst, void *src)
{
	MemoryContext old = MemoryContextSwitchTo(dst->hdr.eoh_context);

	MergeRows(dst->hdr.eoh_context, dst->state, src);
	MemoryContextSwitchTo(old);
}

/*
 * Combine: add the second state (a shard's partial state, or a sample from
 * vae_sample) to the first, which is updated in place.  Also the transition
 * function of vae_train_samples.
 */
Datum
VaeRowsCombine(FunctionCallInfo fcinfo, MemoryContext aggctx)
{
	return VaeStateCombine(fcinfo, aggctx, &vae_rows_state_ops);
}

/* ---- vae_row: a row under a fixed type name, for Citus ---- */

/*
 * vae_row(t): the composite value itself, typed vae_row.  Citus splits an
 * aggregate into partial aggregates only when each argument's type on the
 * shard is exactly the declared one, which a record argument never is (a
 * shard's rows have the shard table's own type); vae_train(vae_row(t))
 * passes that check, and the transition reads the value as the record it
 * is (its row type is in its header).  Made only by this function: the
 * input function refuses text, and there is no binary input.
 */
Datum
vae_row(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(PointerGetDatum(PG_GETARG_HEAPTUPLEHEADER(0)));
}

Datum
vae_row_in(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("vae_row values cannot be entered as text"),
			 errhint("Use vae_row(t) on a row.")));
	PG_RETURN_NULL();
}

/* the row's text, as record_out writes it */
Datum
vae_row_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(OidFunctionCall1(F_RECORD_OUT,
									 PointerGetDatum(PG_GETARG_HEAPTUPLEHEADER(0))));
}
