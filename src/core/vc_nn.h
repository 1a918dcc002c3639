/*
 * vc_nn.h - batched forward and backward passes of the VAE (core-internal).
 *
 * Activations are row-major [rows x width] float32 matrices; every layer is
 * one cblas_sgemm over the whole minibatch.  All buffers live in a VcNet
 * workspace allocated once per training run (or per scoring scratch), so the
 * inner loop never allocates.
 */
#ifndef VC_NN_H
#define VC_NN_H

#include <math.h>

#include "vc.h"
#include "vc_math.h"

/*
 * A row model's columns grouped by what its head does with them, so that
 * the loss, its gradient, the log-variances and the input expansion run as
 * plain loops over index arrays (vc_nn_rows.c): continuous and boolean
 * columns (compact column, head unit, input unit), the NULL flags (column,
 * head unit, input unit), the columns without one, the categorical and
 * cyclic columns, and the raw log-variance units of the head.
 */
typedef struct VcRowPlan
{
	int			n_cont,
				n_bool,
				n_flag,
				n_noflag,
				n_other,
				n_lv;
	int		   *cont_col,
			   *cont_head,
			   *cont_in;
	int		   *bool_col,
			   *bool_head,
			   *bool_in;
	int		   *flag_col,
			   *flag_head,
			   *flag_in;
	int		   *noflag_col;
	int		   *other_col;
	int		   *lv_unit;
	int		   *buf;			/* every array above, one allocation */
} VcRowPlan;

typedef struct VcNet
{
	const VcModel *m;
	int			cap;			/* rows the buffers hold */
	int			latent;
	float	   *x;				/* [cap x dim] normalized input (a row model's:
								 * expanded, vc_schema_expand) */
	float	   *xt;				/* row models: [cap x n_cols] normalized compact
								 * rows, the decoder's targets; NULL for arrays */
	VcRowPlan  *plan;			/* row models: the columns by kind; else NULL */
	float	   *out[VC_MAX_LAYERS];	/* layer outputs (post-activation for hidden) */
	float	   *eps;			/* [cap x latent] standard normals */
	float	   *z;				/* [cap x latent] */
	float	   *lvz;			/* [cap x latent] bounded latent log-variance */
	float	   *lvx;			/* [cap x dim] bounded decoder log-variance (gaussian);
								 * row models: [cap x head_dim], at the index of
								 * each raw log-variance unit of the head */
	float	   *delta[2];		/* [cap x max width] backward ping-pong */
	float	   *dlvz;			/* [cap x latent] the latent log-variances'
								 * gradients, before they go into delta */
	float	   *grads;			/* [n_params] */
	double	   *row_recon;		/* [cap] per-row reconstruction NLL */
	double	   *row_kl;			/* [cap] per-row KL */
} VcNet;

VcStatus	vc_net_init(VcNet *net, const VcModel *m, int cap, int with_grads);
void		vc_net_free(VcNet *net);

/* encoder on net->x rows [0, n): fills the encoder head, lvz */
void		vc_net_encode(VcNet *net, int n);
/* z = mu + sigma * eps (eps already in net->eps); or z = mu when use_eps is 0 */
void		vc_net_sample_z(VcNet *net, int n, int use_eps);
/* decoder from net->z rows [0, n); fills the decoder head and lvx */
void		vc_net_decode(VcNet *net, int n);
/* the two halves of vc_net_decode: layer outputs, then the gaussian head's lvx */
void		vc_net_decode_mean(VcNet *net, int n);
void		vc_net_decoder_logvar(VcNet *net, int n);
/*
 * Per-row reconstruction NLL of target rows xt (stride dim; a row model's:
 * normalized compact rows, stride n_cols) against the decoder head rows
 * [0, n) -> row_recon; KL of rows' latent -> row_kl (ignored when kl_rows
 * is 0).
 */
void		vc_net_losses(VcNet *net, const float *xt, int n, int kl_rows);
/*
 * the two terms for one row: NLL of x (a row model's: a normalized compact
 * row) against decoder-head row r; KL of encoder row r
 */
double		vc_net_row_nll(const VcNet *net, int r, const float *x);
/*
 * A row model's column ci of normalized compact row xt against decoder-head
 * row r: the NLL of its value (0 when NULL) plus that of its NULL flag (or
 * log(rows + 2) for a NULL without a flag).  vc_net_row_nll is their sum,
 * in column order.
 */
double		vc_net_column_nll(const VcNet *net, int r, const float *xt, int ci);
double		vc_net_row_kl(const VcNet *net, int r);
/*
 * The training forward pass on rows [0, n) of net->x with net->eps: returns
 * the summed loss, recon + beta * KL, leaving the state vc_net_backward needs.
 */
double		vc_net_forward(VcNet *net, int n, double beta);
/*
 * Gradients of mean over n rows of (recon + beta * KL) into net->grads
 * (overwritten).  Needs the forward state of the same rows.
 */
void		vc_net_backward(VcNet *net, int n, double beta);
/* the same for n rows that are part of a minibatch of n_total: grads of their share */
void		vc_net_backward_part(VcNet *net, int n, int n_total, double beta);

/* ---- row models (vc_nn_rows.c) ---- */

/* the plan of m's schema (NULL when out of memory), and its release */
VcRowPlan  *vc_row_plan_create(const VcModel *m);
void		vc_row_plan_free(VcRowPlan *p);
/* a normalized compact row into network input in (vc_schema_expand, by the plan) */
void		vc_rows_expand(const VcNet *net, const float *xt, float *in);
/* row r of a minibatch from normalized compact row xt: input net->x, target net->xt */
void		vc_rows_gather(VcNet *net, int r, const float *xt);
/* the bounded log-variances of decoder-head rows [0, n) */
void		vc_rows_decoder_logvar(VcNet *net, int n);
/* vc_net_row_nll of a row model */
double		vc_rows_row_nll(const VcNet *net, int r, const float *xt);
/* the head gradient of rows [0, n) (targets net->xt), scaled by s, into d */
void		vc_rows_head_gradient(const VcNet *net, int n, float s, float *d);

#endif							/* VC_NN_H */
