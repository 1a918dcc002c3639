/*
 * vc_options.c - everything generated from the option table (vc_options.h):
 * defaults, the one range check, the options block codec, names, messages
 * and JSON.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc.h"
#include "vc_bytes.h"
#include "vc_options.h"

/* the C type behind each VcOptionType, to check each table entry's field */
#define VC_OPT_CTYPE_HIDDEN int
#define VC_OPT_CTYPE_INT	int
#define VC_OPT_CTYPE_INT64	int64_t
#define VC_OPT_CTYPE_UINT64 uint64_t
#define VC_OPT_CTYPE_REAL	double
#define VC_OPT_CTYPE_BOOL	int
#define VC_OPT_CTYPE_ENUM	int

#define VC_OPTION_FIELD_CHECK(name, TYPE, field, ...) \
	typedef char vc_option_field_check_##name[ \
		sizeof(((VcOptions *) 0)->field) == sizeof(VC_OPT_CTYPE_##TYPE) ? 1 : -1];
VC_OPTION_LIST(VC_OPTION_FIELD_CHECK)
#undef VC_OPTION_FIELD_CHECK

#define VC_OPTION_DEF(name, TYPE, field, off, init, RANGE, flags, names, dflt, desc) \
	{#name, VC_OPT_##TYPE, offsetof(VcOptions, field), off, init, RANGE, flags, names, dflt, desc},
const VcOptionDef vc_option_defs[VC_N_OPTIONS] = {
	VC_OPTION_LIST(VC_OPTION_DEF)
};
#undef VC_OPTION_DEF

/* ---- lookup ---- */

/* the table entry named name[0..len) (not NUL-terminated), or NULL */
const VcOptionDef *
vc_option_find(const char *name, size_t len)
{
	int			i;

	for (i = 0; i < VC_N_OPTIONS; i++)
		if (strlen(vc_option_defs[i].name) == len &&
			memcmp(vc_option_defs[i].name, name, len) == 0)
			return &vc_option_defs[i];
	return NULL;
}

/* how many names def->names holds (0 for an option that is not an enum) */
int
vc_option_n_names(const VcOptionDef *def)
{
	int			n = 0;

	if (def->names)
		while (def->names[n])
			n++;
	return n;
}

/* position of the name s[0..len) in def->names (exact match), or -1 */
int
vc_option_enum_index(const VcOptionDef *def, const char *s, size_t len)
{
	int			i,
				n = vc_option_n_names(def);

	for (i = 0; i < n; i++)
		if (strlen(def->names[i]) == len && memcmp(def->names[i], s, len) == 0)
			return i;
	return -1;
}

/*
 * Integer bounds of an option: enums and booleans take theirs from the
 * names, so the table cannot disagree with itself.
 */
static void
IntBounds(const VcOptionDef *def, int64_t *lo, int64_t *hi)
{
	*lo = def->imin;
	*hi = def->imax;
	if (def->type == VC_OPT_ENUM)
	{
		*lo = 0;
		*hi = vc_option_n_names(def) - 1;
	}
	else if (def->type == VC_OPT_BOOL)
	{
		*lo = 0;
		*hi = 1;
	}
}

/* ---- words ---- */

/*
 * The shortest of %.15g, %.16g and %.17g that reads back as d; NaN and the
 * infinities as SQL's float8 writes them.  Returns buf.
 */
const char *
vc_format_double(double d, char *buf, size_t len)
{
	int			p;

	/* non-finite values spelled as SQL's float8 spells them */
	if (isnan(d))
		snprintf(buf, len, "NaN");
	else if (isinf(d))
		snprintf(buf, len, "%sInfinity", d < 0 ? "-" : "");
	else
		for (p = 15; p <= 17; p++)
		{
			snprintf(buf, len, "%.*g", p, d);
			if (strtod(buf, NULL) == d)
				break;
		}
	return buf;
}

/*
 * The text after "must be" in every range message and the "accepts" column
 * of vae_options(): generated from the range so it can never disagree with
 * the check.
 */
const char *
vc_option_describe(const VcOptionDef *def, char *buf, size_t len)
{
	char		lo[32],
				hi[32];
	int64_t		ilo,
				ihi;
	size_t		used;
	int			i,
				n;

	IntBounds(def, &ilo, &ihi);
	switch (def->type)
	{
		case VC_OPT_HIDDEN:
			snprintf(buf, len, "an array of at most %d layer sizes between %" PRId64 " and %" PRId64
					 ", for example [64, 32]", VC_MAX_HIDDEN, ilo, ihi);
			break;
		case VC_OPT_REAL:
			vc_format_double(def->dmin, lo, sizeof(lo));
			vc_format_double(def->dmax, hi, sizeof(hi));
			if (def->flags & VC_OPTF_MIN_OPEN)
				snprintf(buf, len, "a number greater than %s and at most %s", lo, hi);
			else
				snprintf(buf, len, "a number between %s and %s", lo, hi);
			break;
		case VC_OPT_BOOL:
			snprintf(buf, len, "true or false");
			break;
		case VC_OPT_ENUM:
			n = vc_option_n_names(def);
			buf[0] = '\0';
			for (i = 0; i < n; i++)
			{
				used = strlen(buf);
				snprintf(buf + used, len - used, "%s'%s'",
						 i == 0 ? "" : (i == n - 1 ? " or " : ", "), def->names[i]);
			}
			break;
		default:
			if (ihi == VC_MAX_SEED)
				snprintf(buf, len, "an integer between %" PRId64 " and 2^53 - 1", ilo);
			else if (ihi == INT64_MAX)
				snprintf(buf, len, "%san integer >= %" PRId64,
						 def->flags & VC_OPTF_ZERO_OK ? "0 or " : "", ilo);
			else
				snprintf(buf, len, "%san integer between %" PRId64 " and %" PRId64,
						 def->flags & VC_OPTF_ZERO_OK ? "0 or " : "", ilo, ihi);
			break;
	}
	return buf;
}

/* 'option "NAME" must be ...' into errmsg (when not NULL) */
void
vc_option_error(const VcOptionDef *def, char *errmsg)
{
	char		what[160];

	if (errmsg)
		snprintf(errmsg, VC_ERRMSG_LEN, "option \"%s\" must be %s", def->name,
				 vc_option_describe(def, what, sizeof(what)));
}

/* ---- the check ---- */

/*
 * The one range check of an explicit value: a real must be finite and within
 * [dmin, dmax] (dmin excluded with VC_OPTF_MIN_OPEN), any other value within
 * its integer bounds (or 0 with VC_OPTF_ZERO_OK).  VC_EINVAL with the
 * option's message otherwise.
 */
VcStatus
vc_option_check(const VcOptionDef *def, const VcOptionValue *v, char *errmsg)
{
	int64_t		lo,
				hi;
	int			ok;

	IntBounds(def, &lo, &hi);
	switch (def->type)
	{
		case VC_OPT_REAL:
			ok = isfinite(v->d) && v->d >= def->dmin && v->d <= def->dmax &&
				!((def->flags & VC_OPTF_MIN_OPEN) && v->d == def->dmin);
			break;
		case VC_OPT_UINT64:
			ok = v->u >= (uint64_t) lo && v->u <= (uint64_t) hi;
			break;
		default:
			ok = (v->i >= lo && v->i <= hi) ||
				((def->flags & VC_OPTF_ZERO_OK) && v->i == 0);
			break;
	}
	if (ok)
		return VC_OK;
	vc_option_error(def, errmsg);
	return VC_EINVAL;
}

/* the struct member an entry describes */
#define FIELD(opt, def, type) ((type *) ((char *) (opt) + (def)->field))
#define CFIELD(opt, def, type) ((const type *) ((const char *) (opt) + (def)->field))

/* def's field of opt into v's i, u or d, by type (hidden: n_hidden) */
void
vc_option_get(const VcOptionDef *def, const VcOptions *opt, VcOptionValue *v)
{
	memset(v, 0, sizeof(*v));
	switch (def->type)
	{
		case VC_OPT_INT64:
			v->i = *CFIELD(opt, def, int64_t);
			break;
		case VC_OPT_UINT64:
			v->u = *CFIELD(opt, def, uint64_t);
			break;
		case VC_OPT_REAL:
			v->d = *CFIELD(opt, def, double);
			break;
		default:
			v->i = *CFIELD(opt, def, int);
			break;
	}
}

/* v's member for def's type into def's field of opt (hidden: n_hidden only) */
void
vc_option_set(const VcOptionDef *def, VcOptions *opt, const VcOptionValue *v)
{
	switch (def->type)
	{
		case VC_OPT_INT64:
			*FIELD(opt, def, int64_t) = v->i;
			break;
		case VC_OPT_UINT64:
			*FIELD(opt, def, uint64_t) = v->u;
			break;
		case VC_OPT_REAL:
			*FIELD(opt, def, double) = v->d;
			break;
		default:
			*FIELD(opt, def, int) = (int) v->i;
			break;
	}
}

/*
 * The marker is exactly what vc_options_init writes, -1, for reals too: any
 * other value is a value and passes the range check or not, so a TRAIN
 * header accepts nothing beyond what the user could have written, plus
 * "not given".
 */
int
vc_option_is_unset(const VcOptionDef *def, const VcOptions *opt)
{
	VcOptionValue v;

	if (!(def->flags & VC_OPTF_UNSET))
		return 0;
	vc_option_get(def, opt, &v);
	if (def->type == VC_OPT_REAL)
		return v.d == -1.0;
	return v.i == -1;
}

/*
 * Every option of opt through vc_option_check (hidden: its count, then each
 * used width); with allow_unset a "not given" marker passes too.  Stops at
 * the first failure.
 */
VcStatus
vc_options_check(const VcOptions *opt, int allow_unset, char *errmsg)
{
	int			i,
				k;
	VcOptionValue v;
	VcStatus	st;

	for (i = 0; i < VC_N_OPTIONS; i++)
	{
		const VcOptionDef *def = &vc_option_defs[i];

		if (allow_unset && vc_option_is_unset(def, opt))
			continue;
		if (def->type == VC_OPT_HIDDEN)
		{
			if (opt->n_hidden < 0 || opt->n_hidden > VC_MAX_HIDDEN)
			{
				vc_option_error(def, errmsg);
				return VC_EINVAL;
			}
			for (k = 0; k < opt->n_hidden; k++)
			{
				memset(&v, 0, sizeof(v));
				v.i = opt->hidden[k];
				if ((st = vc_option_check(def, &v, errmsg)) != VC_OK)
					return st;
			}
			continue;
		}
		vc_option_get(def, opt, &v);
		if ((st = vc_option_check(def, &v, errmsg)) != VC_OK)
			return st;
	}
	return VC_OK;
}

/* ---- defaults ---- */

/* every option at its table init value: "not given" or its fixed default */
void
vc_options_init(VcOptions *opt)
{
	int			i;
	VcOptionValue v;

	memset(opt, 0, sizeof(*opt));
	for (i = 0; i < VC_N_OPTIONS; i++)
	{
		v.i = (int64_t) vc_option_defs[i].init;
		v.u = (uint64_t) (int64_t) vc_option_defs[i].init;
		v.d = vc_option_defs[i].init;
		vc_option_set(&vc_option_defs[i], opt, &v);
	}
}

/* ---- the options block ---- */

/* writes opt as the options block, each option at its table offset */
void
vc_options_encode(uint8_t *block, const VcOptions *opt)
{
	int			i,
				k;

	for (i = 0; i < VC_N_OPTIONS; i++)
	{
		const VcOptionDef *def = &vc_option_defs[i];
		uint8_t    *p;
		VcOptionValue v;

		if (def->block_offset == VC_OPT_NOT_IN_BLOCK)
			continue;
		p = block + def->block_offset;
		vc_option_get(def, opt, &v);
		switch (def->type)
		{
			case VC_OPT_HIDDEN:
				/* unused slots as zero, so that equal options give equal bytes */
				vc_put_i32(p, opt->n_hidden);
				for (k = 0; k < VC_MAX_HIDDEN; k++)
					vc_put_i32(p + 4 + 4 * k, k < opt->n_hidden ? opt->hidden[k] : 0);
				break;
			case VC_OPT_INT64:
				vc_put_i64(p, v.i);
				break;
			case VC_OPT_UINT64:
				vc_put_u64(p, v.u);
				break;
			case VC_OPT_REAL:
				vc_put_f64(p, v.d);
				break;
			default:
				vc_put_i32(p, (int32_t) v.i);
				break;
		}
	}
}

/*
 * The options block into opt, checking nothing; hidden_raw (when not NULL)
 * gets all VC_MAX_HIDDEN stored widths, opt->hidden only the first n_hidden.
 * An option not in the block gets its init value ("not given").
 */
void
vc_options_decode(const uint8_t *block, VcOptions *opt, int32_t *hidden_raw)
{
	int			i,
				k;

	/* options outside the block keep vc_options_init's: the reader decides them */
	vc_options_init(opt);
	for (i = 0; i < VC_N_OPTIONS; i++)
	{
		const VcOptionDef *def = &vc_option_defs[i];
		const uint8_t *p;
		VcOptionValue v;

		memset(&v, 0, sizeof(v));
		if (def->block_offset == VC_OPT_NOT_IN_BLOCK)
			continue;
		p = block + def->block_offset;
		switch (def->type)
		{
			case VC_OPT_HIDDEN:
				v.i = vc_get_i32(p);
				for (k = 0; k < VC_MAX_HIDDEN; k++)
				{
					int32_t		w = vc_get_i32(p + 4 + 4 * k);

					if (hidden_raw)
						hidden_raw[k] = w;
					opt->hidden[k] = k < v.i ? w : 0;
				}
				break;
			case VC_OPT_INT64:
				v.i = vc_get_i64(p);
				break;
			case VC_OPT_UINT64:
				v.u = vc_get_u64(p);
				break;
			case VC_OPT_REAL:
				v.d = vc_get_f64(p);
				break;
			default:
				v.i = vc_get_i32(p);
				break;
		}
		vc_option_set(def, opt, &v);
	}
}

/* ---- JSON ---- */

/*
 * The option's value in opt as JSON, in the form vae_train accepts
 * (non-finite reals as null).  Returns buf.
 */
const char *
vc_option_json(const VcOptionDef *def, const VcOptions *opt, char *buf, size_t len)
{
	VcOptionValue v;
	size_t		used;
	int			k;

	vc_option_get(def, opt, &v);
	switch (def->type)
	{
		case VC_OPT_HIDDEN:
			snprintf(buf, len, "[");
			for (k = 0; k < opt->n_hidden && k < VC_MAX_HIDDEN; k++)
			{
				used = strlen(buf);
				snprintf(buf + used, len - used, "%s%d", k ? "," : "", opt->hidden[k]);
			}
			used = strlen(buf);
			snprintf(buf + used, len - used, "]");
			break;
		case VC_OPT_INT64:
			snprintf(buf, len, "%" PRId64, v.i);
			break;
		case VC_OPT_UINT64:
			snprintf(buf, len, "%" PRIu64, v.u);
			break;
		case VC_OPT_REAL:
			/* the shortest text that reads back as the stored double */
			if (isfinite(v.d))
				vc_format_double(v.d, buf, len);
			else
				snprintf(buf, len, "null");
			break;
		case VC_OPT_BOOL:
			snprintf(buf, len, "%s", v.i ? "true" : "false");
			break;
		case VC_OPT_ENUM:
			snprintf(buf, len, "\"%s\"", vc_option_enum_name(def, (int) v.i));
			break;
		default:
			snprintf(buf, len, "%d", (int) v.i);
			break;
	}
	return buf;
}

/*
 * Name of an enum value; an out-of-range value (only a hand-built model can
 * have one) gets the first name, so that messages and vae_model_info always
 * print a valid name.
 */
const char *
vc_option_enum_name(const VcOptionDef *def, int v)
{
	return v >= 0 && v < vc_option_n_names(def) ? def->names[v] : def->names[0];
}

/* vc.h's vc_likelihood_name() and friends: the names, read from the table */
#define VC_ENUM_NAME_FUNCTION(function, id) \
	const char *function(int v) \
	{ \
		return vc_option_enum_name(&vc_option_defs[id], v); \
	}
VC_ENUM_NAME_FUNCTION(vc_likelihood_name, VC_OPTION_likelihood)
VC_ENUM_NAME_FUNCTION(vc_activation_name, VC_OPTION_activation)
VC_ENUM_NAME_FUNCTION(vc_normalize_name, VC_OPTION_normalize)
VC_ENUM_NAME_FUNCTION(vc_device_name, VC_OPTION_device)
