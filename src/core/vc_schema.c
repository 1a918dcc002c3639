/*
 * vc_schema.c - the column schema of a row model: layout, checks, copies,
 * robust scaling, and the three representations of a row (vc_schema.h).
 * The schema's bytes are in vc_schema_format.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc_schema.h"
#include "vc_train.h"

/* the canonical NULL of a compact row */
float
vc_null_value(void)
{
	uint32_t	bits = VC_NULL_BITS;
	float		v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* the name of a column kind, as messages and vae_info show it; "?" if unknown */
const char *
vc_column_kind_name(int kind)
{
	switch (kind)
	{
		case VC_COL_CONTINUOUS:
			return "continuous";
		case VC_COL_BOOLEAN:
			return "boolean";
		case VC_COL_CATEGORICAL:
			return "categorical";
		case VC_COL_CYCLIC:
			return "cyclic";
		default:
			return "?";
	}
}

/* why a column was left out of the model, in words; "?" if the reason is unknown */
const char *
vc_exclude_reason_name(int reason)
{
	switch (reason)
	{
		case VC_EXCL_OPTION:
			return "excluded by an option";
		case VC_EXCL_IDENTIFIER:
			return "every value is distinct (an identifier)";
		case VC_EXCL_TYPE:
			return "its type cannot be encoded";
		case VC_EXCL_TIME:
			return "a date/time column";
		case VC_EXCL_CONSTANT:
			return "NULL in every row";
		case VC_EXCL_CARDINALITY:
			return "too many distinct values";
		default:
			return "?";
	}
}

/* units of one column in the network input, not counting its NULL flag */
static int
InputWidth(const VcColumn *c)
{
	switch (c->kind)
	{
		case VC_COL_CATEGORICAL:
			return c->n_categories;
		case VC_COL_CYCLIC:
			return 2;
		default:
			return 1;
	}
}

/* units of one column in the decoder head, not counting its NULL flag's logit */
static int
HeadWidth(const VcColumn *c)
{
	switch (c->kind)
	{
		case VC_COL_CONTINUOUS:
			return 2;
		case VC_COL_CATEGORICAL:
			return c->n_categories;
		case VC_COL_CYCLIC:
			return 4;
		default:
			return 1;
	}
}

/* 0 unless name is 1..max bytes of text: the message names what is wrong */
static int
BadName(const char *name, int max, const char *what, int col, char *errmsg)
{
	size_t		len = name ? strlen(name) : 0;

	if (len >= 1 && len <= (size_t) max)
		return 0;
	snprintf(errmsg, VC_ERRMSG_LEN, "column %d: its %s has %zu bytes, not 1 to %d",
			 col + 1, what, len, max);
	return 1;
}

/* qsort comparator of string pointers */
static int
StrPtrCmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Index in strs[0, n) of a string that occurs twice, or -1.  Sorts a copy of
 * the pointers, so checking 1,600 names or 1,024 categories stays cheap even
 * for the fuzzer; -2 when the copy cannot be allocated.
 */
static int
FindDuplicate(char *const *strs, int n, const char **dup)
{
	char	  **sorted;
	int			i,
				found = -1;

	if (n < 2)
		return -1;
	sorted = vc_alloc(sizeof(char *) * (size_t) n);
	if (!sorted)
		return -2;
	memcpy(sorted, strs, sizeof(char *) * (size_t) n);
	qsort(sorted, (size_t) n, sizeof(char *), StrPtrCmp);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
		{
			*dup = sorted[i];
			found = i;
			break;
		}
	vc_free(sorted);
	return found;
}

/* kind, source, element and the numbers of column i */
static VcStatus
CheckColumn(const VcColumn *c, int i, char *errmsg)
{
	int			src_ok;

	if (BadName(c->name, VC_MAX_COLUMN_NAME, "name", i, errmsg) ||
		BadName(c->attribute, VC_MAX_COLUMN_NAME, "attribute", i, errmsg))
		return VC_EINVAL;
	switch (c->kind)
	{
		case VC_COL_CONTINUOUS:
			src_ok = c->source == VC_SRC_VALUE || c->source == VC_SRC_ARRAY_ELEMENT;
			break;
		case VC_COL_BOOLEAN:
		case VC_COL_CATEGORICAL:
			src_ok = c->source == VC_SRC_VALUE;
			break;
		case VC_COL_CYCLIC:
			src_ok = c->source == VC_SRC_HOUR_OF_DAY || c->source == VC_SRC_DAY_OF_WEEK ||
				c->source == VC_SRC_DAY_OF_YEAR;
			break;
		default:
			snprintf(errmsg, VC_ERRMSG_LEN, "column \"%s\" has unknown kind %d", c->name, c->kind);
			return VC_EINVAL;
	}
	if (!src_ok)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "column \"%s\": a %s column cannot have source %d",
				 c->name, vc_column_kind_name(c->kind), c->source);
		return VC_EINVAL;
	}
	if ((c->source == VC_SRC_ARRAY_ELEMENT) ? c->element < 1 : c->element != 0)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "column \"%s\" has array element %d", c->name, c->element);
		return VC_EINVAL;
	}
	if (c->kind == VC_COL_CATEGORICAL
		? (c->n_categories < 2 || c->n_categories > VC_MAX_CATEGORIES || !c->categories)
		: c->n_categories != 0)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "column \"%s\" has %d categories", c->name,
				 c->n_categories);
		return VC_EINVAL;
	}
	if (!isfinite(c->center) || !isfinite(c->scale) || !(c->scale > 0.0f))
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "column \"%s\" has a scaling that is not finite and positive",
				 c->name);
		return VC_EINVAL;
	}
	if (c->kind == VC_COL_CYCLIC ? !(isfinite(c->period) && c->period > 0.0f) : c->period != 0.0f)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "column \"%s\" has period %g", c->name, (double) c->period);
		return VC_EINVAL;
	}
	if (!(c->null_share >= 0.0f && c->null_share <= 1.0f) ||
		(c->has_null_unit != 0 && c->has_null_unit != 1))
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "column \"%s\" has an invalid NULL share or NULL unit",
				 c->name);
		return VC_EINVAL;
	}
	return VC_OK;
}

