/*
 * vae_rows.c - reading the values of records for row models.
 *
 * Training and scoring read a column the same way, through these helpers,
 * so that a row scores as the training saw it: numbers converted as a cast
 * to real converts them, categories through the type's output function
 * (cut to VC_MAX_CATEGORY_LEN bytes), numeric arrays element by element,
 * date/time values as phases of a cycle (UTC: scoring is IMMUTABLE and must
 * not depend on the session's TimeZone).  Scoring matches columns by name:
 * the mapping from a row type to the model's compact row is computed once
 * per (model, row type) and cached with the decoded model.
 */
#include "vae_rows.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

/* the class of typid (a domain: its base type's); *num: its float conversion */
VaeTypeClass
VaeClassifyType(Oid typid, VaeElemKind *num)
{
	Oid			base = getBaseType(typid);
	Oid			elem;

	*num = VaeNumberKind(base);
	if (*num != VAE_ELEM_OTHER)
		return VAE_CLASS_NUMBER;
	switch (base)
	{
		case BOOLOID:
			return VAE_CLASS_BOOL;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case CHAROID:
		case UUIDOID:
			return VAE_CLASS_TEXT;
		case DATEOID:
			return VAE_CLASS_DATE;
		case TIMEOID:
			return VAE_CLASS_TIME;
		case TIMETZOID:
			return VAE_CLASS_TIMETZ;
		case TIMESTAMPOID:
			return VAE_CLASS_TIMESTAMP;
		case TIMESTAMPTZOID:
			return VAE_CLASS_TIMESTAMPTZ;
		default:
			break;
	}
	if (type_is_enum(base))
		return VAE_CLASS_TEXT;
	elem = get_element_type(base);
	if (OidIsValid(elem))
	{
		*num = VaeNumberKind(elem);
		if (*num != VAE_ELEM_OTHER)
			return VAE_CLASS_ARRAY;
	}
	return VAE_CLASS_OTHER;
}

/*
 * The cyclic parts of a date/time class: the hour of the day where the
 * value has a time, the day of the week where it has a date, and the day of
 * the year for dates (a timestamp's hour and weekday carry most of its
 * cycles; a date has no hour).
 */
int
VaeCyclicSources(VaeTypeClass cls, int *sources)
{
	switch (cls)
	{
		case VAE_CLASS_DATE:
			sources[0] = VC_SRC_DAY_OF_WEEK;
			sources[1] = VC_SRC_DAY_OF_YEAR;
			return 2;
		case VAE_CLASS_TIME:
		case VAE_CLASS_TIMETZ:
			sources[0] = VC_SRC_HOUR_OF_DAY;
			return 1;
		case VAE_CLASS_TIMESTAMP:
		case VAE_CLASS_TIMESTAMPTZ:
			sources[0] = VC_SRC_HOUR_OF_DAY;
			sources[1] = VC_SRC_DAY_OF_WEEK;
			return 2;
		default:
			return 0;
	}
}

/* can a value of class cls give part `source` (scoring may pass another date/time type) */
bool
VaeCyclicHasSource(VaeTypeClass cls, int source)
{
	switch (source)
	{
		case VC_SRC_HOUR_OF_DAY:
			return cls == VAE_CLASS_TIME || cls == VAE_CLASS_TIMETZ ||
				cls == VAE_CLASS_TIMESTAMP || cls == VAE_CLASS_TIMESTAMPTZ;
		case VC_SRC_DAY_OF_WEEK:
		case VC_SRC_DAY_OF_YEAR:
			return cls == VAE_CLASS_DATE || cls == VAE_CLASS_TIMESTAMP ||
				cls == VAE_CLASS_TIMESTAMPTZ;
		default:
			return false;
	}
}

float
VaeCyclicPeriod(int source)
{
	return source == VC_SRC_HOUR_OF_DAY ? 24.0f : source == VC_SRC_DAY_OF_WEEK ? 7.0f : 365.25f;
}

const char *
VaeCyclicSuffix(int source)
{
	return source == VC_SRC_HOUR_OF_DAY ? "hour" : source == VC_SRC_DAY_OF_WEEK ? "dow" : "doy";
}

