/*
 * vc_nn.c - batched forward and backward passes of the VAE.
 *
 * Loss per row (negative ELBO with KL weight beta):
 *   recon(x, z) + beta * KL(q(z|x) || N(0, I)),  z = mu + exp(lv / 2) * eps
 * gaussian recon: sum_j 0.5 * (log 2pi + lv_j + (x_j - m_j)^2 / exp(lv_j))
 * bernoulli recon: sum_j BCE-with-logits(l_j, x_j)
 * Log-variances (latent and decoder) are soft-bounded: lv = B tanh(raw / B),
 * which keeps exp(-lv) finite without the dead gradients of a hard clamp.
 *
 * A row model (m->schema) has a mixed head instead (vc_schema.h): a term per
 * column by its kind, NULL values skipped, NULL flags as Bernoulli terms.
 * Its code is in vc_nn_rows.c, apart from the array path's loops, which stay
 * as they are (their bits are pinned by tests).
 */
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "vc_nn.h"

#define LOSS_BLOCK 256

/* 1 for a hidden layer (activated); the encoder and decoder heads are linear */
static inline int
IsHidden(const VcModel *m, int l)
{
	return l != m->enc_head && l != m->dec_head;
}

/* the matrix a layer reads: input rows, the latent sample, or the previous layer */
static float *
LayerInput(const VcNet *net, int l)
{
	if (l == 0)
		return net->x;
	if (l == net->m->enc_head + 1)
		return net->z;
	return net->out[l - 1];
}

/*
 * Allocate a workspace for up to cap rows of model m; the backward buffers
 * and grads only with with_grads.  On VC_ENOMEM nothing stays allocated.
 */
VcStatus
vc_net_init(VcNet *net, const VcModel *m, int cap, int with_grads)
{
	int			l,
				widest = m->dim * 2;
	int			ok = 1;
	size_t		lvx_width = (size_t) m->dim;

	if (m->schema)
	{
		if (m->head_dim > widest)
			widest = m->head_dim;
		if ((size_t) m->head_dim > lvx_width)
			lvx_width = (size_t) m->head_dim;
	}

	memset(net, 0, sizeof(*net));
	net->m = m;
	net->cap = cap;
	net->latent = m->opt.latent_dim;
	for (l = 0; l < m->n_layers; l++)
	{
		if (m->layers[l].out > widest)
			widest = m->layers[l].out;
		net->out[l] = vc_alloc((size_t) cap * m->layers[l].out * sizeof(float));
		ok &= net->out[l] != NULL;
	}
	net->x = vc_alloc((size_t) cap * m->dim * sizeof(float));
	net->eps = vc_alloc0((size_t) cap * net->latent * sizeof(float));
	net->z = vc_alloc((size_t) cap * net->latent * sizeof(float));
	net->lvz = vc_alloc((size_t) cap * net->latent * sizeof(float));
	net->lvx = vc_alloc((size_t) cap * lvx_width * sizeof(float));
	if (m->schema)
	{
		net->xt = vc_alloc((size_t) cap * m->n_cols * sizeof(float));
		net->plan = vc_row_plan_create(m);
		ok &= net->xt != NULL && net->plan != NULL;
	}
	net->row_recon = vc_alloc((size_t) cap * sizeof(double));
	net->row_kl = vc_alloc((size_t) cap * sizeof(double));
	ok &= net->x && net->eps && net->z && net->lvz && net->lvx &&
		net->row_recon && net->row_kl;
	if (with_grads)
	{
		net->delta[0] = vc_alloc((size_t) cap * widest * sizeof(float));
		net->delta[1] = vc_alloc((size_t) cap * widest * sizeof(float));
		net->dlvz = vc_alloc((size_t) cap * net->latent * sizeof(float));
		net->grads = vc_alloc(m->n_params * sizeof(float));
		ok &= net->delta[0] && net->delta[1] && net->dlvz && net->grads;
	}
	if (!ok)
	{
		vc_net_free(net);
		return VC_ENOMEM;
	}
	return VC_OK;
}

