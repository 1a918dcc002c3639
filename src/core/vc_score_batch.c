/*
 * vc_score_batch.c - scoring blocks of rows: the encoder once over the
 * block, the decoder once over all its latent means (mse) and once over all
 * its latent draws (recon_prob, elbo), each layer one GEMM.
 *
 * A row's scores are computed from the same operations as vc_score_row
 * (vc_score.c) in the same order: the same normalization, the same draws
 * (vc_draw_latents, keyed by the row's own bits), the same likelihood terms
 * (vc_net_row_nll, vc_net_row_kl, vc_row_mse) and the same reductions.  The
 * one difference is the GEMMs' row count: vc_score_row multiplies 1 row
 * (encoder, mse decoder) or mc_samples rows (the draws), a block
 * vc_batch_rows times as many.  A row of a product is the same dot products
 * whatever the row count, but a BLAS may pick another kernel for another
 * size (OpenBLAS's small-matrix kernels), which may sum in another order:
 * then the two differ in the last bits (docs/scoring.md).  So that a row's
 * scores never depend on the rows scored with it, every block's GEMMs have
 * the same shapes: a short block is padded with zero rows.
 */
#include <stdio.h>
#include <string.h>

#include "vc_nn.h"
#include "vc_schema.h"
#include "vc_score.h"

/*
 * Latent points decoded per block, about.  The cost of recon_prob is mostly
 * per element (draws, log-variances, likelihood terms), not GEMM: on the
 * KDD-like network 512 and 2048 ran alike (bench/cpu_score.c), and 512
 * keeps a block's workspace in cache and small (-D for experiments).
 */
#ifndef BATCH_DECODE_ROWS
#define BATCH_DECODE_ROWS 512
#endif

struct VcBatch
{
	int			rows;			/* rows per block */
	int			width;			/* floats per raw row: m->n_cols */
	VcNet		net;			/* rows * max(1, mc_samples) rows */
	float	   *xn;				/* [rows x width] normalized rows */
	double	   *logp;			/* [mc_samples] */
	VcScratch  *scratch;		/* an ensemble's rows are scored one by one */
};

/*
 * Rows per block: BATCH_DECODE_ROWS latent draws, a multiple of 16 between
 * 16 and 256 (a function of the model only: the GEMM shapes are fixed)
 */
static int
BlockRows(const VcModel *m)
{
	int			L = m->opt.mc_samples > 1 ? m->opt.mc_samples : 1,
				b = BATCH_DECODE_ROWS / L / 16 * 16;

	return b < 16 ? 16 : (b > 256 ? 256 : b);
}

/* a workspace for blocks of m's rows; NULL when out of memory */
VcBatch *
vc_batch_create(const VcModel *m)
{
	VcBatch    *b = vc_alloc0(sizeof(VcBatch));
	int			L = m->opt.mc_samples > 1 ? m->opt.mc_samples : 1;

	if (!b)
		return NULL;
	b->rows = BlockRows(m);
	b->width = m->n_cols;
	b->xn = vc_alloc0(sizeof(float) * (size_t) b->rows * b->width);
	b->logp = vc_alloc(sizeof(double) * L);
	if (m->n_members > 1 && (b->scratch = vc_scratch_create(m)) == NULL)
	{
		vc_batch_free(b);
		return NULL;
	}
	if (!b->xn || !b->logp || vc_net_init(&b->net, m, b->rows * L, 0) != VC_OK)
	{
		vc_batch_free(b);
		return NULL;
	}
	/* the padding rows of a short block stay zero: finite, cheap */
	memset(b->net.x, 0, sizeof(float) * (size_t) b->rows * L * m->dim);
	memset(b->net.z, 0, sizeof(float) * (size_t) b->rows * L * m->opt.latent_dim);
	return b;
}

/* free a workspace (NULL is allowed) */
void
vc_batch_free(VcBatch *b)
{
	if (!b)
		return;
	vc_net_free(&b->net);
	vc_free(b->xn);
	vc_free(b->logp);
	vc_scratch_free(b->scratch);
	vc_free(b);
}

int
vc_batch_rows(const VcBatch *b)
{
	return b->rows;
}