/*
 * The phase of a part of a date/time value, in [0, period).  Timestamps
 * count from 2000-01-01 00:00 (a Saturday) in UTC; the day of the week is
 * fractional (0 = Sunday midnight), the day of the year counts from 0 on
 * January 1st.  An infinite date or timestamp has no phase: it reads as
 * NULL.
 */
float
VaeCyclicPhase(Datum d, VaeTypeClass cls, int source)
{
	double		days;			/* since 2000-01-01, fractional */
	double		hour = 0;

	switch (cls)
	{
		case VAE_CLASS_TIME:
			return (float) (DatumGetTimeADT(d) / (double) USECS_PER_HOUR);
		case VAE_CLASS_TIMETZ:
			return (float) (DatumGetTimeTzADTP(d)->time / (double) USECS_PER_HOUR);
		case VAE_CLASS_DATE:
			{
				DateADT		date = DatumGetDateADT(d);

				if (DATE_NOT_FINITE(date))
					return vc_null_value();
				days = date;
				break;
			}
		default:
			{
				Timestamp	ts = DatumGetTimestamp(d);
				int64		whole;

				if (TIMESTAMP_NOT_FINITE(ts))
					return vc_null_value();
				whole = ts / USECS_PER_DAY;
				if (ts % USECS_PER_DAY < 0)
					whole--;
				hour = (ts - whole * USECS_PER_DAY) / (double) USECS_PER_HOUR;
				days = whole + hour / 24.0;
				break;
			}
	}
	if (source == VC_SRC_HOUR_OF_DAY)
		return (float) hour;
	if (source == VC_SRC_DAY_OF_WEEK)
	{
		double		dow = fmod(days + 6.0, 7.0);

		return (float) (dow < 0 ? dow + 7.0 : dow);
	}
	{
		int			whole = (int) floor(days);
		int			y,
					m,
					dd;

		j2date(whole + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
		return (float) (whole + POSTGRES_EPOCH_JDATE - date2j(y, 1, 1) + (days - whole));
	}
}

/* NaN, Infinity or out of range, as SQL writes the value */
static const char *
BadWhat(double bad)
{
	return isnan(bad) ? "NaN" : isinf(bad) ? (bad > 0 ? "Infinity" : "-Infinity") :
		"a value out of range for real";
}

/* ERROR 22000 for a value no model can take */
static void
ReportBadNumber(const char *column, int64 row, double bad)
{
	if (row > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vae_train: column \"%s\" has %s in row %lld", column, BadWhat(bad),
						(long long) row),
				 errhint("Values must be finite numbers; NULL is modelled as missing.")));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("column \"%s\" is %s, which the model cannot score", column, BadWhat(bad)),
			 errhint("Values must be finite numbers; NULL is modelled as missing.")));
}

/* a number as float32, or ERROR 22000 naming the column (and the row when row > 0) */
float
VaeReadNumber(Datum d, VaeElemKind num, const char *column, int64 row)
{
	float		f = 0;
	double		bad;

	if (!VaeNumberToFloat(d, num, &f, &bad))
		ReportBadNumber(column, row, bad);
	return f;
}

/* the length of a one-dimensional array value; ERROR for more dimensions */
int
VaeArrayLength(Datum d, const char *column, int64 row)
{
	ArrayType  *a = DatumGetArrayTypeP(d);

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("column \"%s\" must be a one-dimensional array, not %d-dimensional",
						column, ARR_NDIM(a)),
				 row > 0 ? errdetail("Row %lld.", (long long) row) : 0));
	return ARR_NDIM(a) == 0 ? 0 : ARR_DIMS(a)[0];
}

/*
 * The elements of a one-dimensional numeric array into out[0, len), NULL
 * elements as the NULL marker; ERROR naming the column when its length is
 * not len or an element cannot be a float32.
 */
