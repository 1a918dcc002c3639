/*
 * vae_svg.c - the SVG writer of the vae_plot_* pictures: document, escaped
 * text, shapes, axes with "nice" ticks, legends and colour scales.
 *
 * Numbers are written with integer arithmetic (SvgNum, FormatDecimal), so
 * the bytes of a picture depend on nothing but its inputs (see vae_svg.h).
 */
#include "vae_svg.h"

#include <math.h>

#include "mb/pg_wchar.h"

/* longest user text drawn, in characters; longer ones end in an ellipsis */
#define SVG_TEXT_MAX 90

/* the SVG root element, a title (a tooltip and the accessible name) and a white page */
void
SvgBegin(StringInfo s, int width, int height, const char *title)
{
	appendStringInfo(s,
					 "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
					 "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
					 "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
					 width, height, width, height);
	appendStringInfoString(s, "<title>");
	SvgEscape(s, title);
	appendStringInfoString(s, "</title>\n");
	appendStringInfo(s, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
					 width, height);
}

/* closes the document */
void
SvgEnd(StringInfo s)
{
	appendStringInfoString(s, "</svg>\n");
}

/* a whole picture: the title on top and a message in the middle */
char *
SvgMessage(const char *title, const char *message)
{
	StringInfoData s;

	initStringInfo(&s);
	SvgBegin(&s, SVG_WIDTH, SVG_HEIGHT, title);
	SvgText(&s, SVG_WIDTH / 2.0, 30, "middle", 16, "font-weight=\"bold\"", title);
	SvgRect(&s, 40.5, 50.5, SVG_WIDTH - 81, SVG_HEIGHT - 91,
			"fill=\"#f4f4f4\" stroke=\"#cccccc\"");
	SvgText(&s, SVG_WIDTH / 2.0, SVG_HEIGHT / 2.0, "middle", 18, "fill=\"#555555\"", message);
	SvgEnd(&s);
	return s.data;
}

/*
 * The next code point of UTF-8 text at *p (advancing it), or U+FFFD for a
 * byte that does not start a valid sequence (SQL_ASCII databases may hold
 * anything).
 */
static pg_wchar
NextCodePoint(const unsigned char **p)
{
	const unsigned char *s = *p;
	int			len = pg_utf_mblen(s);
	int			i;

	for (i = 1; i < len; i++)
		if (s[i] == '\0')
			break;
	if (i < len || !pg_utf8_islegal(s, len))
	{
		*p = s + 1;
		return 0xFFFD;
	}
	*p = s + len;
	return utf8_to_unicode(s);
}

/*
 * User text as XML character data or attribute value: the five XML
 * specials as entities, other ASCII as itself, anything else as a numeric
 * character reference (from the database encoding, via UTF-8), control
 * characters XML forbids as spaces; at most SVG_TEXT_MAX characters, then
 * an ellipsis.
 */
void
SvgEscape(StringInfo s, const char *text)
{
	char	   *utf8 = (char *) text;
	const unsigned char *p;
	int			n = 0;

	if (text == NULL)
		return;
	if (GetDatabaseEncoding() != PG_UTF8 && GetDatabaseEncoding() != PG_SQL_ASCII)
		utf8 = pg_server_to_any(text, strlen(text), PG_UTF8);
	p = (const unsigned char *) utf8;
	while (*p)
	{
		pg_wchar	c = NextCodePoint(&p);

		if (++n > SVG_TEXT_MAX)
		{
			appendStringInfoString(s, "&#x2026;");
			break;
		}
		switch (c)
		{
			case '&':
				appendStringInfoString(s, "&amp;");
				break;
			case '<':
				appendStringInfoString(s, "&lt;");
				break;
			case '>':
				appendStringInfoString(s, "&gt;");
				break;
			case '"':
				appendStringInfoString(s, "&quot;");
				break;
			case '\'':
				appendStringInfoString(s, "&#39;");
				break;
			default:
				if (c < 0x20 || c == 0x7F)
					appendStringInfoChar(s, ' ');
				else if (c < 0x80)
					appendStringInfoChar(s, (char) c);
				else if (c == 0xFFFE || c == 0xFFFF)
					appendStringInfoString(s, "&#xFFFD;");
				else
					appendStringInfo(s, "&#x%X;", (unsigned int) c);
		}
	}
	if (utf8 != text)
		pfree(utf8);
}

/*
 * A coordinate with one decimal, from integers only; far-off values are
 * clamped (they only arise from points outside a clipped plot area).
 */
