/*
 * vgp_kernels.cu - the elementwise and reduction kernels of a training step.
 *
 * The GEMMs are cuBLAS's (vgp_engine_cuda.cu); everything between them is
 * here, fused so that each pass over an activation matrix happens once:
 * bias + activation, the whole latent layer (bias, bounded log-variance,
 * eps, z), and the decoder head's bias, likelihood, KL and output gradient.
 *
 * Determinism: no kernel uses atomics.  Every reduction (per-row losses,
 * bias gradients, the batch loss) has a fixed assignment of elements to
 * threads and a fixed combination tree, so a run is bit-for-bit repeatable
 * on the same GPU model for the same launch shapes.
 */
#include "vgp_kernels.cuh"

#define VGP_THREADS 256
#define VGP_MAX_BLOCKS 4096

/* grid size of a grid-stride loop over count elements: 1 to VGP_MAX_BLOCKS */
static inline unsigned
Blocks(size_t count)
{
	size_t		b = (count + VGP_THREADS - 1) / VGP_THREADS;

	if (b < 1)
		b = 1;
	return (unsigned) (b > VGP_MAX_BLOCKS ? VGP_MAX_BLOCKS : b);
}

#define GRID_STRIDE(i, count) \
	for (size_t i = (size_t) blockIdx.x * blockDim.x + threadIdx.x; i < (count); \
		 i += (size_t) gridDim.x * blockDim.x)

/* ---- gather ---- */

/* the current step's rows of the index array, copied from the resident rows into x */
__global__ void
GatherKernel(const float *__restrict__ rows, int dim, const int32_t *__restrict__ idx,
			 const VgpStep *steps, const VgpCtl *ctl, float *__restrict__ x, int n)
{
	int32_t		at = steps[ctl->k].at;

	GRID_STRIDE(i, (size_t) n * dim)
		VgpGatherAt(i, rows, dim, idx, at, x);
}

/* GatherKernel, grid-stride over n * dim */
void
vgp_launch_gather(cudaStream_t s, const float *rows, int dim, const int32_t *idx,
				  const VgpStep *steps, const VgpCtl *ctl, float *x, int n)
{
	GatherKernel<<<Blocks((size_t) n * dim), VGP_THREADS, 0, s>>>(rows, dim, idx, steps, ctl, x, n);
}

/* ---- bias + activation ---- */

/* y = act(y + b) over [n x width] */
__global__ void
BiasActKernel(float *__restrict__ y, const float *__restrict__ b, int n, int width, int act)
{
	GRID_STRIDE(i, (size_t) n * width)
		VgpBiasActAt(i, y, b, width, act);
}

/* BiasActKernel, grid-stride over n * width */
void
vgp_launch_bias_act(cudaStream_t s, float *y, const float *b, int n, int width, int act)
{
	BiasActKernel<<<Blocks((size_t) n * width), VGP_THREADS, 0, s>>>(y, b, n, width, act);
}

/* ---- latent layer ---- */

/* the latent layer of n rows, eps from the current step's key and counter */
__global__ void
LatentKernel(float *__restrict__ head, const float *__restrict__ b, float *__restrict__ lvz,
			 float *__restrict__ eps, float *__restrict__ z, int n, int zd,
			 const VgpStep *steps, const VgpCtl *ctl)
{
	const VgpStep *st = &steps[ctl->k];
	uint64_t	key = st->key;
	uint64_t	c0 = st->c0;

	GRID_STRIDE(i, (size_t) n * zd)
		VgpLatentAt(i, head, b, lvz, eps, z, zd, key, c0);
}

/* LatentKernel, grid-stride over n * zd */
void
vgp_launch_latent(cudaStream_t s, float *head, const float *b, float *lvz, float *eps,
				  float *z, int n, int zd, const VgpStep *steps, const VgpCtl *ctl)
{
	LatentKernel<<<Blocks((size_t) n * zd), VGP_THREADS, 0, s>>>(head, b, lvz, eps, z, n, zd,
																  steps, ctl);
}

/* ---- decoder head: loss and its gradient, one warp per row ---- */