void
VaeReadArray(Datum d, const char *column, int64 row, int len, float *out)
{
	ArrayType  *a = DatumGetArrayTypeP(d);
	int			n = VaeArrayLength(d, column, row);
	VaeElemKind num = VaeNumberKind(ARR_ELEMTYPE(a));
	int16		typlen;
	bool		byval;
	char		align;
	Datum	   *elems;
	bool	   *nulls;
	double		bad;
	int			i;

	if (n != len)
	{
		if (row > 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("vae_train: column \"%s\" has %d elements in row %lld, but %d before",
							column, n, (long long) row, len),
					 errhint("Every non-NULL array of a column must have the same length.")));
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("column \"%s\" has %d elements, but the model was trained on %d",
						column, n, len)));
	}
	get_typlenbyvalalign(ARR_ELEMTYPE(a), &typlen, &byval, &align);
	deconstruct_array(a, ARR_ELEMTYPE(a), typlen, byval, align, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			out[i] = vc_null_value();
		else if (!VaeNumberToFloat(elems[i], num, &out[i], &bad))
			ReportBadNumber(psprintf("%s[%d]", column, i + 1), row, bad);
	}
	pfree(elems);
	pfree(nulls);
}

/* the length of a category's text of n bytes, cut to VC_MAX_CATEGORY_LEN on a character boundary */
int
VaeClipCategory(const char *s, int n)
{
	return n > VC_MAX_CATEGORY_LEN ? pg_mbcliplen(s, n, VC_MAX_CATEGORY_LEN) : n;
}

/*
 * Whether the text of a value of type base (not a domain) is the same in
 * every session: strings, booleans, integers, numeric, floats (written by
 * VaeCategoryText, not by their output function), uuid, oid, network
 * addresses, json and jsonb, and enums.  Anything else (dates and times,
 * money, bytea, reg* types, arrays, ranges, composites of such) may follow a
 * setting, or is not vetted, and is not read as a category.
 */
bool
VaeStableText(Oid base)
{
	switch (base)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case CHAROID:
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case UUIDOID:
		case OIDOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case JSONOID:
		case JSONBOID:
			return true;
		default:
			return get_typtype(base) == TYPTYPE_ENUM;
	}
}

/*
 * The output function that gives the categories of a column of type typid,
 * into out.  The scoring functions are IMMUTABLE, so a category's text may
 * not depend on a setting: only types whose text is the same in every
 * session are read as categories (VaeStableText), the others are refused with
 * the way to use them; floats are written by VaeCategoryText itself, not by
 * their output function (extra_float_digits).
 */
void
VaeCategoryOutput(Oid typid, const char *column, FmgrInfo *out, MemoryContext cxt)
{
	Oid			base = getBaseType(typid),
				outfn;
	bool		varlena;

	if (!VaeStableText(base))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of type %s cannot be read as a category",
						column, format_type_be(typid)),
				 errdetail("Categories are read from a value's text, which for this type can "
						   "depend on settings (DateStyle, TimeZone, bytea_output, search_path, "
						   "...), and a model must read a row the same way in every session."),
				 errhint("Cast it to text in a subquery with the format you want, or, for dates "
						 "and times, give it the kind \"cyclic\".")));
	getTypeOutputInfo(typid, &outfn, &varlena);
	fmgr_info_cxt(outfn, out, cxt);
}

/*
 * A float4 as its shortest exact decimal ("Infinity", "NaN" spelled as
 * PostgreSQL spells them), whatever extra_float_digits says: the texts the
 * IMMUTABLE functions return (vae_explain's values, vae_reconstruct's and
 * vae_generate_rows' numbers) must not depend on a setting.
 */
char *
VaeFloatText(float v)
{
	char	   *s = palloc(FLOAT_SHORTEST_DECIMAL_LEN);

	float_to_shortest_decimal_buf(v, s);
	return s;
}

/*
 * The text of a categorical value, cut to VC_MAX_CATEGORY_LEN bytes on a
 * character boundary.  A float is written as its shortest exact decimal,
 * whatever extra_float_digits says.
 */
