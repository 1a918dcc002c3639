/*
 * vae_detect.h - what both forms of vae_detect share (vae_detect.c): the
 * threshold from a contamination, the percentile of a score among the
 * stored training scores, and the jsonb of the most contributing columns.
 */
#ifndef VAE_DETECT_H
#define VAE_DETECT_H

#include "vae.h"

/* the most contributing columns listed in top when the call does not say */
#define VAE_DETECT_TOP_DEFAULT 3

/* the method vae_detect scores with: vae_score's and vae_threshold's default */
#define VAE_DETECT_METHOD VC_METHOD_RECON_PROB

/*
 * The cut of contamination c (checked: 0 <= c <= 1), or the automatic one
 * (vae_threshold(model)) when is_null
 */
extern double VaeDetectThreshold(const VcModel *m, double c, bool is_null);

/* the number of top columns asked for: the default when is_null, ERROR 22023 below 0 */
extern int	VaeDetectTopCount(int32 n, bool is_null);

/* the share of the model's stored training scores strictly below score */
extern double VaeDetectPercentile(const VcModel *m, double score);

/*
 * The explanation of raw row x at its latent mean (the model's scratch is
 * used): the top most contributing columns (an array model's features) as a
 * jsonb array, largest contribution first; texts (row models, may be NULL)
 * the values as text.  ERROR for a value the model cannot read.
 */
extern Datum VaeDetectTop(const VcModel *m, VcScratch *s, const float *x, char **texts, int top);

#endif							/* VAE_DETECT_H */