/* the categories of a categorical column: lengths, no NUL (by construction), distinct */
static VcStatus
CheckCategories(const VcColumn *c, char *errmsg)
{
	const char *dup = NULL;
	int			k,
				d;

	for (k = 0; k < c->n_categories - 1; k++)
		if (!c->categories[k] || strlen(c->categories[k]) > VC_MAX_CATEGORY_LEN)
		{
			snprintf(errmsg, VC_ERRMSG_LEN, "column \"%s\": category %d is missing or longer "
					 "than %d bytes", c->name, k + 1, VC_MAX_CATEGORY_LEN);
			return VC_EINVAL;
		}
	d = FindDuplicate(c->categories, c->n_categories - 1, &dup);
	if (d == -2)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory checking the schema");
		return VC_ENOMEM;
	}
	if (d >= 0)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "column \"%s\": category \"%.64s\" appears twice",
				 c->name, dup);
		return VC_EINVAL;
	}
	return VC_OK;
}

/*
 * The elements of one array attribute are one run of consecutive columns
 * with consecutive elements e, e + 1, ..., e + k - 1 (training writes
 * 1, 2, ..., k): the scorer reads an array by that run, its first element
 * to its last, into a buffer of the largest element, so a model that
 * arranges them otherwise could make it write past its buffer.
 */
static VcStatus
CheckArrayRuns(const VcSchema *s, char *errmsg)
{
	int			i,
				j;

	for (i = 0; i < s->n_columns; i++)
	{
		const VcColumn *c = &s->columns[i];
		const VcColumn *prev = i > 0 ? &s->columns[i - 1] : NULL;
		int			continues;

		if (c->source != VC_SRC_ARRAY_ELEMENT)
			continue;
		continues = prev && prev->source == VC_SRC_ARRAY_ELEMENT &&
			strcmp(prev->attribute, c->attribute) == 0;
		if (continues && c->element != prev->element + 1)
		{
			snprintf(errmsg, VC_ERRMSG_LEN,
					 "column \"%s\": the elements of array \"%s\" are not consecutive columns",
					 c->name, c->attribute);
			return VC_EINVAL;
		}
		if (continues)
			continue;
		/* a run starts here: no earlier run of the same attribute */
		for (j = 0; j < i; j++)
			if (s->columns[j].source == VC_SRC_ARRAY_ELEMENT &&
				strcmp(s->columns[j].attribute, c->attribute) == 0)
			{
				snprintf(errmsg, VC_ERRMSG_LEN,
						 "column \"%s\": array \"%s\" has two runs of element columns",
						 c->name, c->attribute);
				return VC_EINVAL;
			}
	}
	return VC_OK;
}

/*
 * Everything the model reader accepts of a schema: the counts in range, every
 * column and its categories valid, every excluded column named with a known
 * reason, and no two columns with the same name.
 */
