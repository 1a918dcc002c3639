/*
 * vc_score.h - batched scoring internals: the score sample that training
 * stores for vae_threshold (core-internal; vc_score.c).
 */
#ifndef VC_SCORE_H
#define VC_SCORE_H

#include <math.h>

#include "vc.h"
#include "vc_nn.h"

/*
 * Scores of the rows refs[order[i]] (normalized), i < min(n, 10000), sorted
 * per method into m->scores, for vae_threshold.
 */

VcStatus	vc_record_score_distribution(VcModel *m, const VcRowRef *refs,
										 const int64_t *order, int64_t n,
										 const VcCallbacks *cb, char *errmsg);

/*
 * The same in parts, for a sample scored by several weights (out-of-fold
 * scores, vc_train.c): room for ns scores per method in m->scores, the
 * scores of rows refs[order[i]] for lo <= i < hi with the weights m has now
 * into dst[method][i], then the finite check and the sort of m->scores.
 */
VcStatus	vc_score_sample_alloc(VcModel *m, int ns, char *errmsg);
VcStatus	vc_score_sample_rows(VcModel *m, const VcRowRef *refs, const int64_t *order,
								 int lo, int hi, float *const dst[VC_N_METHODS],
								 const VcCallbacks *cb, char *errmsg);
VcStatus	vc_score_sample_finish(VcModel *m, int ns, char *errmsg);

/* the score sample's batched scoring: rows per block, a workspace for it, one block */
int			vc_score_block_rows(const VcModel *m);
VcStatus	vc_score_block_init(VcNet *net, const VcModel *m);
void		vc_score_block(const VcModel *m, VcNet *net, const float *const *rows, int n,
						   double (*out)[VC_N_METHODS]);

/* scores of one already-normalized row (see vc_score_row) */
void		vc_score_normalized(const VcModel *m, VcScratch *s, const float *xn,
								unsigned methods, double *out);

/* ---- what per-row (vc_score.c) and batched (vc_score_batch.c) scoring share ---- */

/* the key of a row's latent draws: vc_hash_row(normalized row, width, seed ^ this) */
#define KEY_SCORE	0x53434f5245ULL	/* "SCORE" */

/* a score or a sample's negative log-likelihood: NaN only from overflow, so +Inf */
static inline double
vc_overflowed(double v)
{
	return isnan(v) ? INFINITY : v;
}

/* decoder mean of row r of an array model's decoder head, in normalized units */
static inline float
vc_decoder_mean(const VcModel *m, const float *head, int r, int j)
{
	if (m->opt.likelihood == VC_LIK_GAUSSIAN)
		return head[(size_t) r * 2 * m->dim + j];
	return vc_sigmoidf(head[(size_t) r * m->dim + j]);
}

/* VC_EDATA with a message naming feature or column j of raw row x and why it cannot be read */
VcStatus	vc_bad_feature(const VcModel *m, const float *x, int j, char *errmsg);
/* -log (1/L) sum_l exp(logp[l]) by log-sum-exp; +Inf when every logp is -Inf */
double		vc_recon_prob(const double *logp, int L);
/* the mse of normalized row xn against decoder-head row r, either kind of model */
double		vc_mse(const VcModel *m, const float *head, int r, const float *xn);
/* a row model's mse of normalized compact row xn against decoder-head row r */
double		vc_row_mse(const VcModel *m, const float *head_rows, int r, const float *xn);
/* one row's L latent draws (keyed by key) into rows [at, at + L) of net->z and net->eps */
void		vc_draw_latents(VcNet *net, const float *mu, const float *lvz, uint64_t key,
							int L, int at);
/* the workspace's network computes with m, of the layout it was made for */
void		vc_scratch_use(VcScratch *s, const VcModel *m);

/* vc_score_row of an ensemble: the robust mean of its members' scores (vc_ensemble.c) */
VcStatus	vc_ensemble_score_row(const VcModel *m, VcScratch *s, const float *x,
								  unsigned methods, double *out, char *errmsg);

#endif							/* VC_SCORE_H */
