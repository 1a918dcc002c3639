/*
 * vc_schema.h - the column schema of a model trained on table rows
 * (format version 2; vc_schema.c).
 *
 * A model trained on arrays has no schema: its D features are all gaussian
 * or all bernoulli, as in format version 1.  A model trained on rows
 * (vae_train(t) over a record) keeps one VcColumn per column it models, in
 * the order of the training rows' columns, and the layout below follows from
 * them.
 *
 * Three representations of a row:
 *
 *  - the COMPACT row: one float per column, what the aggregate buffers, what
 *    is hashed for the canonical order, and what the scorer builds from a
 *    record.  continuous: the value in input units; boolean: 0 or 1;
 *    categorical: the category code 0 .. n_categories - 1 (the last code is
 *    the "other" bucket: every value not among the kept categories, and any
 *    value never seen in training); cyclic: the phase in [0, period).  SQL
 *    NULL is VC_NULL_VALUE (one canonical quiet NaN, so hashing and sorting
 *    see one bit pattern).  Columns excluded from the model are not in the
 *    compact row.
 *  - the NORMALIZED compact row: the same, with continuous values scaled,
 *    (x - center) / scale (NULL stays VC_NULL_VALUE).  Training rows are
 *    normalized in place; these are the decoder's targets.
 *  - the network INPUT (m->dim = vc_schema_input_width() floats), built from
 *    a normalized compact row by vc_schema_expand(): continuous 1 unit (0 when
 *    NULL), boolean 1 unit (0 when NULL), categorical a one-hot of
 *    n_categories units (all 0 when NULL), cyclic 2 units (cos, sin of the
 *    phase; 0, 0 when NULL), then one missing-indicator unit (1 = NULL) for
 *    each column with has_null_unit.
 *
 * The decoder head (vc_schema_head_width() units) has, per column: continuous
 * 2 (mean, raw log-variance, bounded like the array path's), boolean 1
 * (logit), categorical n_categories (logits of a softmax), cyclic 4 (mean and
 * raw log-variance of cos, then of sin), then one logit per missing-indicator
 * unit.  The reconstruction term of a row is the sum over columns of the
 * column's negative log-likelihood (skipped when the value is NULL: nothing
 * is imputed into the loss) plus, for a column with has_null_unit, the
 * Bernoulli NLL of its NULL flag.  A NULL in a column without a null unit
 * (the column had no NULL in training) costs log(rows + 2) nats, the Laplace
 * estimate of an event never seen in `rows` trials.
 */
#ifndef VC_SCHEMA_H
#define VC_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "vc.h"

/* the canonical NULL of a compact row: a quiet NaN with this bit pattern */
#define VC_NULL_BITS		0x7FC00001u
#define VC_MAX_COLUMNS		1600	/* PostgreSQL's MaxHeapAttributeNumber */
#define VC_MAX_COLUMN_NAME	63		/* bytes, like NAMEDATALEN - 1 */
#define VC_MAX_CATEGORIES	1024	/* categories kept per column, "other" included */
#define VC_MAX_CATEGORY_LEN 256		/* bytes of one category's text */

typedef enum VcColumnKind
{
	VC_COL_CONTINUOUS = 0,
	VC_COL_BOOLEAN = 1,
	VC_COL_CATEGORICAL = 2,
	VC_COL_CYCLIC = 3
} VcColumnKind;

/*
 * How the glue reads a column from a record (stored, so that scoring reads
 * the same way): the value itself, one element of a numeric array, or a
 * part of a date/time value (cyclic columns).
 */
typedef enum VcColumnSource
{
	VC_SRC_VALUE = 0,			/* the attribute's value */
	VC_SRC_ARRAY_ELEMENT = 1,	/* element `element` (1-based) of a numeric array */
	VC_SRC_HOUR_OF_DAY = 2,		/* cyclic, period 24 (hours, fractional) */
	VC_SRC_DAY_OF_WEEK = 3,		/* cyclic, period 7 (days, fractional; 0 = Sunday) */
	VC_SRC_DAY_OF_YEAR = 4		/* cyclic, period 365.25 */
} VcColumnSource;

