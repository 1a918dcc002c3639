/*
 * vc_score.h - batched scoring internals: the score sample that training
 * stores for vae_threshold (core-internal; vc_score.c).
 */
#ifndef VC_SCORE_H
#define VC_SCORE_H

#include "vc.h"
#include "vc_nn.h"

/*
 * Scores of the rows refs[order[i]] (normalized), i < min(n, 10000), sorted
 * per method into m->scores, for vae_threshold.
 */

VcStatus	vc_record_score_distribution(VcModel *m, const VcRowRef *refs,
										 const int64_t *order, int64_t n,
										 const VcCallbacks *cb, char *errmsg);

/* the score sample's batched scoring: rows per block, a workspace for it, one block */
int			vc_score_block_rows(const VcModel *m);
VcStatus	vc_score_block_init(VcNet *net, const VcModel *m);
void		vc_score_block(const VcModel *m, VcNet *net, const float *const *rows, int n,
						   double (*out)[VC_N_METHODS]);

/* scores of one already-normalized row (see vc_score_row) */
void		vc_score_normalized(const VcModel *m, VcScratch *s, const float *xn,
								unsigned methods, double *out);

/* the workspace's network computes with m, of the layout it was made for */
void		vc_scratch_use(VcScratch *s, const VcModel *m);

/* vc_score_row of an ensemble: the robust mean of its members' scores (vc_ensemble.c) */
VcStatus	vc_ensemble_score_row(const VcModel *m, VcScratch *s, const float *x,
								  unsigned methods, double *out, char *errmsg);

#endif							/* VC_SCORE_H */
