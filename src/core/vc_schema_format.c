/*
 * vc_schema_format.c - the schema section of format version 2
 * (docs/model-format.md), written and read like the rest of the model:
 * little-endian, byte by byte, every value validated, every allocation
 * bounded by the bytes actually present.
 *
 *   u32 n_columns, u32 n_excluded, i32 max_categories, u32 reserved (0)
 *   per column: u8 kind, u8 source, u8 has_null_unit, u8 reserved (0),
 *     i32 element, i32 n_categories, f32 center, f32 scale, f32 period,
 *     f32 null_share, name, attribute, n_categories - 1 category texts
 *   per excluded column: u8 reason, name
 * A text is a u16 length and that many bytes (no NUL).
 */
#include <stdio.h>
#include <string.h>

#include "vc_bytes.h"
#include "vc_schema.h"

#define SCHEMA_HEAD		16		/* the four u32/i32 counts */
#define COLUMN_FIXED	28		/* a column's fixed fields */

/* bytes of a text: its u16 length and the text */
static size_t
TextSize(const char *s)
{
	return 2 + (s ? strlen(s) : 0);
}

/*
 * The bytes of s's serialized schema section: the counts, each column's
 * fields, texts and categories, and the excluded columns
 */
size_t
vc_schema_serialized_size(const VcSchema *s)
{
	size_t		size = SCHEMA_HEAD;
	int			i,
				k;

	for (i = 0; i < s->n_columns; i++)
	{
		const VcColumn *c = &s->columns[i];

		size += COLUMN_FIXED + TextSize(c->name) + TextSize(c->attribute);
		if (c->kind == VC_COL_CATEGORICAL && c->categories)
			for (k = 0; k < c->n_categories - 1; k++)
				size += TextSize(c->categories[k]);
	}
	for (i = 0; i < s->n_excluded; i++)
		size += 1 + TextSize(s->excluded[i].name);
	return size;
}

/* a text at p; returns the end */
static uint8_t *
PutText(uint8_t *p, const char *s)
{
	size_t		len = s ? strlen(s) : 0;

	vc_put_u16(p, (uint16_t) len);
	if (len)
		memcpy(p + 2, s, len);
	return p + 2 + len;
}

/* writes exactly vc_schema_serialized_size(s) bytes (s must pass vc_schema_check) */
void
vc_schema_serialize(const VcSchema *s, uint8_t *buf)
{
	uint8_t    *p = buf;
	int			i,
				k;

	vc_put_u32(p, (uint32_t) s->n_columns);
	vc_put_u32(p + 4, (uint32_t) s->n_excluded);
	vc_put_i32(p + 8, s->max_categories);
	vc_put_u32(p + 12, 0);
	p += SCHEMA_HEAD;
	for (i = 0; i < s->n_columns; i++)
	{
		const VcColumn *c = &s->columns[i];

		p[0] = (uint8_t) c->kind;
		p[1] = (uint8_t) c->source;
		p[2] = (uint8_t) c->has_null_unit;
		p[3] = 0;
		vc_put_i32(p + 4, c->element);
		vc_put_i32(p + 8, c->n_categories);
		vc_put_f32(p + 12, c->center);
		vc_put_f32(p + 16, c->scale);
		vc_put_f32(p + 20, c->period);
		vc_put_f32(p + 24, c->null_share);
		p += COLUMN_FIXED;
		p = PutText(p, c->name);
		p = PutText(p, c->attribute);
		if (c->kind == VC_COL_CATEGORICAL && c->categories)
			for (k = 0; k < c->n_categories - 1; k++)
				p = PutText(p, c->categories[k]);
	}
	for (i = 0; i < s->n_excluded; i++)
	{
		*p++ = (uint8_t) s->excluded[i].reason;
		p = PutText(p, s->excluded[i].name);
	}
}

/* a bounded reader over the section */
typedef struct Reader
{
	const uint8_t *p;
	const uint8_t *end;
	char	   *errmsg;
} Reader;

static VcStatus
OutOfMemory(char *errmsg)
{
	snprintf(errmsg, VC_ERRMSG_LEN, "out of memory loading the model");
	return VC_ENOMEM;
}