void
SvgNum(StringInfo s, double v)
{
	long long	t;

	if (!isfinite(v))
		v = 0;
	v = Max(-1e7, Min(1e7, v));
	t = llround(v * 10.0);
	if (t < 0)
	{
		appendStringInfoChar(s, '-');
		t = -t;
	}
	if (t % 10 == 0)
		appendStringInfo(s, "%lld", t / 10);
	else
		appendStringInfo(s, "%lld.%lld", t / 10, t % 10);
}

/*
 * The decimal text of (neg ? -1 : 1) * n * 10^p, n >= 0, into buf: plain
 * digits between 1e-6 and 1e15, else d.ddde+X.  Integers only.
 */
static const char *
FormatDecimal(bool neg, long long n, int p, char *buf, size_t len)
{
	char		digits[32];
	int			nd,
				i;
	StringInfoData s;

	while (n != 0 && n % 10 == 0)
	{
		n /= 10;
		p++;
	}
	if (n == 0)
	{
		snprintf(buf, len, "0");
		return buf;
	}
	nd = snprintf(digits, sizeof(digits), "%lld", n);
	initStringInfo(&s);
	if (neg)
		appendStringInfoChar(&s, '-');
	if (nd + p - 1 > 15 || nd + p - 1 < -6)
	{
		/* scientific: first digit, the rest after the point, the exponent */
		appendStringInfoChar(&s, digits[0]);
		if (nd > 1)
			appendStringInfo(&s, ".%s", digits + 1);
		appendStringInfo(&s, "e%s%d", nd + p - 1 < 0 ? "-" : "+", abs(nd + p - 1));
	}
	else if (p >= 0)
	{
		appendStringInfoString(&s, digits);
		for (i = 0; i < p; i++)
			appendStringInfoChar(&s, '0');
	}
	else if (nd + p > 0)
		appendStringInfo(&s, "%.*s.%s", nd + p, digits, digits + nd + p);
	else
	{
		appendStringInfoString(&s, "0.");
		for (i = 0; i < -(nd + p); i++)
			appendStringInfoChar(&s, '0');
		appendStringInfoString(&s, digits);
	}
	strlcpy(buf, s.data, len);
	pfree(s.data);
	return buf;
}

/* v rounded to `digits` significant digits (1..15), trailing zeros dropped */
const char *
SvgFormatSig(double v, int digits, char *buf, size_t len)
{
	double		a = fabs(v);
	int			e,
				p;
	long long	n;

	if (!isfinite(v))
	{
		snprintf(buf, len, isnan(v) ? "NaN" : (v < 0 ? "-Infinity" : "Infinity"));
		return buf;
	}
	if (a == 0)
		return FormatDecimal(false, 0, 0, buf, len);
	e = (int) floor(log10(a));
	p = e - digits + 1;
	n = llround(a / pow(10.0, p));
	if (n >= (long long) pow(10.0, digits))
	{
		n = llround(a / pow(10.0, p + 1));
		p++;
	}
	return FormatDecimal(v < 0, n, p, buf, len);
}

/* an integer with thousands separators (always ",", whatever the locale) */
const char *
SvgFormatCount(int64 v, char *buf, size_t len)
{
	char		digits[32];
	StringInfoData s;
	int			nd,
				i;
	uint64		u = v < 0 ? -(uint64) v : (uint64) v;

	nd = snprintf(digits, sizeof(digits), UINT64_FORMAT, u);
	initStringInfo(&s);
	if (v < 0)
		appendStringInfoChar(&s, '-');
	for (i = 0; i < nd; i++)
	{
		if (i > 0 && (nd - i) % 3 == 0)
			appendStringInfoChar(&s, ',');
		appendStringInfoChar(&s, digits[i]);
	}
	strlcpy(buf, s.data, len);
	pfree(s.data);
	return buf;
}

/* ---- shapes ---- */

void
SvgLine(StringInfo s, double x1, double y1, double x2, double y2, const char *style)
{
	appendStringInfoString(s, "<line x1=\"");
	SvgNum(s, x1);
	appendStringInfoString(s, "\" y1=\"");
	SvgNum(s, y1);
	appendStringInfoString(s, "\" x2=\"");
	SvgNum(s, x2);
	appendStringInfoString(s, "\" y2=\"");
	SvgNum(s, y2);
	appendStringInfo(s, "\" %s/>\n", style);
}

void
SvgRect(StringInfo s, double x, double y, double w, double h, const char *style)
{
	appendStringInfoString(s, "<rect x=\"");
	SvgNum(s, x);
	appendStringInfoString(s, "\" y=\"");
	SvgNum(s, y);
	appendStringInfoString(s, "\" width=\"");
	SvgNum(s, Max(w, 0));
	appendStringInfoString(s, "\" height=\"");
	SvgNum(s, Max(h, 0));
	appendStringInfo(s, "\" %s/>\n", style);
}