VcStatus
vc_schema_check(const VcSchema *s, char *errmsg)
{
	char	  **names;
	const char *dup = NULL;
	int			i,
				d;
	VcStatus	st;

	if (s->n_columns < 1 || s->n_columns > VC_MAX_COLUMNS || !s->columns)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "schema has %d columns, not 1 to %d", s->n_columns,
				 VC_MAX_COLUMNS);
		return VC_EINVAL;
	}
	if (s->n_excluded < 0 || s->n_excluded > VC_MAX_COLUMNS || (s->n_excluded > 0 && !s->excluded))
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "schema has %d excluded columns, not 0 to %d",
				 s->n_excluded, VC_MAX_COLUMNS);
		return VC_EINVAL;
	}
	if (s->max_categories < 2 || s->max_categories > VC_MAX_CATEGORIES)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "schema max_categories %d is not between 2 and %d",
				 s->max_categories, VC_MAX_CATEGORIES);
		return VC_EINVAL;
	}
	for (i = 0; i < s->n_columns; i++)
	{
		if ((st = CheckColumn(&s->columns[i], i, errmsg)) != VC_OK)
			return st;
		if (s->columns[i].kind == VC_COL_CATEGORICAL &&
			(st = CheckCategories(&s->columns[i], errmsg)) != VC_OK)
			return st;
	}
	for (i = 0; i < s->n_excluded; i++)
	{
		const VcExcluded *e = &s->excluded[i];

		if (BadName(e->name, VC_MAX_COLUMN_NAME, "excluded name", i, errmsg))
			return VC_EINVAL;
		if (e->reason < VC_EXCL_OPTION || e->reason > VC_EXCL_CARDINALITY)
		{
			snprintf(errmsg, VC_ERRMSG_LEN, "excluded column \"%s\" has unknown reason %d",
					 e->name, e->reason);
			return VC_EINVAL;
		}
	}
	if ((st = CheckArrayRuns(s, errmsg)) != VC_OK)
		return st;
	names = vc_alloc(sizeof(char *) * (size_t) s->n_columns);
	if (!names)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory checking the schema");
		return VC_ENOMEM;
	}
	for (i = 0; i < s->n_columns; i++)
		names[i] = s->columns[i].name;
	d = FindDuplicate(names, s->n_columns, &dup);
	if (d >= 0)
		snprintf(errmsg, VC_ERRMSG_LEN, "schema has two columns named \"%s\"", dup);
	else if (d == -2)
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory checking the schema");
	vc_free(names);
	return d >= 0 ? VC_EINVAL : d == -2 ? VC_ENOMEM : VC_OK;
}

/*
 * Value units first, in column order, then the NULL flags in column order:
 * the value units of a column are contiguous, and a column's NULL flag does
 * not move when another column gains or loses one of its own values.
 */
VcStatus
vc_schema_layout(VcSchema *s, char *errmsg)
{
	int64_t		in = 0,
				head = 0;
	int			i;
	VcStatus	st = vc_schema_check(s, errmsg);

	if (st != VC_OK)
		return st;
	for (i = 0; i < s->n_columns; i++)
	{
		VcColumn   *c = &s->columns[i];

		c->in_off = (int) in;
		c->in_width = InputWidth(c);
		c->head_off = (int) head;
		c->head_width = HeadWidth(c);
		in += c->in_width;
		head += c->head_width;
	}
	for (i = 0; i < s->n_columns; i++)
	{
		VcColumn   *c = &s->columns[i];

		c->null_in = c->null_head = -1;
		if (c->has_null_unit)
		{
			c->null_in = (int) in++;
			c->null_head = (int) head++;
		}
	}
	if (in > VC_MAX_INPUT_DIM)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "the columns need %lld network inputs; the limit is %d",
				 (long long) in, VC_MAX_INPUT_DIM);
		return VC_ELIMIT;
	}
	s->input_width = (int) in;
	s->head_width = (int) head;
	return VC_OK;
}

/* a vc_alloc'ed copy of str (NULL stays NULL); *failed set when out of memory */
static char *
CopyStr(const char *str, int *failed)
{
	char	   *p;
	size_t		len;

	if (!str)
		return NULL;
	len = strlen(str) + 1;
	p = vc_alloc(len);
	if (!p)
	{
		*failed = 1;
		return NULL;
	}
	memcpy(p, str, len);
	return p;
}

