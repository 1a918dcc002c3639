/*
 * test_grad.c - finite-difference checks of the analytic gradients.
 *
 * For every activation x likelihood pair and for a model with and without
 * hidden layers, the gradient of the minibatch loss (reconstruction +
 * beta * KL, through the reparameterization and both soft-bounded
 * log-variances) is compared with central differences computed in double
 * precision on a perturbed copy of the float32 parameters.  Also checked:
 * the pieces the CPU engine splits a step into add up to the whole step.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc_adam.h"
#include "vc_nn.h"
#include "vc_score.h"

#define ROWS 4

/* mean loss of n rows x with noise eps: copies them into net and runs the forward pass */
static double
BatchLoss(VcNet *net, const float *x, const float *eps, int n, double beta)
{
	memcpy(net->x, x, sizeof(float) * n * net->m->dim);
	memcpy(net->eps, eps, sizeof(float) * n * net->latent);
	return vc_net_forward(net, n, beta) / n;
}

/*
 * Checks every parameter; returns the number whose analytic and numeric
 * gradients disagree beyond a tolerance that float32 forward passes allow.
 */
static int
CheckModel(int likelihood, int activation, int n_hidden, double beta, double *worst)
{
	VcOptions	opt;
	VcModel    *m;
	VcNet		net;
	char		err[VC_ERRMSG_LEN];
	float		x[ROWS * 6],
				eps[ROWS * 3];
	float	   *analytic;
	size_t		i;
	int			bad = 0,
				dim = 6;

	/*
	 * The loss sums float32 terms, so the difference quotient carries noise
	 * of about 1e-7 * |term| / h: smooth (tanh) networks take a wide step;
	 * relu networks a narrow one, so a step rarely crosses a kink.
	 */
	float		step = activation == VC_ACT_TANH || n_hidden == 0 ? 1e-2f : 2e-3f;

	vc_options_init(&opt);
	opt.likelihood = likelihood;
	opt.activation = activation;
	opt.n_hidden = n_hidden;
	opt.hidden[0] = 5;
	opt.hidden[1] = 4;
	opt.latent_dim = 3;
	opt.seed = 7 + likelihood * 3 + activation * 5 + n_hidden;
	if (vc_options_resolve(&opt, 100, dim, err) != VC_OK ||
		vc_model_create(&m, &opt, dim, err) != VC_OK)
		return -1;
	vc_model_init_params(m);
	/* biases away from zero so relu kinks are unlikely near the test point */
	for (i = 0; i < m->n_params; i++)
		m->params[i] += 0.05f * (float) (2 * vc_uniform(99, i) - 1);
	for (i = 0; i < ROWS * (size_t) dim; i++)
		x[i] = likelihood == VC_LIK_BERNOULLI ? (float) vc_uniform(11, i)
			: (float) (2 * vc_uniform(11, i) - 1);
	vc_normals(13, 0, eps, ROWS * 3);
	vc_net_init(&net, m, ROWS, 1);

	BatchLoss(&net, x, eps, ROWS, beta);
	vc_net_backward(&net, ROWS, beta);
	analytic = malloc(sizeof(float) * m->n_params);
	memcpy(analytic, net.grads, sizeof(float) * m->n_params);

	*worst = 0;
	for (i = 0; i < m->n_params; i++)
	{
		float		saved = m->params[i];
		float		h = step * (fabsf(saved) > 1 ? fabsf(saved) : 1);
		double		up,
					down,
					numeric,
					err_abs;

		m->params[i] = saved + h;
		up = BatchLoss(&net, x, eps, ROWS, beta);
		m->params[i] = saved - h;
		down = BatchLoss(&net, x, eps, ROWS, beta);
		m->params[i] = saved;
		numeric = (up - down) / ((double) (saved + h) - (double) (saved - h));
		err_abs = fabs(numeric - analytic[i]) / (1e-2 + fabs(numeric) + fabs(analytic[i]));
		if (err_abs > *worst)
			*worst = err_abs;
		if (err_abs > 2e-2)
			bad++;
	}
	free(analytic);
	vc_net_free(&net);
	vc_model_free(m);
	return bad;
}

/*
 * The CPU engine splits a minibatch into two halves with their own
 * workspaces: the sum of the halves' gradients (each scaled by the whole
 * minibatch) must be the minibatch gradient, up to float rounding.
 */
