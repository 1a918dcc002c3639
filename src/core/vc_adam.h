/*
 * vc_adam.h - the Adam optimizer of training (core-internal; vc_adam.c).
 */
#ifndef VC_ADAM_H
#define VC_ADAM_H

#include "vc.h"

/* Adam state; the step applies decoupled (AdamW) decay to weight matrices */
typedef struct VcAdam
{
	float	   *m1;
	float	   *m2;
	int64_t		t;
	double		c1;				/* bias corrections of step t */
	double		c2;
	float		lr;				/* learning rate / c1 */
} VcAdam;

VcStatus	vc_adam_init(VcAdam *adam, size_t n_params);
void		vc_adam_free(VcAdam *adam);
void		vc_adam_step(VcModel *m, VcAdam *adam, const float *grads);
/*
 * The same step in pieces: begin_step once, then update any partition of
 * [0, n_params) into ranges (from any thread), with the gradient g0 + g1
 * (g1 may be NULL).
 */
void		vc_adam_begin_step(VcAdam *adam, double learning_rate);
void		vc_adam_update(VcModel *m, VcAdam *adam, const float *g0, const float *g1,
						   size_t lo, size_t hi);

#endif							/* VC_ADAM_H */
