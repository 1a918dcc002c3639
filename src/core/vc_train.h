/*
 * vc_train.h - training internals shared with the engines and the unit tests
 * (core-internal; vc_train.c).
 */
#ifndef VC_TRAIN_H
#define VC_TRAIN_H

#include "vc.h"
#include "vc_sort.h"

/* early stopping's validation loss: the mean without the worst 1/VC_VAL_TRIM_DIVISOR */
#define VC_VAL_TRIM_DIVISOR 100
double		vc_validation_criterion(double *row_loss, int64_t n, VcTicker *t);

/*
 * vc_schema_robust_scale over the m non-NULL values v[0, m) of a column,
 * reordering them, with interrupt checks through t (may be NULL): nonzero
 * when t's host asked to stop (the result is then meaningless)
 */
int			vc_robust_scale_values(float *v, int64_t m, float *center, float *scale,
								   VcTicker *t);

/*
 * Tests only (vc_engine_cpu.c): 0, the default, lets the CPU engine time
 * one thread against the helper at the start of a pass and keep the
 * faster; -1 forces one thread, 1 the helper.  The bits never depend on it.
 */
extern int	vc_engine_cpu_force_helper;

#endif							/* VC_TRAIN_H */