/* a deep copy of s, every part allocated with vc_alloc; NULL when out of memory */
VcSchema *
vc_schema_copy(const VcSchema *s)
{
	VcSchema   *c = vc_alloc0(sizeof(VcSchema));
	int			failed = 0,
				i,
				k;

	if (!c)
		return NULL;
	*c = *s;
	c->columns = vc_alloc0(sizeof(VcColumn) * (size_t) (s->n_columns > 0 ? s->n_columns : 1));
	c->excluded = vc_alloc0(sizeof(VcExcluded) * (size_t) (s->n_excluded > 0 ? s->n_excluded : 1));
	if (!c->columns || !c->excluded)
	{
		/* counts stay: the free below walks zeroed (NULL) entries */
		vc_schema_free(c);
		return NULL;
	}
	for (i = 0; i < s->n_columns; i++)
	{
		const VcColumn *src = &s->columns[i];
		VcColumn   *dst = &c->columns[i];

		*dst = *src;
		dst->name = CopyStr(src->name, &failed);
		dst->attribute = CopyStr(src->attribute, &failed);
		dst->categories = NULL;
		if (src->kind == VC_COL_CATEGORICAL && src->categories && src->n_categories > 1)
		{
			dst->categories = vc_alloc0(sizeof(char *) * (size_t) (src->n_categories - 1));
			if (!dst->categories)
				failed = 1;
			else
				for (k = 0; k < src->n_categories - 1; k++)
					dst->categories[k] = CopyStr(src->categories[k], &failed);
		}
	}
	for (i = 0; i < s->n_excluded; i++)
	{
		c->excluded[i].reason = s->excluded[i].reason;
		c->excluded[i].name = CopyStr(s->excluded[i].name, &failed);
	}
	if (failed)
	{
		vc_schema_free(c);
		return NULL;
	}
	return c;
}

/*
 * Frees a schema built by vc_schema_copy or vc_schema_deserialize (every
 * part allocated with vc_alloc); a partly built one is fine as long as its
 * missing parts are NULL.
 */
void
vc_schema_free(VcSchema *s)
{
	int			i,
				k;

	if (!s)
		return;
	for (i = 0; s->columns && i < s->n_columns; i++)
	{
		VcColumn   *c = &s->columns[i];

		vc_free(c->name);
		vc_free(c->attribute);
		if (c->categories)
		{
			for (k = 0; k < c->n_categories - 1; k++)
				vc_free(c->categories[k]);
			vc_free(c->categories);
		}
	}
	for (i = 0; s->excluded && i < s->n_excluded; i++)
		vc_free(s->excluded[i].name);
	vc_free(s->columns);
	vc_free(s->excluded);
	vc_free(s);
}

/* the index of the column called name, or -1 */
int
vc_schema_find(const VcSchema *s, const char *name)
{
	int			i;

	for (i = 0; i < s->n_columns; i++)
		if (s->columns[i].name && strcmp(s->columns[i].name, name) == 0)
			return i;
	return -1;
}

/* ---- robust scaling ---- */

/* exchange *a and *b */
static inline void
SwapF(float *a, float *b)
{
	float		t = *a;

	*a = *b;
	*b = t;
}

/*
 * Puts the k-th smallest of v[0, n) at v[k], smaller ones before it and
 * larger ones after (Hoare's selection with a median-of-three pivot): O(n)
 * expected, and deterministic, since it depends only on the values.  No NaN.
 */