static int
CheckSplit(int likelihood, double *worst)
{
	VcOptions	opt;
	VcModel    *m;
	VcNet		whole,
				half[2];
	char		err[VC_ERRMSG_LEN];
	float		x[5 * 6],
				eps[5 * 3];
	size_t		i;
	int			bad = 0,
				dim = 6,
				n = 5,
				h = 3;

	vc_options_init(&opt);
	opt.likelihood = likelihood;
	opt.n_hidden = 1;
	opt.hidden[0] = 5;
	opt.latent_dim = 3;
	opt.seed = 3;
	if (vc_options_resolve(&opt, 100, dim, err) != VC_OK ||
		vc_model_create(&m, &opt, dim, err) != VC_OK)
		return -1;
	vc_model_init_params(m);
	for (i = 0; i < (size_t) n * dim; i++)
		x[i] = (float) vc_uniform(5, i);
	vc_normals(17, 0, eps, (size_t) n * 3);
	vc_net_init(&whole, m, n, 1);
	vc_net_init(&half[0], m, h, 1);
	vc_net_init(&half[1], m, h, 1);
	BatchLoss(&whole, x, eps, n, 0.5);
	vc_net_backward(&whole, n, 0.5);
	BatchLoss(&half[0], x, eps, h, 0.5);
	vc_net_backward_part(&half[0], h, n, 0.5);
	BatchLoss(&half[1], x + h * dim, eps + h * 3, n - h, 0.5);
	vc_net_backward_part(&half[1], n - h, n, 0.5);
	*worst = 0;
	for (i = 0; i < m->n_params; i++)
	{
		double		a = whole.grads[i],
					b = (double) half[0].grads[i] + half[1].grads[i],
					e = fabs(a - b) / (1e-3 + fabs(a));

		if (e > *worst)
			*worst = e;
		if (e > 1e-4)
			bad++;
	}
	vc_net_free(&whole);
	vc_net_free(&half[0]);
	vc_net_free(&half[1]);
	vc_model_free(m);
	return bad;
}

/*
 * An Adam step split into parameter ranges (one per thread), with the
 * gradient given as two halves, must give exactly the bits of the whole step
 * on the summed gradient: the model may not depend on where the ranges fall.
 */
static int
CheckAdamSplit(void)
{
	VcOptions	opt;
	VcModel    *a,
			   *b;
	VcAdam		sa,
				sb;
	char		err[VC_ERRMSG_LEN];
	float	   *g0,
			   *g1,
			   *g;
	size_t		i,
				np;
	int			step,
				same;

	vc_options_init(&opt);
	opt.n_hidden = 1;
	opt.hidden[0] = 7;
	opt.latent_dim = 3;
	opt.weight_decay = 0.01;
	if (vc_options_resolve(&opt, 100, 5, err) != VC_OK ||
		vc_model_create(&a, &opt, 5, err) != VC_OK ||
		vc_model_create(&b, &opt, 5, err) != VC_OK)
		return 0;
	vc_model_init_params(a);
	vc_model_init_params(b);
	np = a->n_params;
	g0 = malloc(sizeof(float) * np);
	g1 = malloc(sizeof(float) * np);
	g = malloc(sizeof(float) * np);
	vc_adam_init(&sa, np);
	vc_adam_init(&sb, np);
	for (step = 0; step < 3; step++)
	{
		for (i = 0; i < np; i++)
		{
			g0[i] = vc_normal(21, step * np + i);
			g1[i] = vc_normal(22, step * np + i);
			g[i] = g0[i] + g1[i];
		}
		vc_adam_step(a, &sa, g);
		vc_adam_begin_step(&sb, b->opt.learning_rate);
		vc_adam_update(b, &sb, g0, g1, 0, 13);
		vc_adam_update(b, &sb, g0, g1, 13, np / 2 + 1);
		vc_adam_update(b, &sb, g0, g1, np / 2 + 1, np);
	}
	same = memcmp(a->params, b->params, sizeof(float) * np) == 0 &&
		memcmp(sa.m1, sb.m1, sizeof(float) * np) == 0 &&
		memcmp(sa.m2, sb.m2, sizeof(float) * np) == 0;
	vc_adam_free(&sa);
	vc_adam_free(&sb);
	free(g0);
	free(g1);
	free(g);
	vc_model_free(a);
	vc_model_free(b);
	return same;
}

