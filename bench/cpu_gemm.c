/*
 * cpu_gemm.c - the machine's single-precision GEMM ceiling, for bench/cpu.sh.
 *
 *   cpu_gemm SECONDS OP:M,N,K [OP:M,N,K ...]
 *
 * OP is NN, TN or NT: C (M x N) = op(A) op(B) with op(A) M x K and op(B)
 * K x N, all row-major, exactly the calls the extension makes per layer
 * (forward NN, weight gradient TN, input gradient NT).  Each shape is timed
 * for about SECONDS in three rounds; the best round counts.  Prints one line
 * per shape:  OP M N K GFLOP/s   (FLOPs = 2 M N K).
 * The thread count is OpenBLAS's (OPENBLAS_NUM_THREADS); the first line says
 * which.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* monotonic clock time in seconds */
static double
Now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* n floats in [-0.5, 0.5), a fixed function of the index; exits when out of memory */
static float *
RandomMatrix(size_t n)
{
	float	   *p = malloc(n * sizeof(float));
	size_t		i;

	if (!p)
	{
		fprintf(stderr, "cpu_gemm: out of memory\n");
		exit(1);
	}
	for (i = 0; i < n; i++)
		p[i] = (float) ((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
	return p;
}

/* seconds taken by `calls` identical sgemm calls */
static double
RunCalls(int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c,
		 long calls)
{
	double		t0 = Now();
	long		i;

	for (i = 0; i < calls; i++)
		cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
					tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f,
					a, ta ? m : k, b, tb ? k : n, 0.0f, c, n);
	return Now() - t0;
}

/*
 * Best GFLOP/s of three rounds of op (NN, TN or NT) on an M x N x K product,
 * each round a call count calibrated to take about seconds / 3.
 */
static double
TimeShape(const char *op, int m, int n, int k, double seconds)
{
	int			ta = op[0] == 'T',
				tb = op[1] == 'T';
	float	   *a = RandomMatrix((size_t) m * k);
	float	   *b = RandomMatrix((size_t) k * n);
	float	   *c = RandomMatrix((size_t) m * n);
	double		flops = 2.0 * m * n * k,
				best = 0.0;
	long		calls = 1;
	int			round;

	/* calibrate: how many calls take about seconds / 3 */
	for (;;)
	{
		double		dt = RunCalls(ta, tb, m, n, k, a, b, c, calls);

		if (dt >= seconds / 3 / 4 || calls > (1L << 30))
		{
			calls = (long) (calls * (seconds / 3) / (dt > 0 ? dt : 1e-9)) + 1;
			break;
		}
		calls *= 4;
	}
	for (round = 0; round < 3; round++)
	{
		double		rate = flops * calls / RunCalls(ta, tb, m, n, k, a, b, c, calls) / 1e9;
		if (rate > best)
			best = rate;
	}
	free(a);
	free(b);
	free(c);
	return best;
}

/* prints OpenBLAS's thread count, then each shape's best GFLOP/s */
int
main(int argc, char **argv)
{
	double		seconds;
	int			i;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s SECONDS OP:M,N,K [OP:M,N,K ...]\n", argv[0]);
		return 2;
	}
	seconds = atof(argv[1]);
	printf("threads %d\n", openblas_get_num_threads());
	for (i = 2; i < argc; i++)
	{
		char		op[3] = {0};
		int			m,
					n,
					k;

		if (sscanf(argv[i], "%2[NT]:%d,%d,%d", op, &m, &n, &k) != 4 ||
			strlen(op) != 2 || m < 1 || n < 1 || k < 1)
		{
			fprintf(stderr, "cpu_gemm: bad shape \"%s\" (want OP:M,N,K, OP in NN TN NT)\n",
					argv[i]);
			return 2;
		}
		printf("%s %d %d %d %.2f\n", op, m, n, k, TimeShape(op, m, n, k, seconds));
		fflush(stdout);
	}
	return 0;
}