char *
VaeCategoryText(FmgrInfo *out, Datum d, int *len)
{
	char	   *s;
	int			n;

	if (out->fn_oid == F_FLOAT8OUT || out->fn_oid == F_FLOAT4OUT)
	{
		s = palloc(DOUBLE_SHORTEST_DECIMAL_LEN);
		if (out->fn_oid == F_FLOAT8OUT)
			double_to_shortest_decimal_buf(DatumGetFloat8(d), s);
		else
			float_to_shortest_decimal_buf(DatumGetFloat4(d), s);
	}
	else
		s = OutputFunctionCall(out, d);
	n = VaeClipCategory(s, strlen(s));

	s[n] = '\0';
	*len = n;
	return s;
}

/*
 * Is the output function's text of typid (a domain: its base type's) its
 * stored bytes, so that a category can be read from the value itself,
 * without the call and its copy: text, varchar and char(n) (whose output
 * keeps the padding, as the stored value does).
 */
bool
VaeTextIsStored(Oid typid)
{
	Oid			base = getBaseType(typid);

	return base == TEXTOID || base == VARCHAROID || base == BPCHAROID;
}

/* FNV-1a over the bytes, then the core's mixer: stable across platforms */
uint64
VaeHashBytes(const char *s, int len)
{
	uint64		h = UINT64CONST(0xcbf29ce484222325);
	int			i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * UINT64CONST(0x100000001b3);
	return vc_mix64(h ^ (uint64) len);
}

/* the attributes of a record (a composite Datum's header) of row type tupdesc */
void
VaeDeformRecord(HeapTupleHeader rec, TupleDesc tupdesc, Datum *values, bool *isnull)
{
	HeapTupleData tuple;

	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&(tuple.t_self));
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;
	heap_deform_tuple(&tuple, tupdesc, values, isnull);
}

/* the 0-based index of the live attribute called name in tupdesc, or -1 */
int
VaeFindAttribute(TupleDesc tupdesc, const char *name)
{
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	return -1;
}

/* the names of tupdesc's live attributes, comma-separated, for messages */
char *
VaeAttributeList(TupleDesc tupdesc)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped)
			appendStringInfo(&s, "%s%s", s.len ? ", " : "", NameStr(att->attname));
	}
	return s.data;
}

/* ---- scoring: the row map ---- */

/*
 * One slot of a column's category table: a category's text hash and its
 * code, or code -1 for an empty slot (open addressing, linear probing).
 */
typedef struct VaeCategoryKey
{
	uint64		hash;
	int			code;
} VaeCategoryKey;

/*
 * How one model column is read from a deformed record, decided once per row
 * type, so that reading a row is one switch per column with no lookups.
 */
typedef enum VaeReadOp
{
	VAE_READ_FLOAT4,			/* a real, checked finite */
	VAE_READ_INT4,				/* an integer: exact conversion, always finite */
	VAE_READ_NUMBER,			/* another number type: VaeReadNumber */
	VAE_READ_BOOL,				/* a boolean as 0/1 (continuous or boolean column) */
	VAE_READ_ARRAY,				/* an element of a numeric array */
	VAE_READ_CYCLIC,			/* a part of a date/time value */
	VAE_READ_TEXT_BYTES,		/* a category of text, varchar or char(n): its stored bytes */
	VAE_READ_CATEGORY			/* a category of another type: its output function */
} VaeReadOp;

typedef struct VaeColumnRead
{
	int			attno;			/* 0-based in the row type */
	VaeReadOp	op;
	VaeTypeClass cls;
	VaeElemKind num;
	FmgrInfo	out;			/* categorical: the attribute's output function */
	VaeCategoryKey *keys;		/* categorical: the table, mask + 1 slots */
	uint64		mask;			/* categorical: slots - 1 (a power of 2) */
	int		   *cat_len;		/* categorical: strlen of each category, by code */
} VaeColumnRead;

struct VaeRowMap
{
	Oid			typid;
	int32		typmod;
	TypeCacheEntry *typentry;	/* a named row type's cache entry, NULL for RECORD */
	uint64		tupdesc_id;		/* its tupDesc_identifier when the map was built */
	TupleDesc	tupdesc;		/* a copy */
	VaeColumnRead *cols;
	Datum	   *values;			/* deform buffers */
	bool	   *isnull;
	float	   *elems;			/* array elements of one attribute */
};

