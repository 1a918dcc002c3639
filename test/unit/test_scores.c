/*
 * test_scores.c - no score is ever NaN for a valid row, and scores grow as
 * a row moves away from the training data, up to +Infinity.
 *
 * A far-out value makes the float likelihood overflow: recon_prob used to
 * return NaN there (every sample's likelihood underflowed and log-sum-exp
 * computed -Inf - -Inf) while elbo gave +Infinity and mse a finite value.
 * The definition now: an overflowing score is +Infinity, above every finite
 * score (vc_score.c).  For each method, activation and direction, one
 * feature runs through 1, 10, ..., 1e38, FLT_MAX (and the negatives): the
 * scores must never be NaN and never decrease.  Encodings and
 * reconstructions must be finite or an error; an explanation is never an
 * error, its contributions never NaN (an overflowing reconstruction has no
 * value there, and its feature contributes +Infinity).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc.h"

#define DIM 8
#define ROWS 2000

/* standard deviation about 3 per feature, so that FLT_MAX still normalizes */
static VcModel *
TrainModel(int activation)
{
	float	   *x = malloc(sizeof(float) * ROWS * DIM);
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * ROWS);
	VcOptions	opt;
	VcModel    *m = NULL;
	char		err[VC_ERRMSG_LEN];

	for (int i = 0; i < ROWS; i++)
	{
		for (int j = 0; j < DIM; j++)
			x[i * DIM + j] = 3.0f * vc_normal(0x5c0, (uint64_t) (i * DIM + j)) +
				(j % 2 ? 0.5f * x[i * DIM + j - 1] : 0.0f);
		refs[i].row = x + i * DIM;
		refs[i].hash = vc_hash_row(refs[i].row, DIM, 0);
	}
	vc_options_init(&opt);
	opt.epochs = 5;
	opt.activation = activation;
	if (vc_train(refs, ROWS, DIM, &opt, NULL, &m, err) != VC_OK)
		diag("training failed: %s", err);
	free(refs);
	free(x);
	return m;
}

/*
 * For rows with one feature swept from 1 to FLT_MAX (and the negatives): m's
 * scores never NaN and never decreasing, encodings and reconstructions finite
 * or an error, explanations without NaN; scores of a 1e18 feature without
 * NaN, and thresholds never NaN.
 */
static void
CheckModel(VcModel *m, const char *name)
{
	VcScratch  *s = vc_scratch_create(m);
	float		row[DIM],
				mu[VC_MAX_WIDTH],
				recon[DIM];
	double		contrib[DIM];
	char		err[VC_ERRMSG_LEN];
	double		mags[48];
	int			nm = 0;

	for (double v = 1.0; v <= 1e38; v *= 10.0)
		mags[nm++] = v;
	mags[nm++] = FLT_MAX;

	for (int sign = 1; sign >= -1; sign -= 2)
		for (int feat = 0; feat < DIM; feat += 3)
		{
			double		prev[VC_N_METHODS] = {-INFINITY, -INFINITY, -INFINITY};
			int			nan = 0,
						decreasing = 0,
						errors = 0,
						other_nan = 0,
						infinite = 0;

			for (int k = 0; k < nm; k++)
			{
				double		out[VC_N_METHODS];

				memset(row, 0, sizeof(row));
				row[feat] = (float) (sign * mags[k]);
				if (vc_score_row(m, s, row, 7u, out, err) != VC_OK)
				{
					errors++;
					diag("%s: value %g: %s", name, row[feat], err);
					continue;
				}
				for (int meth = 0; meth < VC_N_METHODS; meth++)
				{
					if (isnan(out[meth]))
						nan++;
					else if (out[meth] < prev[meth])
					{
						decreasing++;
						diag("%s: %s falls from %g to %g at feature %d = %g", name,
							 vc_method_name(meth), prev[meth], out[meth], feat + 1, row[feat]);
					}
					infinite += isinf(out[meth]);
					prev[meth] = out[meth];
				}
				/* encodings and reconstructions: a finite value or an error */
				if (vc_encode_row(m, s, row, mu, err) == VC_OK)
					for (int j = 0; j < m->opt.latent_dim; j++)
						other_nan += !isfinite(mu[j]);
				if (vc_reconstruct_row(m, s, row, recon, NULL, err) == VC_OK)
					for (int j = 0; j < DIM; j++)
						other_nan += !isfinite(recon[j]);
				/* explanations: never an error; no value only where the contribution is +Inf */
				if (vc_reconstruct_row(m, s, row, recon, contrib, err) != VC_OK)
					other_nan++;
				else
					for (int j = 0; j < DIM; j++)
						other_nan += isnan(contrib[j]) || isinf(recon[j]) ||
							(isnan(recon[j]) && contrib[j] != INFINITY);
			}
			ok(nan == 0 && decreasing == 0 && errors == 0,
			   "%s, feature %d from %s1 to %sFLT_MAX: no NaN (%d), never decreasing (%d), "
			   "%d infinite scores", name, feat + 1, sign < 0 ? "-" : "", sign < 0 ? "-" : "",
			   nan, decreasing, infinite);
			ok(other_nan == 0, "%s, feature %d (%s): encodings and reconstructions finite or "
			   "an error, explanations without NaN", name, feat + 1, sign < 0 ? "negative" : "positive");
		}

	/* the reported case: 1e18 in one feature of an 8-feature model */
	{
		double		out[VC_N_METHODS];

		memset(row, 0, sizeof(row));
		row[0] = 1e18f;
		ok(vc_score_row(m, s, row, 7u, out, err) == VC_OK &&
		   !isnan(out[VC_METHOD_RECON_PROB]) && !isnan(out[VC_METHOD_ELBO]) &&
		   !isnan(out[VC_METHOD_MSE]),
		   "%s at 1e18: recon_prob %g, elbo %g, mse %g", name, out[VC_METHOD_RECON_PROB],
		   out[VC_METHOD_ELBO], out[VC_METHOD_MSE]);
	}
	for (int meth = 0; meth < VC_N_METHODS; meth++)
	{
		int			bad = 0;

		for (double c = 0.0; c <= 1.0; c += 0.125)
			bad += isnan(vc_threshold(m, meth, c));
		ok(bad == 0, "%s: vae_threshold(%s) is never NaN", name, vc_method_name(meth));
	}
	vc_scratch_free(s);
}

/* checks that scores are never NaN and never decrease away from the data (relu, tanh) */
int
main(void)
{
	VcModel    *relu = TrainModel(VC_ACT_RELU),
			   *tanh_m = TrainModel(VC_ACT_TANH);

	if (ok(relu && tanh_m, "two models trained"))
	{
		CheckModel(relu, "relu");
		CheckModel(tanh_m, "tanh");
	}
	vc_model_free(relu);
	vc_model_free(tanh_m);
	return done_testing();
}
