/*
 * vae_input.c - checking feature arrays element by element.
 *
 * Rows arrive as real[] or double precision[].  Every element is checked:
 * NULLs, NaN, Infinity and (for double precision) values beyond the range of
 * real are errors naming the feature position, so that nothing silently
 * turns into a wrong model or a wrong score.
 */
#include "vae.h"

#include <math.h>

#include "catalog/pg_type.h"

static void
CheckShape(ArrayType *a, const char *what)
{
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array, not %d-dimensional",
						what, ARR_NDIM(a))));
	if (ARR_ELEMTYPE(a) != FLOAT4OID && ARR_ELEMTYPE(a) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s must be real[] or double precision[]", what)));
}

int
VaeArrayDim(ArrayType *a, const char *what)
{
	int			dim;

	CheckShape(a, what);
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

/* convert (double precision) or check (real) dim values into out */
void
VaeArrayToFloats(ArrayType *a, const char *what, float *out, int dim)
{
	int			i;

	if (ARR_ELEMTYPE(a) == FLOAT4OID)
	{
		const float *v = (const float *) ARR_DATA_PTR(a);

		for (i = 0; i < dim; i++)
		{
			if (!isfinite(v[i]))
				ReportBadValue(what, i, v[i]);
			/* -0 and +0 are one value: store one bit pattern */
			out[i] = v[i] == 0.0f ? 0.0f : v[i];
		}
	}
	else
	{
		const double *v = (const double *) ARR_DATA_PTR(a);

		for (i = 0; i < dim; i++)
		{
			float		f = (float) v[i];

			if (!isfinite(f))
				ReportBadValue(what, i, v[i]);
			out[i] = f == 0.0f ? 0.0f : f;
		}
	}
}