/* release every buffer and zero the workspace (also fine on a zeroed VcNet) */
void
vc_net_free(VcNet *net)
{
	int			l;

	for (l = 0; l < VC_MAX_LAYERS; l++)
		vc_free(net->out[l]);
	vc_free(net->x);
	vc_free(net->xt);
	vc_row_plan_free(net->plan);
	vc_free(net->eps);
	vc_free(net->z);
	vc_free(net->lvz);
	vc_free(net->lvx);
	vc_free(net->row_recon);
	vc_free(net->row_kl);
	vc_free(net->delta[0]);
	vc_free(net->delta[1]);
	vc_free(net->dlvz);
	vc_free(net->grads);
	memset(net, 0, sizeof(*net));
}

/*
 * gb[j] = the sum over the n rows of d[r][j], rows in order.  The restrict
 * pointers and the width in a local let GCC vectorize across j: under
 * PostgreSQL's -fno-strict-aliasing it could not tell the stores into gb
 * from the layer's own fields and kept a scalar loop that reloaded the
 * width per element (13% of a 16-64-64-8 network's training time on one
 * thread).  Each gb[j] still adds its rows in the same order: same bits.
 */
static void
BiasGradient(float *restrict gb, const float *restrict d, int n, int out)
{
	int			r,
				j;

	memset(gb, 0, sizeof(float) * out);
	for (r = 0; r < n; r++)
	{
		const float *restrict dr = d + (size_t) r * out;

		for (j = 0; j < out; j++)
			gb[j] += dr[j];
	}
}

/*
 * y[r][j] = b[j] for the n rows, in about log2(n) copies: the first row,
 * then the rows so far doubled (a memcpy per row was a library call per row
 * and layer, 5% of a small network's training; GCC turns a plain copy loop
 * back into those calls)
 */
static void
BroadcastBias(float *y, const float *b, int n, int out)
{
	size_t		row = sizeof(float) * (size_t) out;
	int			filled;

	if (n < 1)
		return;
	memcpy(y, b, row);
	for (filled = 1; filled < n; filled *= 2)
		memcpy(y + (size_t) filled * out, y, row * (size_t) (filled < n - filled ? filled : n - filled));
}

/* Y = act(A W + b) for n rows */
static void
LayerForward(const VcNet *net, int l, int n)
{
	const VcModel *m = net->m;
	const VcLayer *ly = &m->layers[l];
	const float *w = m->params + ly->w_off;
	const float *b = m->params + ly->b_off;
	float	   *y = net->out[l];
	size_t		i,
				total = (size_t) n * ly->out;

	BroadcastBias(y, b, n, ly->out);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, ly->out, ly->in,
				1.0f, LayerInput(net, l), ly->in, w, ly->out, 1.0f, y, ly->out);
	if (!IsHidden(m, l))
		return;
	if (m->opt.activation == VC_ACT_RELU)
	{
		for (i = 0; i < total; i++)
			y[i] = y[i] > 0.0f ? y[i] : 0.0f;
	}
	else
	{
		for (i = 0; i < total; i++)
			y[i] = vc_tanhf(y[i]);
	}
}

/*
 * The latent loops below (the bound here, the sample in vc_net_sample_z, the
 * gradient in vc_net_backward_part) run over all n x latent elements at once
 * wherever the arrays are contiguous, and copy to and from the encoder
 * head's rows (mu, raw log-variance: 2 x latent wide) in a separate loop: a
 * loop over one row's latent units was too short for the vector loop GCC
 * makes (16 floats with AVX-512), so a latent of 8 ran its exp and tanh
 * scalar, 6% of a 16-64-64-8 network's training.  Every element gets the
 * same expression as before, so the same bits.
 */