/*
 * The score sample for vae_threshold is scored in blocks of rows on two
 * threads; each row's scores must be those vc_score_row gives it, up to the
 * summation order of the GEMMs.
 */
static int
CheckScoreSample(int likelihood, double *worst)
{
	VcOptions	opt;
	VcModel    *m;
	VcScratch  *s;
	VcRowRef	refs[150];
	int64_t		order[150];
	float		rows[150 * 7];
	float		sorted[VC_N_METHODS][150];
	char		err[VC_ERRMSG_LEN];
	int			i,
				j,
				k,
				bad = 0,
				n = 150,
				dim = 7;

	vc_options_init(&opt);
	opt.likelihood = likelihood;
	opt.n_hidden = 1;
	opt.hidden[0] = 6;
	opt.latent_dim = 2;
	opt.mc_samples = 5;
	if (vc_options_resolve(&opt, n, dim, err) != VC_OK ||
		vc_model_create(&m, &opt, dim, err) != VC_OK)
		return -1;
	vc_model_init_params(m);
	for (j = 0; j < dim; j++)
	{
		m->center[j] = 0.0f;
		m->scale[j] = 1.0f;
	}
	for (i = 0; i < n * dim; i++)
		rows[i] = (float) vc_uniform(8, i);
	for (i = 0; i < n; i++)
	{
		refs[i].row = rows + i * dim;
		refs[i].hash = 0;
		order[i] = n - 1 - i;
	}
	s = vc_scratch_create(m);
	for (i = 0; i < n; i++)
	{
		double		sc[VC_N_METHODS];

		vc_score_row(m, s, refs[i].row, (1u << VC_N_METHODS) - 1, sc, err);
		for (k = 0; k < VC_N_METHODS; k++)
		{
			float		v = (float) sc[k];
			int			at = i;

			/* insertion sort: the sample is stored sorted */
			while (at > 0 && sorted[k][at - 1] > v)
			{
				sorted[k][at] = sorted[k][at - 1];
				at--;
			}
			sorted[k][at] = v;
		}
	}
	vc_scratch_free(s);
	if (vc_record_score_distribution(m, refs, order, n, NULL, err) != VC_OK ||
		m->n_scores != n)
	{
		vc_model_free(m);
		return -1;
	}
	*worst = 0;
	for (k = 0; k < VC_N_METHODS; k++)
		for (i = 0; i < n; i++)
		{
			double		e = fabs((double) m->scores[k][i] - sorted[k][i]) /
				(1e-6 + fabs(sorted[k][i]));

			if (e > *worst)
				*worst = e;
			if (e > 1e-4)
				bad++;
		}
	vc_model_free(m);
	return bad;
}

/* TAP: analytic gradients, split minibatches, the batched score sample and split Adam steps */
int
main(void)
{
	int			lik,
				act,
				hid;

	for (lik = 0; lik <= 1; lik++)
		for (act = 0; act <= 1; act++)
			for (hid = 0; hid <= 2; hid++)
			{
				double		worst;
				int			bad = CheckModel(lik, act, hid, 0.7, &worst);

				ok(bad == 0, "gradients match finite differences: %s, %s, %d hidden layers "
				   "(worst relative error %.2e, %d mismatches)",
				   vc_likelihood_name(lik), vc_activation_name(act), hid, worst, bad);
			}
	for (lik = 0; lik <= 1; lik++)
	{
		double		worst;
		int			bad = CheckSplit(lik, &worst);

		ok(bad == 0, "two half-minibatch gradients sum to the minibatch gradient: %s "
		   "(worst relative difference %.2e)", vc_likelihood_name(lik), worst);
	}
	for (lik = 0; lik <= 1; lik++)
	{
		double		worst;
		int			bad = CheckScoreSample(lik, &worst);

		ok(bad == 0, "the batched score sample equals vc_score_row row by row: %s "
		   "(worst relative difference %.2e)", vc_likelihood_name(lik), worst);
	}
	ok(CheckAdamSplit(), "an Adam step split into parameter ranges gives the whole step's bits");
	return done_testing();
}
