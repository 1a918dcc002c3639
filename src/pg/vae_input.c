/*
 * vae_input.c - checking feature arrays element by element.
 *
 * The SQL functions take anyarray, so that integer[], numeric[] and the like
 * resolve without a cast (with real[] and double precision[] overloads they
 * were ambiguous).  The element type of the array itself decides how it is
 * converted to float32, always as PostgreSQL's own cast to real would do it:
 * real is taken as is, double precision and the integer types are rounded
 * once with a C cast (like dtof, i2tof, i4tof, i8tof), numeric goes through
 * its decimal text like numeric_float4, so a row gives the same bits as the
 * same row cast to real[] (except that a nonzero value too small for real,
 * which the cast rejects, is taken as 0).  Every element is checked: NULLs,
 * NaN, Infinity and values beyond the range of real are errors naming the
 * feature position, so that nothing silently turns into a wrong model or
 * score.
 */
#include "vae.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "access/tupmacs.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

/* the conversion to float32 of this element type, or VAE_ELEM_OTHER */
static VaeElemKind
KindOf(Oid elemtype)
{
	switch (elemtype)
	{
		case FLOAT4OID:
			return VAE_ELEM_FLOAT4;
		case FLOAT8OID:
			return VAE_ELEM_FLOAT8;
		case INT2OID:
			return VAE_ELEM_INT2;
		case INT4OID:
			return VAE_ELEM_INT4;
		case INT8OID:
			return VAE_ELEM_INT8;
		case NUMERICOID:
			return VAE_ELEM_NUMERIC;
		default:
			return VAE_ELEM_OTHER;
	}
}

/* the kind of a's elements (a domain's: its base type's); ERROR for others */
static VaeElemKind
ElementKind(ArrayType *a, const char *what)
{
	Oid			elemtype = ARR_ELEMTYPE(a);
	VaeElemKind kind = KindOf(elemtype);

	/* an array of a domain over a numeric type converts like its base type */
	if (kind == VAE_ELEM_OTHER)
		kind = KindOf(getBaseType(elemtype));
	if (kind == VAE_ELEM_OTHER)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s must be an array of a numeric type, not %s[]",
						what, format_type_be(elemtype)),
				 errhint("Features can be real[], double precision[], smallint[], integer[], bigint[] or numeric[].")));
	return kind;
}

/*
 * Length of a feature array, after checking that its elements are numeric,
 * that it is one-dimensional with 1 to VC_MAX_INPUT_DIM elements and that
 * none is NULL; ERROR otherwise.
 */
int
VaeArrayDim(ArrayType *a, const char *what)
{
	int			dim;

	(void) ElementKind(a, what);
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array, not %d-dimensional",
						what, ARR_NDIM(a))));
	dim = ARR_NDIM(a) == 0 ? 0 : ARR_DIMS(a)[0];
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least one element", what)));
	if (dim > VC_MAX_INPUT_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s has %d elements; the limit is %d", what, dim, VC_MAX_INPUT_DIM)));
	if (ARR_HASNULL(a))
	{
		bits8	   *bitmap = ARR_NULLBITMAP(a);
		int			i;

		for (i = 0; i < dim; i++)
			if (!(bitmap[i / 8] & (1 << (i % 8))))
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("%s has a NULL at position %d", what, i + 1)));
	}
	return dim;
}

/* v: the value in its own type; a finite v means out of range for real */
static void
ReportBadValue(const char *what, int pos, double v)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("%s has %s at position %d", what,
					isnan(v) ? "NaN" : isinf(v) ? "Infinity" : "a value out of range for real",
					pos + 1),
			 errhint("Features must be finite numbers.")));
}

/* -0 and +0 are one value: store one bit pattern */
static inline float
OneZero(float f)
{
	return f == 0.0f ? 0.0f : f;
}

/*
 * numeric_float4's conversion: strtof of numeric_out's text, which rounds
 * the exact decimal value once.  Where float4in would reject a value that
 * underflows to zero, we keep the zero, as the double precision path does.
 * false for NaN, Infinity and values beyond real, *bad then saying which.
 */
static bool
NumericToFloatChecked(Numeric n, float *out, double *bad)
{
	char	   *text;
	float		f;

	if (numeric_is_nan(n) || numeric_is_inf(n))
	{
		*bad = numeric_is_nan(n) ? get_float8_nan() : get_float8_infinity();
		return false;
	}
	text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
	errno = 0;
	f = strtof(text, NULL);
	pfree(text);
	if (errno == ERANGE && isinf(f))
	{
		*bad = DBL_MAX;
		return false;
	}
	*out = OneZero(f);
	return true;
}