static VcStatus
Truncated(Reader *r)
{
	snprintf(r->errmsg, VC_ERRMSG_LEN, "model is truncated inside its column schema");
	return VC_EFORMAT;
}

/*
 * A text of at most max bytes into a new NUL-terminated string (*out);
 * min is 0 or 1.  VC_EFORMAT for a short buffer, a bad length or a NUL
 * inside; VC_ENOMEM.
 */
static VcStatus
GetText(Reader *r, int min, int max, const char *what, char **out)
{
	uint16_t	len;

	*out = NULL;
	if (r->end - r->p < 2)
		return Truncated(r);
	len = vc_get_u16(r->p);
	r->p += 2;
	if (len > r->end - r->p)
		return Truncated(r);
	if (len < min || len > max)
	{
		snprintf(r->errmsg, VC_ERRMSG_LEN, "model schema has a %s of %u bytes, not %d to %d",
				 what, (unsigned) len, min, max);
		return VC_EFORMAT;
	}
	if (memchr(r->p, '\0', len))
	{
		snprintf(r->errmsg, VC_ERRMSG_LEN, "model schema has a %s with a NUL byte", what);
		return VC_EFORMAT;
	}
	*out = vc_alloc((size_t) len + 1);
	if (!*out)
		return OutOfMemory(r->errmsg);
	memcpy(*out, r->p, len);
	(*out)[len] = '\0';
	r->p += len;
	return VC_OK;
}

/* one column's fixed fields and texts into c (c zeroed before) */
static VcStatus
GetColumn(Reader *r, VcColumn *c)
{
	const uint8_t *p = r->p;
	VcStatus	st;
	int			k;

	if (r->end - p < COLUMN_FIXED)
		return Truncated(r);
	if (p[3] != 0)
	{
		snprintf(r->errmsg, VC_ERRMSG_LEN, "model schema has nonzero reserved bits");
		return VC_EFORMAT;
	}
	c->kind = p[0];
	c->source = p[1];
	c->has_null_unit = p[2];
	c->element = vc_get_i32(p + 4);
	c->center = vc_get_f32(p + 12);
	c->scale = vc_get_f32(p + 16);
	c->period = vc_get_f32(p + 20);
	c->null_share = vc_get_f32(p + 24);
	k = vc_get_i32(p + 8);
	/* bounded before anything is allocated for the categories */
	if (c->kind == VC_COL_CATEGORICAL ? (k < 2 || k > VC_MAX_CATEGORIES) : k != 0)
	{
		snprintf(r->errmsg, VC_ERRMSG_LEN, "model schema has a %s column with %d categories",
				 vc_column_kind_name(c->kind), k);
		return VC_EFORMAT;
	}
	r->p += COLUMN_FIXED;
	if ((st = GetText(r, 1, VC_MAX_COLUMN_NAME, "column name", &c->name)) != VC_OK ||
		(st = GetText(r, 1, VC_MAX_COLUMN_NAME, "column attribute", &c->attribute)) != VC_OK)
		return st;
	if (k == 0)
		return VC_OK;
	/* each category takes at least its 2 length bytes: no allocation beyond the input */
	if ((r->end - r->p) / 2 < k - 1)
		return Truncated(r);
	c->categories = vc_alloc0(sizeof(char *) * (size_t) (k - 1));
	if (!c->categories)
		return OutOfMemory(r->errmsg);
	c->n_categories = k;
	for (k = 0; k < c->n_categories - 1; k++)
		if ((st = GetText(r, 0, VC_MAX_CATEGORY_LEN, "category", &c->categories[k])) != VC_OK)
			return st;
	return VC_OK;
}

/* skips a text at *p (before end); 0 when it does not fit */
static int
SkipText(const uint8_t **p, const uint8_t *end)
{
	uint16_t	len;

	if (end - *p < 2)
		return 0;
	len = vc_get_u16(*p);
	if (len > end - *p - 2)
		return 0;
	*p += 2 + len;
	return 1;
}

/*
 * The size of the section at buf[0, len) from its counts and text lengths
 * alone, nothing validated: the model reader's exact-length check, made
 * before the checksum as for version 1.  VC_EFORMAT when it does not fit.
 */