static void
Select(float *v, int64_t n, int64_t k, VcTicker *t)
{
	int64_t		lo = 0,
				hi = n - 1;

	while (hi > lo)
	{
		int64_t		mid = lo + (hi - lo) / 2,
					i = lo,
					j = hi;
		float		pivot;

		if (v[mid] < v[lo])
			SwapF(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			SwapF(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			SwapF(&v[hi], &v[mid]);
		pivot = v[mid];
		while (i <= j)
		{
			while (v[i] < pivot)
				i++;
			while (pivot < v[j])
				j--;
			if (i <= j)
			{
				SwapF(&v[i], &v[j]);
				i++;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
		/* a partition pass streams its range: a unit per 16 values */
		if (vc_tick(t, 1 + (hi - lo) / 16))
			return;
	}
}

/* the smallest of v[from, n) */
static float
MinFrom(const float *v, int64_t from, int64_t n)
{
	float		m = v[from];
	int64_t		i;

	for (i = from + 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

/*
 * The quantile p of v[0, n) by linear interpolation between the order
 * statistics around p (n - 1) (R's type 7), computed in double; reorders v.
 */
static double
Quantile(float *v, int64_t n, double p, VcTicker *t)
{
	double		pos = p * (double) (n - 1);
	int64_t		k = (int64_t) floor(pos);
	double		frac = pos - (double) k,
				lo,
				hi;

	Select(v, n, k, t);
	lo = v[k];
	if (frac == 0.0 || k + 1 >= n)
		return lo;
	hi = MinFrom(v, k + 1, n);
	return lo + frac * (hi - lo);
}

/* a usable scale: finite, positive, and small values do not blow up the inputs */
static int
UsableScale(double s)
{
	return isfinite(s) && s > 1e-30 && (float) s > 0.0f && isfinite((float) s);
}

/*
 * The center and scale of column c over the non-NULL values of rows[0, n),
 * gathered into work
 */
void
vc_schema_robust_scale(const float *const *rows, int64_t n, int c, float *work,
					   float *center, float *scale)
{
	int64_t		m = 0,
				i;

	for (i = 0; i < n; i++)
	{
		float		v = rows[i][c];

		if (!vc_is_null(v))
			work[m++] = v;
	}
	vc_robust_scale_values(work, m, center, scale, NULL);
}

/*
 * The statistics of vc_schema_robust_scale over v[0, m), reordered.  t (may
 * be NULL) sees the work of the selections; once its host asked to stop,
 * the result is meaningless and the caller gives up (nonzero return).
 */
int
vc_robust_scale_values(float *v, int64_t m, float *center, float *scale, VcTicker *t)
{
	int64_t		i;
	double		med,
				s,
				sum = 0.0,
				sq = 0.0;

	*center = 0.0f;
	*scale = 1.0f;
	if (m == 0)
		return 0;
	for (i = 0; i < m; i++)
		sum += v[i];
	for (i = 0; i < m; i++)
		sq += ((double) v[i] - sum / m) * ((double) v[i] - sum / m);
	med = Quantile(v, m, 0.5, t);
	if (!isfinite((float) med))
		med = 0.0;
	*center = (float) med;
	s = (Quantile(v, m, 0.75, t) - Quantile(v, m, 0.25, t)) / 1.349;
	if (!UsableScale(s))
	{
		for (i = 0; i < m; i++)
			v[i] = (float) fabs((double) v[i] - med);
		s = 1.4826 * Quantile(v, m, 0.5, t);
	}
	if (!UsableScale(s))
		s = sqrt(sq / m);
	if (!UsableScale(s))
		s = 1.0;
	*scale = (float) s;
	return t && t->canceled;
}

/*
 * Continuous columns scaled; a NULL (any NaN) becomes the canonical NULL,
 * so a normalized row hashes and sorts the same whatever NaN the caller
 * used.  Other values are copied as they are; vc_schema_expand reads codes
 * and booleans defensively.
 */
void
vc_schema_normalize(const VcSchema *s, const float *x, float *xn)
{
	float		null = vc_null_value();
	int			i;

	for (i = 0; i < s->n_columns; i++)
	{
		const VcColumn *c = &s->columns[i];
		float		v = x[i];

		if (vc_is_null(v))
			xn[i] = null;
		else if (c->kind == VC_COL_CONTINUOUS)
			xn[i] = (v - c->center) / c->scale;
		else
			xn[i] = v;
	}
}

/* the angle of a cyclic phase, in radians */
static inline double
Angle(const VcColumn *c, float phase)
{
	return 2.0 * M_PI * (double) phase / (double) c->period;
}

/*
 * The network input of normalized compact row xn: continuous and boolean
 * values as they are, one-hot categories (an out-of-range code sets none),
 * cos and sin of cyclic phases, and 1 in the NULL flag of a NULL value.
 */
void
vc_schema_expand(const VcSchema *s, const float *xn, float *in)
{
	int			i;

	memset(in, 0, sizeof(float) * (size_t) s->input_width);
	for (i = 0; i < s->n_columns; i++)
	{
		const VcColumn *c = &s->columns[i];
		float		v = xn[i];
		float	   *u = in + c->in_off;

		if (vc_is_null(v))
		{
			if (c->null_in >= 0)
				in[c->null_in] = 1.0f;
			continue;
		}
		switch (c->kind)
		{
			case VC_COL_CATEGORICAL:
				if (v >= 0.0f && v < (float) c->n_categories)
					u[(int) v] = 1.0f;
				break;
			case VC_COL_CYCLIC:
				u[0] = (float) cos(Angle(c, v));
				u[1] = (float) sin(Angle(c, v));
				break;
			default:
				u[0] = v;
				break;
		}
	}
}