/* encoder layers on net->x rows [0, n), then the bounded latent log-variances lvz */
void
vc_net_encode(VcNet *net, int n)
{
	const VcModel *m = net->m;
	int			l,
				r,
				zd = net->latent;
	size_t		k,
				total = (size_t) n * zd;
	const float *head;
	float	   *restrict lvz = net->lvz;	/* a local: see vc_net_decoder_logvar */

	for (l = 0; l <= m->enc_head; l++)
		LayerForward(net, l, n);
	head = net->out[m->enc_head];
	for (r = 0; r < n; r++)
		memcpy(lvz + (size_t) r * zd, head + (size_t) r * 2 * zd + zd, sizeof(float) * zd);
	for (k = 0; k < total; k++)
		lvz[k] = vc_bound_logvar(lvz[k], VC_LATENT_LOGVAR_BOUND);
}

/* z = mu + exp(lvz / 2) * eps for rows [0, n), or z = mu when use_eps is 0 */
void
vc_net_sample_z(VcNet *net, int n, int use_eps)
{
	const float *head = net->out[net->m->enc_head];
	const float *restrict lvz = net->lvz;
	const float *restrict eps = net->eps;
	float	   *restrict zs = net->z;
	int			zd = net->latent;
	int			r,
				j;
	size_t		k,
				total = (size_t) n * zd;

	/* the standard deviations first, over every element (see vc_net_encode) */
	if (use_eps)
		for (k = 0; k < total; k++)
			zs[k] = vc_expf(0.5f * lvz[k]);
	/* through restrict locals: no reload of net's fields per element */
	for (r = 0; r < n; r++)
	{
		const float *restrict mu = head + (size_t) r * 2 * zd;
		float	   *restrict z = zs + (size_t) r * zd;

		if (!use_eps)
		{
			memcpy(z, mu, sizeof(float) * zd);
			continue;
		}
		for (j = 0; j < zd; j++)
			z[j] = mu[j] + z[j] * eps[(size_t) r * zd + j];
	}
}

/* decoder on net->z rows [0, n): vc_net_decode_mean, then vc_net_decoder_logvar */
void
vc_net_decode(VcNet *net, int n)
{
	vc_net_decode_mean(net, n);
	vc_net_decoder_logvar(net, n);
}

/* the decoder's layers on net->z rows [0, n), up to the decoder head */
void
vc_net_decode_mean(VcNet *net, int n)
{
	const VcModel *m = net->m;
	int			l;

	for (l = m->enc_head + 1; l <= m->dec_head; l++)
		LayerForward(net, l, n);
}

/* bounded decoder log-variances of the gaussian head (no-op for bernoulli) */
void
vc_net_decoder_logvar(VcNet *net, int n)
{
	const VcModel *m = net->m;
	int			d = m->dim;

	if (m->schema)
		vc_rows_decoder_logvar(net, n);
	else if (m->opt.likelihood == VC_LIK_GAUSSIAN)
	{
		/*
		 * Locals, not net->lvx: a float store could otherwise change the
		 * pointer (no strict aliasing), and the loop would not vectorize
		 */
		const float *head = net->out[m->dec_head];
		float	   *lvx = net->lvx;
		int			r,
					j;

		for (r = 0; r < n; r++)
			for (j = 0; j < d; j++)
				lvx[(size_t) r * d + j] =
					vc_bound_logvar(head[(size_t) r * 2 * d + d + j],
									VC_DECODER_LOGVAR_BOUND);
	}
}

/*
 * Reconstruction NLL of x against decoder-head row r: float terms over
 * blocks of LOSS_BLOCK features, summed in double.  A row model's is the sum
 * of its columns' terms.
 */
