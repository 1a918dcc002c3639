/*
 * vae_rows.h - reading the values of records for row models (vae_rows.c),
 * shared by the record aggregate (vae_agg_rows.c) and the scoring
 * functions (vae_score_rows.c, vae_model_cache.c).
 */
#ifndef VAE_ROWS_H
#define VAE_ROWS_H

#include "vae.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "lib/stringinfo.h"

#include "vc_schema.h"

/* how a type's values can be read */
typedef enum VaeTypeClass
{
	VAE_CLASS_OTHER = 0,		/* cannot be encoded (jsonb, bytea, ...) */
	VAE_CLASS_NUMBER,			/* smallint ... numeric: continuous */
	VAE_CLASS_BOOL,
	VAE_CLASS_TEXT,				/* text-like: categorical through the output function */
	VAE_CLASS_ARRAY,			/* a numeric array: one continuous column per element */
	VAE_CLASS_DATE,				/* date/time: cyclic parts */
	VAE_CLASS_TIME,
	VAE_CLASS_TIMETZ,
	VAE_CLASS_TIMESTAMP,
	VAE_CLASS_TIMESTAMPTZ
} VaeTypeClass;

/* the class of typid (a domain: its base type's); *num: its float conversion */
extern VaeTypeClass VaeClassifyType(Oid typid, VaeElemKind *num);
/* the cyclic parts (VcColumnSource) a date/time class gives, in order; their count */
extern int	VaeCyclicSources(VaeTypeClass cls, int *sources);
/* can a value of class cls give part `source` */
extern bool VaeCyclicHasSource(VaeTypeClass cls, int source);
/* the period of a cyclic part */
extern float VaeCyclicPeriod(int source);
/* the phase in [0, period) of part `source` of a date/time value; NULL marker when infinite */
extern float VaeCyclicPhase(Datum d, VaeTypeClass cls, int source);
/* the name suffix of a cyclic part: "hour", "dow", "doy" */
extern const char *VaeCyclicSuffix(int source);

/*
 * A number as float32 (NaN, Infinity, beyond real: ERROR 22000 naming the
 * column, and the row when row > 0 (training), else the value (scoring)).
 */
extern float VaeReadNumber(Datum d, VaeElemKind num, const char *column, int64 row);

/*
 * The elements of a one-dimensional numeric array, NULL elements as the NULL
 * marker, into out[0, len); ERROR naming the column when its length is not
 * len.  VaeArrayLength: the length of a (checked) array value.
 */
extern int	VaeArrayLength(Datum d, const char *column, int64 row);
extern void VaeReadArray(Datum d, const char *column, int64 row, int len, float *out);

/* the text of a categorical value, cut to VC_MAX_CATEGORY_LEN bytes on a character boundary */
extern void VaeCategoryOutput(Oid typid, const char *column, FmgrInfo *out,
							  MemoryContext cxt);
extern bool VaeStableText(Oid base);
extern char *VaeFloatText(float v);
/* vae_score_rows.c: a number as JSON, its shortest float4 text, non-finite as null */
extern void VaeAppendJsonNumber(StringInfo s, double v);
extern char *VaeCategoryText(FmgrInfo *out, Datum d, int *len);
/* that cut: the length to keep of a text of n bytes */
extern int	VaeClipCategory(const char *s, int n);
/* is a value's output text its stored bytes (text, varchar, char(n)) */
extern bool VaeTextIsStored(Oid typid);
/* 64-bit hash of bytes, the same on every platform */
extern uint64 VaeHashBytes(const char *s, int len);

/* the attributes of a record of row type tupdesc */
extern void VaeDeformRecord(HeapTupleHeader rec, TupleDesc tupdesc, Datum *values, bool *isnull);
/* the attribute named name in tupdesc (not dropped), or -1 */
extern int	VaeFindAttribute(TupleDesc tupdesc, const char *name);
/* "a, b, c": the attribute names of tupdesc, for messages */
extern char *VaeAttributeList(TupleDesc tupdesc);

/*
 * Scoring: how each column of a row model is read from records of one row
 * type (built once per model and row type, cached with the model).
 */
typedef struct VaeRowMap VaeRowMap;
extern VaeRowMap *VaeBuildRowMap(const VcSchema *s, TupleDesc tupdesc, Oid typid, int32 typmod,
								 MemoryContext cxt);
extern bool VaeRowMapMatches(const VaeRowMap *map, Oid typid, int32 typmod);
/*
 * The compact row of record rec into x (schema->n_columns floats); with
 * texts (may be NULL) also each column's value as text (NULL for SQL NULL).
 */
extern void VaeReadRecord(const VaeRowMap *map, const VcSchema *s, HeapTupleHeader rec,
						  float *x, char **texts);
/* the same for a heap tuple of the map's row type (a row from SPI) */
extern void VaeReadTuple(const VaeRowMap *map, const VcSchema *s, HeapTuple tuple,
						 float *x, char **texts);

/*
 * vae_score_rows.c: one column's value of a compact row as JSON (a number, a
 * boolean, a category's text or null); what the decoder expects of each
 * column as a compact row
 */
extern void VaeAppendJsonValue(StringInfo s, const VcColumn *c, float v);
extern float *VaeExpectedRow(const VcSchema *schema, const VcColumnExpect *e);

#endif							/* VAE_ROWS_H */
