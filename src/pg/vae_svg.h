/*
 * vae_svg.h - a small SVG writer for the vae_plot_* pictures (vae_svg.c).
 *
 * Everything is appended to a StringInfo.  Every number is written by this
 * module with integer arithmetic only, so a picture's bytes depend on its
 * inputs alone: never on extra_float_digits, lc_numeric, TimeZone or the
 * C library's locale (the vae_plot_* functions are IMMUTABLE).  Every text
 * that comes from the user (titles, labels, column names) goes through
 * SvgEscape: XML-escaped, and anything outside ASCII written as a character
 * reference, so the document is plain ASCII in any database encoding.
 */
#ifndef VAE_SVG_H
#define VAE_SVG_H

#include "postgres.h"

#include "lib/stringinfo.h"

/* the size of every picture, in pixels (width and height attributes) */
#define SVG_WIDTH	800
#define SVG_HEIGHT	450

/* the plot area inside the picture */
typedef struct SvgFrame
{
	double		left,
				top,
				right,
				bottom;
} SvgFrame;

/* a linear axis: data interval [lo, hi] onto pixels [p0, p1] */
typedef struct SvgAxis
{
	double		lo,
				hi;
	double		p0,
				p1;
} SvgAxis;

/* ---- the document ---- */
extern void SvgBegin(StringInfo s, int width, int height, const char *title);
extern void SvgEnd(StringInfo s);
/* a picture that only says why it is empty (e.g. "no rows") */
extern char *SvgMessage(const char *title, const char *message);

/* ---- writing values ---- */
extern void SvgEscape(StringInfo s, const char *text);
extern void SvgNum(StringInfo s, double v);
/* v with about `digits` significant digits, into buf (integer arithmetic) */
extern const char *SvgFormatSig(double v, int digits, char *buf, size_t len);
/* an integer with thousands separators: 12,345 */
extern const char *SvgFormatCount(int64 v, char *buf, size_t len);

/* ---- shapes; style is a literal attribute string of this module's own ---- */
extern void SvgLine(StringInfo s, double x1, double y1, double x2, double y2,
					const char *style);
extern void SvgRect(StringInfo s, double x, double y, double w, double h,
					const char *style);
extern void SvgCircle(StringInfo s, double cx, double cy, double r, const char *style);
/* text at (x, y); anchor start|middle|end; the text is escaped */
extern void SvgText(StringInfo s, double x, double y, const char *anchor, int size,
					const char *style, const char *text);
/* the same, the text rotated by -90 degrees about (x, y) (a y-axis label) */
extern void SvgTextUp(StringInfo s, double x, double y, int size, const char *text);

/* a group cut at the frame (SvgClipEnd closes it); id unique in the document */
extern void SvgClipBegin(StringInfo s, const SvgFrame *f, const char *id);
extern void SvgClipEnd(StringInfo s);

/* ---- axes ---- */
extern double SvgMap(const SvgAxis *a, double v);
/* widen [*lo, *hi] a little and make it non-empty */
extern void SvgPadRange(double *lo, double *hi, double share);
/* the bottom axis (ticks, numbers, label) of a frame */
extern void SvgAxisBottom(StringInfo s, const SvgFrame *f, const SvgAxis *a,
						  const char *label, bool integers);
/* the left (right = false) or right axis of a frame */
extern void SvgAxisSide(StringInfo s, const SvgFrame *f, const SvgAxis *a,
						const char *label, bool right, bool integers, bool grid);
/* a legend entry at (x, y): a swatch drawn with style (a line or a box) and text */
extern void SvgLegendLine(StringInfo s, double x, double y, const char *style,
						  const char *text);
extern void SvgLegendBox(StringInfo s, double x, double y, const char *fill,
						 const char *text);

/* ---- colours ---- */
/* a sequential scale (viridis), t in [0, 1], as "#rrggbb" into buf[8] */
extern void SvgSequential(double t, char *buf);
/* the categorical palette (10 colours); i >= 10 is grey (the "other" class) */
extern const char *SvgCategorical(int i);
#define SVG_N_CATEGORICAL 10

#endif							/* VAE_SVG_H */