void
SvgCircle(StringInfo s, double cx, double cy, double r, const char *style)
{
	appendStringInfoString(s, "<circle cx=\"");
	SvgNum(s, cx);
	appendStringInfoString(s, "\" cy=\"");
	SvgNum(s, cy);
	appendStringInfoString(s, "\" r=\"");
	SvgNum(s, r);
	appendStringInfo(s, "\" %s/>\n", style);
}

void
SvgText(StringInfo s, double x, double y, const char *anchor, int size,
		const char *style, const char *text)
{
	appendStringInfoString(s, "<text x=\"");
	SvgNum(s, x);
	appendStringInfoString(s, "\" y=\"");
	SvgNum(s, y);
	appendStringInfo(s, "\" text-anchor=\"%s\" font-size=\"%d\"%s%s>",
					 anchor, size, style ? " " : "", style ? style : "");
	SvgEscape(s, text);
	appendStringInfoString(s, "</text>\n");
}

void
SvgTextUp(StringInfo s, double x, double y, int size, const char *text)
{
	appendStringInfoString(s, "<text x=\"0\" y=\"0\" transform=\"translate(");
	SvgNum(s, x);
	appendStringInfoChar(s, ' ');
	SvgNum(s, y);
	appendStringInfo(s, ") rotate(-90)\" text-anchor=\"middle\" font-size=\"%d\">", size);
	SvgEscape(s, text);
	appendStringInfoString(s, "</text>\n");
}

/*
 * Everything drawn between SvgClipBegin and SvgClipEnd is cut at the
 * frame (bars and curves never spill over the side axes); id names the clip
 * path, unique in the document.
 */
void
SvgClipBegin(StringInfo s, const SvgFrame *f, const char *id)
{
	appendStringInfo(s, "<clipPath id=\"%s\">", id);
	/* a few pixels more on each side: a dot on the frame's edge stays whole */
	SvgRect(s, f->left - 5, f->top - 5, f->right - f->left + 10, f->bottom - f->top + 10, "");
	appendStringInfo(s, "</clipPath>\n<g clip-path=\"url(#%s)\">\n", id);
}

void
SvgClipEnd(StringInfo s)
{
	appendStringInfoString(s, "</g>\n");
}

/* ---- axes ---- */