VcStatus
vc_schema_section_size(const uint8_t *buf, size_t len, size_t *size)
{
	const uint8_t *p = buf,
			   *end = buf + len;
	uint32_t	nc,
				ne,
				i;
	int32_t		k;

	*size = 0;
	if (len < SCHEMA_HEAD)
		return VC_EFORMAT;
	nc = vc_get_u32(buf);
	ne = vc_get_u32(buf + 4);
	if (nc > VC_MAX_COLUMNS || ne > VC_MAX_COLUMNS)
		return VC_EFORMAT;
	p += SCHEMA_HEAD;
	for (i = 0; i < nc; i++)
	{
		if (end - p < COLUMN_FIXED)
			return VC_EFORMAT;
		k = vc_get_i32(p + 8);
		if (k < 0 || k > VC_MAX_CATEGORIES)
			return VC_EFORMAT;
		p += COLUMN_FIXED;
		if (!SkipText(&p, end) || !SkipText(&p, end))
			return VC_EFORMAT;
		for (; k > 1; k--)
			if (!SkipText(&p, end))
				return VC_EFORMAT;
	}
	for (i = 0; i < ne; i++)
		if (p >= end || (p++, !SkipText(&p, end)))
			return VC_EFORMAT;
	*size = (size_t) (p - buf);
	return VC_OK;
}

/*
 * Reads the section at buf[0, len) (len may extend past it) and validates
 * it with vc_schema_layout; *used is the section's size.
 */
VcStatus
vc_schema_deserialize(const uint8_t *buf, size_t len, size_t *used, VcSchema **out,
					  char *errmsg)
{
	Reader		r;
	VcSchema   *s;
	uint32_t	nc,
				ne;
	char		msg[VC_ERRMSG_LEN];
	VcStatus	st = VC_OK;
	uint32_t	i;

	*out = NULL;
	*used = 0;
	r.p = buf;
	r.end = buf + len;
	r.errmsg = errmsg;
	if (len < SCHEMA_HEAD)
		return Truncated(&r);
	nc = vc_get_u32(buf);
	ne = vc_get_u32(buf + 4);
	if (nc < 1 || nc > VC_MAX_COLUMNS || ne > VC_MAX_COLUMNS)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "model schema has %u columns and %u excluded; "
				 "the limit is %d", (unsigned) nc, (unsigned) ne, VC_MAX_COLUMNS);
		return VC_EFORMAT;
	}
	if (vc_get_u32(buf + 12) != 0)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "model schema has nonzero reserved bits");
		return VC_EFORMAT;
	}
	s = vc_alloc0(sizeof(VcSchema));
	if (!s)
		return OutOfMemory(errmsg);
	s->max_categories = vc_get_i32(buf + 8);
	s->columns = vc_alloc0(sizeof(VcColumn) * nc);
	s->excluded = vc_alloc0(sizeof(VcExcluded) * (ne > 0 ? ne : 1));
	if (!s->columns || !s->excluded)
		st = OutOfMemory(errmsg);
	r.p += SCHEMA_HEAD;
	for (i = 0; i < nc && st == VC_OK; i++)
	{
		/* counted as it fills, so a failure frees exactly what was read */
		s->n_columns = (int) i + 1;
		st = GetColumn(&r, &s->columns[i]);
	}
	for (i = 0; i < ne && st == VC_OK; i++)
	{
		s->n_excluded = (int) i + 1;
		if (r.p >= r.end)
			st = Truncated(&r);
		else
		{
			s->excluded[i].reason = *r.p++;
			st = GetText(&r, 1, VC_MAX_COLUMN_NAME, "excluded column name",
						 &s->excluded[i].name);
		}
	}
	if (st == VC_OK)
	{
		st = vc_schema_layout(s, msg);
		if (st == VC_ENOMEM)
			OutOfMemory(errmsg);
		else if (st != VC_OK)
		{
			snprintf(errmsg, VC_ERRMSG_LEN, "model %.240s", msg);
			st = VC_EFORMAT;
		}
	}
	if (st != VC_OK)
	{
		vc_schema_free(s);
		return st;
	}
	*used = (size_t) (r.p - buf);
	*out = s;
	return VC_OK;
}