typedef struct VcColumn
{
	char	   *name;			/* the model's feature name: the attribute's name,
								 * "attr[k]" for an array element, "attr:hour" etc.
								 * for a cyclic part; unique in the schema */
	char	   *attribute;		/* the record attribute it is read from */
	int			kind;			/* VcColumnKind */
	int			source;			/* VcColumnSource */
	int			element;		/* VC_SRC_ARRAY_ELEMENT: 1-based index, else 0 */
	int			n_categories;	/* categorical: kept categories + 1 ("other") */
	char	  **categories;		/* categorical: n_categories - 1 texts, NUL-terminated,
								 * in code order; code n_categories - 1 is "other" */
	float		center;			/* continuous: xn = (x - center) / scale */
	float		scale;			/* > 0; 1 for other kinds */
	float		period;			/* cyclic: the phase's period; 0 for other kinds */
	float		null_share;		/* share of training rows where it was NULL, [0, 1] */
	int			has_null_unit;	/* 1: a learned missing-indicator unit */

	/* derived by vc_schema_layout() */
	int			in_off;			/* first network input unit */
	int			in_width;
	int			head_off;		/* first decoder head unit */
	int			head_width;
	int			null_in;		/* input unit of the NULL flag, -1 without */
	int			null_head;		/* head unit of the NULL flag's logit, -1 without */
} VcColumn;

/* why the training rows' columns that are not in the model were left out */
typedef enum VcExcludeReason
{
	VC_EXCL_OPTION = 0,			/* "exclude", or not in "columns", or kind "ignore" */
	VC_EXCL_IDENTIFIER = 1,		/* every value distinct (a key, a UUID, free text) */
	VC_EXCL_TYPE = 2,			/* a type that cannot be encoded (jsonb, bytea, ...) */
	VC_EXCL_TIME = 3,			/* a date/time column (kind "cyclic" includes it) */
	VC_EXCL_CONSTANT = 4,		/* NULL in every row: nothing to model */
	VC_EXCL_CARDINALITY = 5		/* too many distinct values to count */
} VcExcludeReason;

typedef struct VcExcluded
{
	char	   *name;
	int			reason;			/* VcExcludeReason */
} VcExcluded;

typedef struct VcSchema
{
	int			n_columns;		/* C: the compact row's width */
	VcColumn   *columns;
	int			n_excluded;
	VcExcluded *excluded;
	int			max_categories; /* the cap training used (reported by vae_model_info) */

	/* derived by vc_schema_layout() */
	int			input_width;	/* network input units (the model's dim) */
	int			head_width;		/* decoder head units */
} VcSchema;

/* the canonical NULL as a float */
float		vc_null_value(void);
/* 1 when a compact value is the NULL marker (any NaN counts) */
static inline int
vc_is_null(float v)
{
	return v != v;
}

/*
 * Fill the derived fields (offsets and widths) of every column and the
 * schema's input_width and head_width; VC_EINVAL with a message when a
 * column is not valid (kind, categories, scale, names: see
 * vc_schema_check).
 */
VcStatus	vc_schema_layout(VcSchema *s, char *errmsg);
/* everything the model reader accepts of a schema (names unique, ranges) */
VcStatus	vc_schema_check(const VcSchema *s, char *errmsg);
/* a deep copy allocated with vc_alloc; NULL on failure */
VcSchema   *vc_schema_copy(const VcSchema *s);
void		vc_schema_free(VcSchema *s);
/* index of the column named name, or -1 */
int			vc_schema_find(const VcSchema *s, const char *name);
const char *vc_column_kind_name(int kind);
const char *vc_exclude_reason_name(int reason);

/*
 * Robust scaling of continuous column c over rows[0, n) (compact, stride
 * n_columns; NULLs ignored): center = median, scale = IQR / 1.349 (the
 * standard deviation for normal data), falling back to 1.4826 * MAD, then
 * to the standard deviation, then to 1 when the column is constant.  A few
 * extreme training rows (the data holds the anomalies) move neither.
 * Deterministic: depends only on the multiset of values.  `work` holds n
 * floats.
 */
void		vc_schema_robust_scale(const float *const *rows, int64_t n, int c,
								   float *work, float *center, float *scale);

/* compact row x (raw) -> normalized compact row xn (x == xn allowed) */
void		vc_schema_normalize(const VcSchema *s, const float *x, float *xn);
/* normalized compact row -> network input of s->input_width floats */
void		vc_schema_expand(const VcSchema *s, const float *xn, float *in);

/*
 * Parameters of a row model's layout for resolved options and a laid-out
 * schema (vc_layout_param_count of an array model, with the schema's head).
 */
size_t		vc_schema_param_count(const VcOptions *opt, const VcSchema *s);

/* serialized size of the schema section, and its writer/reader (vc_format.c) */
size_t		vc_schema_serialized_size(const VcSchema *s);
void		vc_schema_serialize(const VcSchema *s, uint8_t *buf);
/*
 * the size of a schema section from its counts and text lengths alone,
 * nothing validated (VC_EFORMAT when it does not fit in len bytes)
 */
VcStatus	vc_schema_section_size(const uint8_t *buf, size_t len, size_t *size);
/* reads and validates; *used = bytes consumed; *out allocated with vc_alloc */
VcStatus	vc_schema_deserialize(const uint8_t *buf, size_t len, size_t *used,
								  VcSchema **out, char *errmsg);

#endif							/* VC_SCHEMA_H */