/* what a column of this kind and source reads, in words, for messages */
static const char *
Expects(const VcColumn *c)
{
	if (c->kind == VC_COL_CONTINUOUS)
		return c->source == VC_SRC_ARRAY_ELEMENT ? "a numeric array" : "a number";
	if (c->kind == VC_COL_BOOLEAN)
		return "a boolean";
	if (c->kind == VC_COL_CYCLIC)
		return "a date or time";
	return "a category: text, a number, a boolean, uuid, json or an enum";
}

/* "a (continuous), b (categorical), ...": the model's attributes, for messages */
static char *
ModelColumns(const VcSchema *s)
{
	StringInfoData b;
	int			i;

	initStringInfo(&b);
	for (i = 0; i < s->n_columns; i++)
	{
		const VcColumn *c = &s->columns[i];

		if (i > 0 && strcmp(s->columns[i - 1].attribute, c->attribute) == 0)
			continue;
		appendStringInfo(&b, "%s%s (%s)", b.len ? ", " : "", c->attribute, Expects(c));
	}
	return b.data;
}

/* can class cls (with num) be read as column c */
static bool
Readable(const VcColumn *c, VaeTypeClass cls)
{
	switch (c->kind)
	{
		case VC_COL_CONTINUOUS:
			if (c->source == VC_SRC_ARRAY_ELEMENT)
				return cls == VAE_CLASS_ARRAY;
			return cls == VAE_CLASS_NUMBER || cls == VAE_CLASS_BOOL;
		case VC_COL_BOOLEAN:
			return cls == VAE_CLASS_BOOL;
		case VC_COL_CYCLIC:
			return VaeCyclicHasSource(cls, c->source);
		default:
			/* as training reads a column given kind categorical: any type but arrays */
			return cls != VAE_CLASS_ARRAY;
	}
}

/* how column c is read from an attribute of class r->cls (categories: set by the caller) */
static VaeReadOp
ReadOp(const VcColumn *c, const VaeColumnRead *r)
{
	if (c->kind == VC_COL_CYCLIC)
		return VAE_READ_CYCLIC;
	if (c->kind == VC_COL_CATEGORICAL)
		return VAE_READ_CATEGORY;
	if (c->source == VC_SRC_ARRAY_ELEMENT)
		return VAE_READ_ARRAY;
	if (r->cls == VAE_CLASS_BOOL)
		return VAE_READ_BOOL;
	return r->num == VAE_ELEM_FLOAT4 ? VAE_READ_FLOAT4 :
		r->num == VAE_ELEM_INT4 ? VAE_READ_INT4 : VAE_READ_NUMBER;
}

/*
 * Match the model's columns to the attributes of a row type by name: an
 * attribute the model needs and the row lacks is ERROR 42703, one whose
 * type cannot be read as the trained kind ERROR 42804, both listing what
 * the model expects; attributes the model does not use are ignored.
 */