double
SvgMap(const SvgAxis *a, double v)
{
	if (a->hi == a->lo)
		return (a->p0 + a->p1) / 2;
	return a->p0 + (v - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

void
SvgPadRange(double *lo, double *hi, double share)
{
	double		w = *hi - *lo;

	if (!(w > 0))
	{
		double		c = *lo,
					h = fabs(c) > 0 ? fabs(c) * 0.1 : 1.0;

		*lo = c - h;
		*hi = c + h;
		return;
	}
	*lo -= w * share;
	*hi += w * share;
}

/*
 * Ticks of [lo, hi]: a step m * 10^e with m in {1, 2, 5} giving about
 * `target` ticks (integers: e >= 0), and the first and last multiple k of
 * the step inside the interval.  The tick at k is k * m * 10^e, written
 * exactly by FormatDecimal.
 */
typedef struct Ticks
{
	int			m,
				e;
	long long	k0,
				k1;
} Ticks;

static Ticks
NiceTicks(double lo, double hi, int target, bool integers)
{
	Ticks		t;
	double		raw = (hi - lo) / Max(target, 1),
				f,
				step;

	if (!(raw > 0) || !isfinite(raw))
		raw = 1;
	t.e = (int) floor(log10(raw));
	f = raw / pow(10.0, t.e);
	t.m = f < 1.5 ? 1 : (f < 3.5 ? 2 : (f < 7.5 ? 5 : 10));
	if (t.m == 10)
	{
		t.m = 1;
		t.e++;
	}
	if (integers && t.e < 0)
	{
		t.m = 1;
		t.e = 0;
	}
	step = t.m * pow(10.0, t.e);
	t.k0 = (long long) ceil(lo / step - 1e-9);
	t.k1 = (long long) floor(hi / step + 1e-9);
	if (t.k1 - t.k0 > 100)		/* cannot happen for sane ranges; bounded anyway */
		t.k1 = t.k0 + 100;
	return t;
}

static double
TickValue(const Ticks *t, long long k)
{
	return (double) k * t->m * pow(10.0, t->e);
}

static const char *
TickText(const Ticks *t, long long k, char *buf, size_t len)
{
	long long	n = k * t->m;

	return FormatDecimal(n < 0, n < 0 ? -n : n, t->e, buf, len);
}

#define AXIS_STYLE "stroke=\"#333333\" stroke-width=\"1\""
#define GRID_STYLE "stroke=\"#e6e6e6\" stroke-width=\"1\""

void
SvgAxisBottom(StringInfo s, const SvgFrame *f, const SvgAxis *a, const char *label,
			  bool integers)
{
	Ticks		t = NiceTicks(Min(a->lo, a->hi), Max(a->lo, a->hi), 8, integers);
	long long	k;
	char		buf[64];

	SvgLine(s, f->left, f->bottom + 0.5, f->right, f->bottom + 0.5, AXIS_STYLE);
	for (k = t.k0; k <= t.k1; k++)
	{
		double		x = SvgMap(a, TickValue(&t, k));

		SvgLine(s, x, f->bottom, x, f->bottom + 5, AXIS_STYLE);
		SvgText(s, x, f->bottom + 18, "middle", 11, NULL, TickText(&t, k, buf, sizeof(buf)));
	}
	SvgText(s, (f->left + f->right) / 2, f->bottom + 36, "middle", 13, NULL, label);
}

void
SvgAxisSide(StringInfo s, const SvgFrame *f, const SvgAxis *a, const char *label,
			bool right, bool integers, bool grid)
{
	Ticks		t = NiceTicks(Min(a->lo, a->hi), Max(a->lo, a->hi), 6, integers);
	double		x = right ? f->right : f->left;
	int			dir = right ? 1 : -1;
	long long	k;
	char		buf[64];
	int			widest = 0;

	SvgLine(s, x + 0.5 * dir, f->top, x + 0.5 * dir, f->bottom, AXIS_STYLE);
	for (k = t.k0; k <= t.k1; k++)
	{
		double		y = SvgMap(a, TickValue(&t, k));

		if (grid)
			SvgLine(s, f->left, y, f->right, y, GRID_STYLE);
		SvgLine(s, x, y, x + 5 * dir, y, AXIS_STYLE);
		TickText(&t, k, buf, sizeof(buf));
		widest = Max(widest, (int) strlen(buf));
		SvgText(s, x + 8 * dir, y + 4, right ? "start" : "end", 11, NULL, buf);
	}
	/*
	 * the label clear of the widest number (about 6.5 px a digit at 11 px);
	 * rotated text extends to the left of its baseline, so a right-hand
	 * label moves out by its height too
	 */
	SvgTextUp(s, x + dir * (14 + 6.5 * widest) + (right ? 12 : 0), (f->top + f->bottom) / 2,
			  13, label);
}

void
SvgLegendLine(StringInfo s, double x, double y, const char *style, const char *text)
{
	SvgLine(s, x, y, x + 22, y, style);
	SvgText(s, x + 28, y + 4, "start", 12, NULL, text);
}

void
SvgLegendBox(StringInfo s, double x, double y, const char *fill, const char *text)
{
	char		style[64];

	snprintf(style, sizeof(style), "fill=\"%s\"", fill);
	SvgRect(s, x + 4, y - 6, 14, 12, style);
	SvgText(s, x + 28, y + 4, "start", 12, NULL, text);
}

/* ---- colours ---- */

/* viridis at nine even stops (matplotlib's), interpolated linearly between */
static const unsigned char viridis[9][3] = {
	{0x44, 0x01, 0x54}, {0x47, 0x2d, 0x7b}, {0x3b, 0x52, 0x8b}, {0x2c, 0x72, 0x8e},
	{0x21, 0x91, 0x8c}, {0x28, 0xae, 0x80}, {0x5e, 0xc9, 0x62}, {0xad, 0xdc, 0x30},
	{0xfd, 0xe7, 0x25}
};

void
SvgSequential(double t, char *buf)
{
	int			i,
				c;
	double		u;
	int			rgb[3];

	if (!(t > 0))
		t = 0;
	if (t > 1)
		t = 1;
	u = t * 8;
	i = Min((int) u, 7);
	u -= i;
	for (c = 0; c < 3; c++)
		rgb[c] = (int) lround(viridis[i][c] + u * (viridis[i + 1][c] - viridis[i][c]));
	snprintf(buf, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* Tableau 10, with a teal for its grey: grey is the "other" class */
static const char *const categorical[SVG_N_CATEGORICAL] = {
	"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
	"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#17becf"
};

const char *
SvgCategorical(int i)
{
	return i >= 0 && i < SVG_N_CATEGORICAL ? categorical[i] : "#8c8c8c";
}