double
vc_net_row_nll(const VcNet *net, int r, const float *x)
{
	const VcModel *m = net->m;
	const float *head = net->out[m->dec_head];
	int			d = m->dim,
				j,
				j0;
	double		nll = 0.0;
	float		terms[LOSS_BLOCK];

	if (m->schema)
		return vc_rows_row_nll(net, r, x);

	/* float terms in blocks (a vectorizable loop), summed in double */
	for (j0 = 0; j0 < d; j0 += LOSS_BLOCK)
	{
		int			nb = d - j0 < LOSS_BLOCK ? d - j0 : LOSS_BLOCK;

		if (m->opt.likelihood == VC_LIK_GAUSSIAN)
		{
			const float *mean = head + (size_t) r * 2 * d + j0;
			const float *lv = net->lvx + (size_t) r * d + j0;

			for (j = 0; j < nb; j++)
				terms[j] = vc_gauss_term(x[j0 + j], mean[j], lv[j]);
			for (j = 0; j < nb; j++)
				nll += 0.5 * (VC_LOG_2PI + terms[j]);
		}
		else
		{
			const float *logit = head + (size_t) r * d + j0;

			for (j = 0; j < nb; j++)
				terms[j] = vc_bernoulli_nll(x[j0 + j], logit[j]);
			for (j = 0; j < nb; j++)
				nll += terms[j];
		}
	}
	return nll;
}

/* KL(N(mu, e^lv) || N(0, I)) of encoder row r, in double */
double
vc_net_row_kl(const VcNet *net, int r)
{
	int			zd = net->latent,
				j;
	const float *mu = net->out[net->m->enc_head] + (size_t) r * 2 * zd;
	const float *lv = net->lvz + (size_t) r * zd;
	double		kl = 0.0;

	for (j = 0; j < zd; j++)
		kl += -0.5 * (1.0 + lv[j] - (double) mu[j] * mu[j] - exp((double) lv[j]));
	return kl;
}

/* row_recon of rows [0, n) against targets xt, and row_kl of rows [0, kl_rows) */
void
vc_net_losses(VcNet *net, const float *xt, int n, int kl_rows)
{
	int			d = net->m->schema ? net->m->n_cols : net->m->dim,
				r;

	for (r = 0; r < n; r++)
		net->row_recon[r] = vc_net_row_nll(net, r, xt + (size_t) r * d);
	for (r = 0; r < kl_rows; r++)
		net->row_kl[r] = vc_net_row_kl(net, r);
}

/* encode, sample z with eps, decode and score rows [0, n); returns their summed loss */
double
vc_net_forward(VcNet *net, int n, double beta)
{
	double		total = 0.0;
	int			r;

	vc_net_encode(net, n);
	vc_net_sample_z(net, n, 1);
	vc_net_decode(net, n);
	vc_net_losses(net, net->m->schema ? net->xt : net->x, n, n);
	for (r = 0; r < n; r++)
		total += net->row_recon[r] + beta * net->row_kl[r];
	return total;
}

/* dW = A^T D, db = column sums of D; then D W^T into dA (when dA is given) */
static void
LayerBackward(VcNet *net, int l, int n, const float *d, float *da)
{
	const VcModel *m = net->m;
	const VcLayer *ly = &m->layers[l];
	float	   *gw = net->grads + ly->w_off;
	float	   *gb = net->grads + ly->b_off;

	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ly->in, ly->out, n,
				1.0f, LayerInput(net, l), ly->in, d, ly->out, 0.0f, gw, ly->out);
	BiasGradient(gb, d, n, ly->out);
	if (da)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, ly->in, ly->out,
					1.0f, d, ly->out, m->params + ly->w_off, ly->out, 0.0f, da, ly->in);
}

/* multiply the gradient by the derivative of the activation that produced a */
static void
ActivationBackward(const VcModel *m, const float *a, float *da, size_t count)
{
	size_t		i;

	if (m->opt.activation == VC_ACT_RELU)
	{
		for (i = 0; i < count; i++)
			if (a[i] <= 0.0f)
				da[i] = 0.0f;
	}
	else
	{
		for (i = 0; i < count; i++)
			da[i] *= 1.0f - a[i] * a[i];
	}
}

/* gradients of the mean loss over n rows that are a whole minibatch */
void
vc_net_backward(VcNet *net, int n, double beta)
{
	vc_net_backward_part(net, n, n, beta);
}