VaeRowMap *
VaeBuildRowMap(const VcSchema *s, TupleDesc tupdesc, Oid typid, int32 typmod, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	VaeRowMap  *map = palloc0(sizeof(VaeRowMap));
	int			i,
				k,
				max_elems = 1;
	uint64		slot;

	map->typid = typid;
	map->typmod = typmod;
	/*
	 * A map built before an ALTER TABLE in the same session (fn_extra can
	 * outlive it, e.g. in a PL/pgSQL loop) must not deform rows of the new
	 * layout: the type cache entry (which lives as long as the session)
	 * zeroes its tupDesc_identifier when the descriptor is invalidated.  An
	 * anonymous record type's descriptor never changes.
	 */
	if (typid != RECORDOID)
	{
		map->typentry = lookup_type_cache(typid, TYPECACHE_TUPDESC);
		map->tupdesc_id = map->typentry->tupDesc_identifier;
	}
	map->tupdesc = CreateTupleDescCopy(tupdesc);
	map->cols = palloc0(sizeof(VaeColumnRead) * s->n_columns);
	map->values = palloc(sizeof(Datum) * Max(tupdesc->natts, 1));
	map->isnull = palloc(sizeof(bool) * Max(tupdesc->natts, 1));
	for (i = 0; i < s->n_columns; i++)
	{
		const VcColumn *c = &s->columns[i];
		VaeColumnRead *r = &map->cols[i];
		Form_pg_attribute att;

		r->attno = VaeFindAttribute(tupdesc, c->attribute);
		if (r->attno < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("the row has no column \"%s\", which the model needs", c->attribute),
					 errdetail("The model reads these columns: %s.", ModelColumns(s)),
					 errhint("Columns are matched by name; the row has: %s.",
							 VaeAttributeList(tupdesc))));
		att = TupleDescAttr(tupdesc, r->attno);
		r->cls = VaeClassifyType(att->atttypid, &r->num);
		if (!Readable(c, r->cls))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" is of type %s, but the model expects %s",
							c->attribute, format_type_be(att->atttypid), Expects(c)),
					 errdetail("The model reads these columns: %s.", ModelColumns(s))));
		if (c->source == VC_SRC_ARRAY_ELEMENT)
			max_elems = Max(max_elems, c->element);
		r->op = ReadOp(c, r);
		if (c->kind == VC_COL_CATEGORICAL)
		{
			VaeCategoryOutput(att->atttypid, c->attribute, &r->out, cxt);
			r->op = VaeTextIsStored(att->atttypid) ? VAE_READ_TEXT_BYTES : VAE_READ_CATEGORY;
			r->cat_len = palloc(sizeof(int) * Max(c->n_categories - 1, 1));
			/* at most half full, so that a miss ends at an empty slot soon */
			for (r->mask = 1; r->mask < 2 * (uint64) c->n_categories; r->mask *= 2)
				;
			r->keys = palloc(sizeof(VaeCategoryKey) * r->mask);
			r->mask--;
			for (k = 0; k <= (int) r->mask; k++)
				r->keys[k].code = -1;
			for (k = 0; k < c->n_categories - 1; k++)
			{
				uint64		h;

				r->cat_len[k] = strlen(c->categories[k]);
				h = VaeHashBytes(c->categories[k], r->cat_len[k]);
				for (slot = h & r->mask; r->keys[slot].code >= 0; slot = (slot + 1) & r->mask)
					;
				r->keys[slot].hash = h;
				r->keys[slot].code = k;
			}
		}
	}
	map->elems = palloc(sizeof(float) * max_elems);
	MemoryContextSwitchTo(old);
	return map;
}

/* whether map was built for rows of this type, as it is now */
bool
VaeRowMapMatches(const VaeRowMap *map, Oid typid, int32 typmod)
{
	return map != NULL && map->typid == typid && map->typmod == typmod &&
		(map->typentry == NULL || map->typentry->tupDesc_identifier == map->tupdesc_id);
}

/*
 * The code of a category's text (len bytes, not necessarily NUL-terminated):
 * its kept code, else "other" (n_categories - 1).  One probe of the
 * column's hash table in the common case; the bytes are compared only on
 * equal hashes (a collision with another text is "other", never a wrong
 * category).
 */
static int
CategoryCode(const VcColumn *c, const VaeColumnRead *r, const char *text, int len)
{
	uint64		h = VaeHashBytes(text, len),
				slot;

	for (slot = h & r->mask; r->keys[slot].code >= 0; slot = (slot + 1) & r->mask)
	{
		int			code = r->keys[slot].code;

		if (r->keys[slot].hash == h && r->cat_len[code] == len &&
			memcmp(c->categories[code], text, len) == 0)
			return code;
	}
	return c->n_categories - 1;
}

/* a compact value as text, for vae_explain's "value" */
static char *
ValueText(const VcColumn *c, float v)
{
	if (c->kind == VC_COL_BOOLEAN)
		return pstrdup(v != 0 ? "true" : "false");
	return VaeFloatText(v);
}

static void ReadDeformed(const VaeRowMap *map, const VcSchema *s, float *x, char **texts);

