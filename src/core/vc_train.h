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

#endif							/* VC_TRAIN_H */
