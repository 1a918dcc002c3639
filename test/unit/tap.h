/*
 * tap.h - a tiny TAP-style harness for the core's standalone unit tests.
 *
 *	ok(cond, "format", args...);	one test point; prints "ok N - ..." or
 *									"not ok N - ..." plus where it failed
 *	diag("format", args...);		a "# ..." comment line
 *	return done_testing();			prints the plan and "# N passed, N failed";
 *									the exit code is 0 only if nothing failed
 *
 * Header only, so a test is one .c file; everything is static, so include
 * it from exactly one translation unit per program.
 */
#ifndef VC_TAP_H
#define VC_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int	tap_n_passed;
static int	tap_n_failed;

static inline int
tap_ok_at(int pass, const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	if (pass)
		tap_n_passed++;
	else
		tap_n_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_n_passed + tap_n_failed);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass)
		printf("#   Failed test at %s line %d.\n", file, line);
	fflush(stdout);
	return pass;
}

/* returns the condition, so a test can skip follow-up checks that would crash */
#define ok(cond, ...) tap_ok_at((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

static inline void
diag(const char *fmt,...)
{
	va_list		ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n_passed + tap_n_failed);
	printf("# %d passed, %d failed\n", tap_n_passed, tap_n_failed);
	fflush(stdout);
	return tap_n_failed == 0 ? 0 : 1;
}

#endif							/* VC_TAP_H */