/* mse of rows [0, n) from the decoder at their latent means */
static void
BatchMse(const VcModel *m, VcBatch *b, int n, double *out)
{
	VcNet	   *net = &b->net;
	const float *head;
	int			r;

	vc_net_sample_z(net, b->rows, 0);
	vc_net_decode_mean(net, b->rows);
	head = net->out[m->dec_head];
	for (r = 0; r < n; r++)
	{
		const float *xn = b->xn + (size_t) r * b->width;

		out[(size_t) r * VC_N_METHODS + VC_METHOD_MSE] = vc_overflowed(vc_mse(m, head, r, xn));
	}
}

/* recon_prob and elbo of rows [0, n) from their mc_samples draws, decoded at once */
static void
BatchDraws(const VcModel *m, VcBatch *b, int n, double *out)
{
	VcNet	   *net = &b->net;
	int			zd = m->opt.latent_dim,
				L = m->opt.mc_samples,
				r,
				l;
	const float *enc = net->out[m->enc_head];

	for (r = 0; r < n; r++)
	{
		const float *xn = b->xn + (size_t) r * b->width;

		vc_draw_latents(net, enc + (size_t) r * 2 * zd, net->lvz + (size_t) r * zd,
						vc_hash_row(xn, b->width, m->opt.seed ^ KEY_SCORE), L, r * L);
	}
	/* a short block's padding draws: zero, as the padding rows */
	if (n < b->rows)
		memset(net->z + (size_t) n * L * zd, 0, sizeof(float) * (size_t) (b->rows - n) * L * zd);
	vc_net_decode(net, b->rows * L);
	for (r = 0; r < n; r++)
	{
		const float *xn = b->xn + (size_t) r * b->width;
		double		mean_nll = 0.0;
		double	   *o = out + (size_t) r * VC_N_METHODS;

		for (l = 0; l < L; l++)
		{
			double		nll = vc_overflowed(vc_net_row_nll(net, r * L + l, xn));

			b->logp[l] = -nll;
			mean_nll += nll;
		}
		o[VC_METHOD_RECON_PROB] = vc_recon_prob(b->logp, L);
		o[VC_METHOD_ELBO] = vc_overflowed(mean_nll / L + vc_net_row_kl(net, r));
	}
}

VcStatus
vc_score_batch(const VcModel *m, VcBatch *b, const float *x, int n, unsigned methods,
			   double *out, int *bad, char *errmsg)
{
	VcNet	   *net = &b->net;
	int			d = m->dim,
				r,
				j;

	*bad = -1;
	if (n < 0 || n > b->rows)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "a block holds at most %d rows, got %d", b->rows, n);
		return VC_EINVAL;
	}

	/*
	 * An ensemble's score is the robust mean of its members' (vc_ensemble.c):
	 * row by row through vc_score_row, the same bits as vae_score's.
	 */
	if (m->n_members > 1)
	{
		for (r = 0; r < n; r++)
		{
			VcStatus	st = vc_score_row(m, b->scratch, x + (size_t) r * b->width, methods,
										  out + (size_t) r * VC_N_METHODS, errmsg);

			if (st != VC_OK)
			{
				*bad = r;
				return st;
			}
		}
		return VC_OK;
	}
	for (r = 0; r < n; r++)
	{
		const float *xr = x + (size_t) r * b->width;
		float	   *xn = b->xn + (size_t) r * b->width;

		if ((j = vc_normalize_row(m, xr, xn)) >= 0)
		{
			*bad = r;
			return vc_bad_feature(m, xr, j, errmsg);
		}
		if (m->schema)
			vc_rows_expand(net, xn, net->x + (size_t) r * d);
		else
			memcpy(net->x + (size_t) r * d, xn, sizeof(float) * d);
	}
	if (n < b->rows)
		memset(net->x + (size_t) n * d, 0, sizeof(float) * (size_t) (b->rows - n) * d);
	vc_net_encode(net, b->rows);
	if (methods & (1u << VC_METHOD_MSE))
		BatchMse(m, b, n, out);
	if (methods & ((1u << VC_METHOD_RECON_PROB) | (1u << VC_METHOD_ELBO)))
		BatchDraws(m, b, n, out);
	return VC_OK;
}