/*
 * Back through the forward state of rows [0, n): head gradient, decoder,
 * reparameterization and KL, encoder.  The terms are scaled by 1 / n_total
 * (KL: beta / n_total), so the grads of the parts of a minibatch add up to
 * the minibatch's.  net->grads is overwritten.
 */
void
vc_net_backward_part(VcNet *net, int n, int n_total, double beta)
{
	const VcModel *m = net->m;
	const float *head = net->out[m->dec_head];
	const float *enc = net->out[m->enc_head];
	int			d = m->dim,
				zd = net->latent;
	float		s = 1.0f / n_total;
	float		bs = (float) (beta / n_total);
	float	   *cur = net->delta[0];
	float	   *nxt = net->delta[1];
	float	   *tmp;
	int			r,
				j,
				l;

	/* gradient of the reconstruction term at the decoder head */
	if (m->schema)
		vc_rows_head_gradient(net, n, s, cur);
	for (r = 0; r < n && !m->schema; r++)
	{
		const float *x = net->x + (size_t) r * d;

		if (m->opt.likelihood == VC_LIK_GAUSSIAN)
		{
			const float *mean = head + (size_t) r * 2 * d;
			const float *lv = net->lvx + (size_t) r * d;
			float	   *dm = cur + (size_t) r * 2 * d;
			float	   *dl = dm + d;

			for (j = 0; j < d; j++)
			{
				float		inv = vc_expf(-lv[j]);
				float		res = x[j] - mean[j];
				float		t = lv[j] / VC_DECODER_LOGVAR_BOUND;

				dm[j] = -res * inv * s;
				dl[j] = 0.5f * (1.0f - res * res * inv) * s * (1.0f - t * t);
			}
		}
		else
		{
			const float *logit = head + (size_t) r * d;
			float	   *dl = cur + (size_t) r * d;

			for (j = 0; j < d; j++)
				dl[j] = (vc_sigmoidf(logit[j]) - x[j]) * s;
		}
	}

	/* decoder, down to the gradient with respect to z */
	for (l = m->dec_head; l > m->enc_head; l--)
	{
		LayerBackward(net, l, n, cur, nxt);
		if (l > m->enc_head + 1)
			ActivationBackward(m, net->out[l - 1], nxt, (size_t) n * m->layers[l].in);
		tmp = cur;
		cur = nxt;
		nxt = tmp;
	}

	/*
	 * through the reparameterization and the KL term into the encoder head:
	 * the log-variances' gradients over every element into dlvz, then both
	 * halves of each head row (see vc_net_encode)
	 */
	{
		const float *restrict dz = cur;
		const float *restrict lv = net->lvz;
		const float *restrict eps = net->eps;
		float	   *restrict dlvz = net->dlvz;
		size_t		k,
					total = (size_t) n * zd;

		for (k = 0; k < total; k++)
		{
			float		sigma = vc_expf(0.5f * lv[k]);
			float		t = lv[k] / VC_LATENT_LOGVAR_BOUND;
			float		g = dz[k] * eps[k] * 0.5f * sigma + bs * 0.5f * (sigma * sigma - 1.0f);

			dlvz[k] = g * (1.0f - t * t);
		}
	}
	for (r = 0; r < n; r++)
	{
		const float *dz = cur + (size_t) r * zd;
		const float *mu = enc + (size_t) r * 2 * zd;
		float	   *dmu = nxt + (size_t) r * 2 * zd;

		for (j = 0; j < zd; j++)
			dmu[j] = dz[j] + bs * mu[j];
		memcpy(dmu + zd, net->dlvz + (size_t) r * zd, sizeof(float) * zd);
	}
	tmp = cur;
	cur = nxt;
	nxt = tmp;

	/* encoder */
	for (l = m->enc_head; l >= 0; l--)
	{
		LayerBackward(net, l, n, cur, l > 0 ? nxt : NULL);
		if (l > 0)
		{
			ActivationBackward(m, net->out[l - 1], nxt, (size_t) n * m->layers[l].in);
			tmp = cur;
			cur = nxt;
			nxt = tmp;
		}
	}
}