/*
 * The compact row of a record: one deform, then per column the read decided
 * when the map was built.  Numbers, booleans and the stored bytes of text
 * categories allocate nothing; only vae_explain's texts, other types'
 * categories (the output function) and arrays do.  Values are converted
 * exactly as VaeReadNumber and VaeCategoryText convert them.
 */
void
VaeReadRecord(const VaeRowMap *map, const VcSchema *s, HeapTupleHeader rec, float *x,
			  char **texts)
{
	VaeDeformRecord(rec, map->tupdesc, map->values, map->isnull);
	ReadDeformed(map, s, x, texts);
}

/* VaeReadRecord of a heap tuple (a row a query returned, through SPI) */
void
VaeReadTuple(const VaeRowMap *map, const VcSchema *s, HeapTuple tuple, float *x, char **texts)
{
	heap_deform_tuple(tuple, map->tupdesc, map->values, map->isnull);
	ReadDeformed(map, s, x, texts);
}

/* the compact row of the values the map's deform buffers hold */
static void
ReadDeformed(const VaeRowMap *map, const VcSchema *s, float *x, char **texts)
{
	const VaeColumnRead *cols = map->cols;
	const bool *isnull = map->isnull;
	const Datum *values = map->values;
	int			i,
				elems_attno = -1;

	for (i = 0; i < s->n_columns; i++)
	{
		const VaeColumnRead *r = &cols[i];
		Datum		d = values[r->attno];

		if (isnull[r->attno])
		{
			x[i] = vc_null_value();
			if (texts)
				texts[i] = NULL;
			continue;
		}
		switch (r->op)
		{
			case VAE_READ_FLOAT4:
				{
					float		f = DatumGetFloat4(d);

					if (unlikely(!isfinite(f)))
						f = VaeReadNumber(d, r->num, s->columns[i].attribute, 0);	/* its error */
					x[i] = f == 0.0f ? 0.0f : f;	/* -0 reads as 0, as VaeNumberToFloat */
				}
				break;
			case VAE_READ_INT4:
				x[i] = (float) DatumGetInt32(d);
				break;
			case VAE_READ_NUMBER:
				x[i] = VaeReadNumber(d, r->num, s->columns[i].attribute, 0);
				break;
			case VAE_READ_BOOL:
				x[i] = DatumGetBool(d) ? 1.0f : 0.0f;
				break;
			case VAE_READ_ARRAY:
				{
					const VcColumn *c = &s->columns[i];
					int			len = 0;

					/* the columns of one array are consecutive: read it once */
					for (len = 0; i + len < s->n_columns &&
						 s->columns[i + len].source == VC_SRC_ARRAY_ELEMENT &&
						 strcmp(s->columns[i + len].attribute, c->attribute) == 0; len++)
						;
					if (elems_attno != r->attno)
						VaeReadArray(d, c->attribute, 0, c->element - 1 + len, map->elems);
					elems_attno = r->attno;
					x[i] = map->elems[c->element - 1];
				}
				break;
			case VAE_READ_CYCLIC:
				x[i] = VaeCyclicPhase(d, r->cls, s->columns[i].source);
				break;
			case VAE_READ_TEXT_BYTES:
				{
					text	   *t = DatumGetTextPP(d);
					const char *p = VARDATA_ANY(t);
					int			len = VaeClipCategory(p, VARSIZE_ANY_EXHDR(t));

					x[i] = (float) CategoryCode(&s->columns[i], r, p, len);
					if (texts)
					{
						texts[i] = pnstrdup(p, len);
						continue;
					}
					if ((Pointer) t != DatumGetPointer(d))
						pfree(t);
				}
				break;
			case VAE_READ_CATEGORY:
				{
					int			len;
					char	   *t = VaeCategoryText((FmgrInfo *) &r->out, d, &len);

					x[i] = (float) CategoryCode(&s->columns[i], r, t, len);
					if (texts)
					{
						texts[i] = t;
						continue;
					}
					pfree(t);
				}
				break;
		}
		if (texts)
			texts[i] = vc_is_null(x[i]) ? NULL : ValueText(&s->columns[i], x[i]);
	}
}
