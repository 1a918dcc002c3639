/*
 * vae_detect.h - what both forms of vae_detect share (vae_detect.c): the
 * method argument, the threshold from a contamination, the percentile of a
 * score among the stored training scores of the method, and the jsonb of the
 * most contributing columns.
 */
#ifndef VAE_DETECT_H
#define VAE_DETECT_H

#include "vae.h"

/* the most contributing columns listed in top when the call does not say */
#define VAE_DETECT_TOP_DEFAULT 3

/*
 * The method argument argno (0-based: the last argument, a vae_method) as a
 * VC_METHOD_* number; VAE_MODEL_METHOD (the model's own) when the call has
 * no such argument or it is NULL
 */
extern int	VaeDetectMethod(FunctionCallInfo fcinfo, int argno);

/*
 * The cut of contamination c (checked: 0 <= c <= 1) of method's stored
 * training scores, or that method's automatic one (vc_threshold_auto) when
 * is_null
 */
extern double VaeDetectThreshold(const VcModel *m, int method, double c, bool is_null);

/* the number of top columns asked for: the default when is_null, ERROR 22023 below 0 */
extern int	VaeDetectTopCount(int32 n, bool is_null);

/* the share of the model's stored training scores of method strictly below score */
extern double VaeDetectPercentile(const VcModel *m, int method, double score);

/*
 * The explanation of raw row x at its latent mean (the model's scratch is
 * used): the top most contributing columns (an array model's features) as a
 * jsonb array, largest contribution first; texts (row models, may be NULL)
 * the values as text.  ERROR for a value the model cannot read.
 */
extern Datum VaeDetectTop(const VcModel *m, VcScratch *s, const float *x, char **texts, int top);

#endif							/* VAE_DETECT_H */
