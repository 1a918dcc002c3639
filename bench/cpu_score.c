/*
 * bench/cpu_score.c - the core's scoring of bench/cpu.sh's KDD-like rows,
 * without PostgreSQL: per-row (vc_score_row, what vae_score runs) against
 * batched (vc_score_batch, what the set-returning vae_detect runs), for one
 * method.  Prints one JSON line: CPU and wall seconds of each, and how many
 * scores differ in any bit between the two (0 where the BLAS computes a row
 * of a product the same at any row count; docs/detect.md).
 *
 *   gcc -O3 -march=native -Isrc/core -o /tmp/cpu_score bench/cpu_score.c \
 *       src/core/vc_*.c -lopenblas -lm -lpthread      (every core source)
 *   OPENBLAS_NUM_THREADS=1 /tmp/cpu_score MODEL.hex ROWS.npy mse|recon_prob|elbo
 *
 * MODEL.hex: the model's bytes in hex (psql -Atc "SELECT encode(model, 'hex')
 * ..."); ROWS.npy: float32 rows of the model's width (numpy.save).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vc.h"

/* CPU seconds of this process, and wall seconds */
static double
Now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* the whole file, its length into *len; exits on failure */
static char *
ReadFile(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;

	if (!f)
	{
		perror(path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	*len = (size_t) ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(*len + 1);
	if (fread(buf, 1, *len, f) != *len)
		exit(2);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* a model from a file of hex digits (trailing white space allowed) */
static VcModel *
LoadModel(const char *path)
{
	size_t		len,
				n = 0;
	char	   *hex = ReadFile(path, &len);
	uint8_t    *bytes = malloc(len / 2 + 1);
	VcModel    *m = NULL;
	char		err[VC_ERRMSG_LEN];

	for (size_t i = 0; i + 1 < len && hex[i] > ' '; i += 2)
	{
		unsigned	v;

		sscanf(hex + i, "%2x", &v);
		bytes[n++] = (uint8_t) v;
	}
	if (vc_model_deserialize(bytes, n, &m, err) != VC_OK)
	{
		fprintf(stderr, "cpu_score: %s\n", err);
		exit(2);
	}
	free(bytes);
	free(hex);
	return m;
}

/* the rows of a float32 .npy file (version 1 header), their count into *n */
static float *
LoadNpy(const char *path, int width, int64_t *n)
{
	size_t		len,
				header;
	char	   *buf = ReadFile(path, &len);

	header = 10 + (size_t) ((unsigned char) buf[8] | (unsigned char) buf[9] << 8);
	*n = (int64_t) ((len - header) / sizeof(float) / width);
	return (float *) (buf + header);
}

int
main(int argc, char **argv)
{
	VcModel    *m;
	float	   *x;
	int64_t		n,
				differ = 0;
	int			method = -1;
	double	   *per_row,
			   *batched,
				out[VC_N_METHODS],
				t0,
				w0,
				cpu_row,
				wall_row,
				cpu_batch,
				wall_batch,
				sum = 0.0;
	char		err[VC_ERRMSG_LEN];

	if (argc != 4)
	{
		fprintf(stderr, "usage: cpu_score MODEL.hex ROWS.npy mse|recon_prob|elbo\n");
		return 2;
	}
	for (int k = 0; k < VC_N_METHODS; k++)
		if (strcmp(argv[3], vc_method_name(k)) == 0)
			method = k;
	if (method < 0)
		return 2;
	m = LoadModel(argv[1]);
	x = LoadNpy(argv[2], m->n_cols, &n);
	per_row = malloc(sizeof(double) * n);
	batched = malloc(sizeof(double) * n);

	{
		VcScratch  *s = vc_scratch_create(m);

		t0 = Now(CLOCK_PROCESS_CPUTIME_ID);
		w0 = Now(CLOCK_MONOTONIC);
		for (int64_t i = 0; i < n; i++)
		{
			if (vc_score_row(m, s, x + i * m->n_cols, 1u << method, out, err) != VC_OK)
				return 3;
			per_row[i] = out[method];
		}
		cpu_row = Now(CLOCK_PROCESS_CPUTIME_ID) - t0;
		wall_row = Now(CLOCK_MONOTONIC) - w0;
		vc_scratch_free(s);
	}
	{
		VcBatch    *b = vc_batch_create(m);
		int			rows = vc_batch_rows(b),
					bad;
		double	   *o = malloc(sizeof(double) * rows * VC_N_METHODS);

		t0 = Now(CLOCK_PROCESS_CPUTIME_ID);
		w0 = Now(CLOCK_MONOTONIC);
		for (int64_t at = 0; at < n; at += rows)
		{
			int			nb = n - at < rows ? (int) (n - at) : rows;

			if (vc_score_batch(m, b, x + at * m->n_cols, nb, 1u << method, o, &bad, err) != VC_OK)
				return 3;
			for (int r = 0; r < nb; r++)
				batched[at + r] = o[(size_t) r * VC_N_METHODS + method];
		}
		cpu_batch = Now(CLOCK_PROCESS_CPUTIME_ID) - t0;
		wall_batch = Now(CLOCK_MONOTONIC) - w0;
		vc_batch_free(b);
		free(o);
	}
	for (int64_t i = 0; i < n; i++)
	{
		differ += memcmp(&per_row[i], &batched[i], sizeof(double)) != 0;
		sum += batched[i];
	}
	printf("{\"method\": \"%s\", \"rows\": %lld, \"per_row_cpu\": %.4f, \"per_row_wall\": %.4f, "
		   "\"batched_cpu\": %.4f, \"batched_wall\": %.4f, \"differ\": %lld, \"sum\": %.17g}\n",
		   argv[3], (long long) n, cpu_row, wall_row, cpu_batch, wall_batch, (long long) differ, sum);
	return 0;
}
