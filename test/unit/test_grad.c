/*
 * test_grad.c - finite-difference checks of the analytic gradients.
 *
 * For every activation x likelihood pair and for a model with and without
 * hidden layers, the gradient of the minibatch loss (reconstruction +
 * beta * KL, through the reparameterization and both soft-bounded
 * log-variances) is compared with central differences computed in double
 * precision on a perturbed copy of the float32 parameters.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc_nn.h"

#define ROWS 4

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
	return done_testing();
}