/* sum of v over the 32 lanes of a warp, the same in every lane */
__device__ static inline double
WarpSum(double v)
{
	/* xor butterfly: the same tree every time, so the sum is reproducible */
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

/*
 * One warp per row of the decoder head: the lanes' shares of NLL and KL,
 * summed by WarpSum, give rowloss[r] = nll + beta * kl; the lanes also
 * write the head gradient when delta is not NULL.
 */
__global__ void
HeadLossKernel(const float *__restrict__ head, const float *__restrict__ b,
			   const float *__restrict__ x, int dim, int gaussian,
			   const float *__restrict__ enc, const float *__restrict__ lvz, int zd,
			   double beta, float scale, int n, double *__restrict__ rowloss,
			   float *__restrict__ delta)
{
	int			r = (int) ((blockIdx.x * (size_t) blockDim.x + threadIdx.x) >> 5);
	int			lane = threadIdx.x & 31;
	double		nll,
				kl;

	if (r >= n)
		return;					/* the whole warp leaves together */
	VgpHeadLane(r, lane, 32, head, b, x, dim, gaussian, enc, lvz, zd, scale, delta, &nll, &kl);
	nll = WarpSum(nll);
	kl = WarpSum(kl);
	if (lane == 0)
		rowloss[r] = nll + beta * kl;
}

/* HeadLossKernel with one warp (32 threads) per row */
void
vgp_launch_head_loss(cudaStream_t s, const float *head, const float *b, const float *x,
					 int dim, int gaussian, const float *enc, const float *lvz, int zd,
					 double beta, float scale, int n, double *rowloss, float *delta)
{
	unsigned	blocks = (unsigned) (((size_t) n * 32 + VGP_THREADS - 1) / VGP_THREADS);

	HeadLossKernel<<<blocks, VGP_THREADS, 0, s>>>(head, b, x, dim, gaussian, enc, lvz, zd,
												   beta, scale, n, rowloss, delta);
}

/* ---- batch loss ---- */

/*
 * One block: the sum of rowloss[0, n) in a fixed tree, added to ctl->loss
 * unless the run has diverged; a non-finite sum marks it diverged.
 */
__global__ void
ReduceLossKernel(const double *__restrict__ rowloss, int n, VgpCtl *ctl)
{
	__shared__ double part[VGP_THREADS];
	double		v = 0.0;

	for (int i = threadIdx.x; i < n; i += VGP_THREADS)
		v += rowloss[i];
	part[threadIdx.x] = v;
	__syncthreads();
	for (int w = VGP_THREADS / 2; w > 0; w >>= 1)
	{
		if (threadIdx.x < w)
			part[threadIdx.x] += part[threadIdx.x + w];
		__syncthreads();
	}
	if (threadIdx.x == 0 && !ctl->diverged)
	{
		/* like the CPU engine: the bad step's loss counts, nothing after it */
		ctl->loss += part[0];
		if (!isfinite(part[0]))
			ctl->diverged = 1;
	}
}

/* ReduceLossKernel, one block */
void
vgp_launch_reduce_loss(cudaStream_t s, const double *rowloss, int n, VgpCtl *ctl)
{
	ReduceLossKernel<<<1, VGP_THREADS, 0, s>>>(rowloss, n, ctl);
}

/* ---- bias gradients: column sums, 32 columns x 32 row lanes per block ---- */

/* gb = column sums of d [n x width]: 32 columns x 32 row lanes a block, a fixed tree */
__global__ void
ColSumKernel(const float *__restrict__ d, int n, int width, float *__restrict__ gb)
{
	__shared__ float part[32][33];
	int			col = blockIdx.x * 32 + threadIdx.x;
	float		v = 0.0f;

	if (col < width)
		for (int r = threadIdx.y; r < n; r += 32)
			v += d[(size_t) r * width + col];
	part[threadIdx.y][threadIdx.x] = v;
	__syncthreads();
	for (int w = 16; w > 0; w >>= 1)
	{
		if (threadIdx.y < w)
			part[threadIdx.y][threadIdx.x] += part[threadIdx.y + w][threadIdx.x];
		__syncthreads();
	}
	if (threadIdx.y == 0 && col < width)
		gb[col] = part[0][threadIdx.x];
}

/* ColSumKernel, a 32 x 32 block for every 32 columns */
void
vgp_launch_col_sum(cudaStream_t s, const float *d, int n, int width, float *gb)
{
	dim3		block(32, 32);

	ColSumKernel<<<(width + 31) / 32, block, 0, s>>>(d, n, width, gb);
}

/* ---- activation derivative ---- */

/* da *= act'(a) over count elements */
__global__ void
ActBackKernel(const float *__restrict__ a, float *__restrict__ da, size_t count, int act)
{
	GRID_STRIDE(i, count)
		VgpActBackAt(i, a, da, act);
}

/* ActBackKernel, grid-stride over count */
void
vgp_launch_act_back(cudaStream_t s, const float *a, float *da, size_t count, int act)
{
	ActBackKernel<<<Blocks(count), VGP_THREADS, 0, s>>>(a, da, count, act);
}

/* ---- reparameterization and KL gradient ---- */

/* gradient into the encoder head through the reparameterization and the KL */
__global__ void
ReparamBackKernel(const float *__restrict__ dz, const float *__restrict__ enc,
				  const float *__restrict__ lvz, const float *__restrict__ eps,
				  float *__restrict__ dhead, int n, int zd, float bs)
{
	GRID_STRIDE(i, (size_t) n * zd)
		VgpReparamBackAt(i, dz, enc, lvz, eps, dhead, zd, bs);
}

/* ReparamBackKernel, grid-stride over n * zd */
void
vgp_launch_reparam_back(cudaStream_t s, const float *dz, const float *enc, const float *lvz,
						const float *eps, float *dhead, int n, int zd, float beta_scale)
{
	ReparamBackKernel<<<Blocks((size_t) n * zd), VGP_THREADS, 0, s>>>(dz, enc, lvz, eps, dhead,
																	   n, zd, beta_scale);
}

/* ---- Adam (vc_adam_step) ---- */

/* Adam over all params with the current step's lr and c2; nothing once diverged */
__global__ void
AdamKernel(float *__restrict__ p, const float *__restrict__ g, float *__restrict__ m1,
		   float *__restrict__ m2, const uint8_t *__restrict__ wmask, size_t n_params,
		   const VgpStep *steps, const VgpCtl *ctl, float decay)
{
	float		lr,
				c2;

	if (ctl->diverged)
		return;
	lr = steps[ctl->k].lr;
	c2 = steps[ctl->k].c2;
	GRID_STRIDE(i, n_params)
		VgpAdamAt(i, p, g, m1, m2, wmask, lr, c2, decay);
}

/* AdamKernel, grid-stride over n_params */
void
vgp_launch_adam(cudaStream_t s, float *params, const float *g, float *m1, float *m2,
				const uint8_t *wmask, size_t n_params, const VgpStep *steps,
				const VgpCtl *ctl, float decay)
{
	AdamKernel<<<Blocks(n_params), VGP_THREADS, 0, s>>>(params, g, m1, m2, wmask, n_params,
														 steps, ctl, decay);
}

/* ---- step counter ---- */

/* move the control block to the next step of the table */
__global__ void
AdvanceKernel(VgpCtl *ctl)
{
	ctl->k++;
}

/* AdvanceKernel, one thread */
void
vgp_launch_advance(cudaStream_t s, VgpCtl *ctl)
{
	AdvanceKernel<<<1, 1, 0, s>>>(ctl);
}

/* ---- the RNG alone, for tests ---- */

/* out[i] = vc_train_normal_mixed(mixed_key, counter0 + i) */
__global__ void
NormalsKernel(uint64_t mixed_key, uint64_t counter0, float *out, size_t n)
{
	GRID_STRIDE(i, n)
		out[i] = vc_train_normal_mixed(mixed_key, counter0 + i);
}

/* NormalsKernel, with the key's first mix done on the host */
void
vgp_launch_normals(cudaStream_t s, uint64_t key, uint64_t counter0, float *out, size_t n)
{
	NormalsKernel<<<Blocks(n), VGP_THREADS, 0, s>>>(vc_splitmix64(key), counter0, out, n);
}

/* cudaSuccess when this build has code for the current device (probed on one kernel) */
cudaError_t
vgp_kernels_check(void)
{
	cudaFuncAttributes attr;

	return cudaFuncGetAttributes(&attr, HeadLossKernel);
}