/*
 * The float32 value of numeric n, or an ERROR naming element pos of what
 * when it does not fit
 */
static float
NumericToFloat(Numeric n, const char *what, int pos)
{
	float		f = 0;
	double		bad;

	if (!NumericToFloatChecked(n, &f, &bad))
		ReportBadValue(what, pos, bad);
	return f;
}

/* the float32 conversion of values of typid (a domain: its base type's) */
VaeElemKind
VaeNumberKind(Oid typid)
{
	VaeElemKind kind = KindOf(typid);

	return kind != VAE_ELEM_OTHER ? kind : KindOf(getBaseType(typid));
}

/*
 * One value d of a numeric type of kind k as float32, converted as a cast
 * to real converts it (as VaeArrayToFloats does each element): false when
 * it is NaN, infinite or beyond real, with *bad the value in its own type
 * (DBL_MAX: out of range), for the caller's message.
 */
bool
VaeNumberToFloat(Datum d, VaeElemKind k, float *out, double *bad)
{
	double		v;

	switch (k)
	{
		case VAE_ELEM_FLOAT4:
			v = DatumGetFloat4(d);
			break;
		case VAE_ELEM_FLOAT8:
			v = DatumGetFloat8(d);
			if (isfinite(v) && !isfinite((float) v))
			{
				*bad = DBL_MAX;
				return false;
			}
			break;
		case VAE_ELEM_INT2:
			*out = (float) DatumGetInt16(d);
			return true;
		case VAE_ELEM_INT4:
			*out = (float) DatumGetInt32(d);
			return true;
		case VAE_ELEM_INT8:
			*out = (float) DatumGetInt64(d);
			return true;
		case VAE_ELEM_NUMERIC:
			return NumericToFloatChecked(DatumGetNumeric(d), out, bad);
		default:
			pg_unreachable();
	}
	if (!isfinite(v))
	{
		*bad = v;
		return false;
	}
	*out = OneZero((float) v);
	return true;
}

/*
 * Integers convert like i2tof, i4tof and i8tof: one rounding; they are
 * finite and never -0.  (Uses a, out, dim and i of VaeArrayToFloats.)
 */
#define INTEGERS_TO_FLOATS(type) \
	do { \
		const type *v = (const type *) ARR_DATA_PTR(a); \
		\
		for (i = 0; i < dim; i++) \
			out[i] = (float) v[i]; \
	} while (0)

/* convert dim checked elements into out (VaeArrayDim came first) */
void
VaeArrayToFloats(ArrayType *a, const char *what, float *out, int dim)
{
	int			i;

	switch (ElementKind(a, what))
	{
		case VAE_ELEM_FLOAT4:
			{
				const float *v = (const float *) ARR_DATA_PTR(a);

				for (i = 0; i < dim; i++)
				{
					if (!isfinite(v[i]))
						ReportBadValue(what, i, v[i]);
					out[i] = OneZero(v[i]);
				}
				break;
			}
		case VAE_ELEM_FLOAT8:
			{
				const double *v = (const double *) ARR_DATA_PTR(a);

				for (i = 0; i < dim; i++)
				{
					float		f = (float) v[i];

					if (!isfinite(f))
						ReportBadValue(what, i, v[i]);
					out[i] = OneZero(f);
				}
				break;
			}
		case VAE_ELEM_INT2:
			INTEGERS_TO_FLOATS(int16);
			break;
		case VAE_ELEM_INT4:
			INTEGERS_TO_FLOATS(int32);
			break;
		case VAE_ELEM_INT8:
			INTEGERS_TO_FLOATS(int64);
			break;
		case VAE_ELEM_NUMERIC:
			{
				const char *p = ARR_DATA_PTR(a);

				/* varlena elements, walked the way array_iter_next does */
				for (i = 0; i < dim; i++)
				{
					out[i] = NumericToFloat(DatumGetNumeric(PointerGetDatum(p)), what, i);
					p = att_addlength_pointer(p, -1, p);
					p = (const char *) att_align_nominal(p, TYPALIGN_INT);
				}
				break;
			}
		case VAE_ELEM_OTHER:
			pg_unreachable();
	}
}
