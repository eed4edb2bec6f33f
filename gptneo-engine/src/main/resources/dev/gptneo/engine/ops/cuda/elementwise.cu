// Embedding, layer norm, the linear layers' epilogues, casts and row gathers. Activations are fp32
// (tokens, cols) row-major. Kernels that feed a GEMM also write a 16-bit copy of their output
// (out_half; 0 when the GEMM runs in fp32), so the GEMM needs no separate cast.
// Suffixes: _f32 / _f16 / _bf16 name the 16-bit (or fp32) type T of weights and copies.
#include "common.cuh"

// out[t] = wte[ids[t]] + wpe[positions[t]]; one block per token.
template <typename T>
__device__ void embed(const T* wte, const T* wpe, const int* ids, const int* positions, float* out, int hidden) {
  int t = blockIdx.x;
  const T* te = wte + (long long) ids[t] * hidden;
  const T* pe = wpe + (long long) positions[t] * hidden;
  float* o = out + (long long) t * hidden;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) o[i] = to_float(te[i]) + to_float(pe[i]);
}

#define NORM_LANES 256  // layernorm's blockDim (the host's ROW_THREADS): a fused gemv sums a row as its blocks do

// v = xr[i .. i + 3] where the row is 4-wide (vec), else xr[i] and three times fill; plus xb's
// elements when xb != 0 (a residual's pending bias, added as bias_act adds it: the same bits).
__device__ __forceinline__ void row_values(const float* xr, const float* xb, int i, bool vec, float fill,
                                           float v[4]) {
  if (vec) {
    load4(xr + i, v);
    if (xb) {
      float b[4];
      load4(xb + i, b);
#pragma unroll
      for (int k = 0; k < 4; k++) v[k] += b[k];
    }
  } else {
    v[0] = xb ? xr[i] + xb[i] : xr[i];
    v[1] = v[2] = v[3] = fill;
  }
}

// Mean and 1 / sqrt(var + eps) of the row xr (cols) [+ xb], returned to every thread of the
// block. Two passes (the mean, then the squared deviations), as the CPU reference does. The row
// is summed by the block's first imin(lanes, blockDim) threads, 16 bytes a thread where cols % 4
// == 0; threads past them add nothing, which leaves block_sum's bits alone, so a gemv of blockDim
// >= lanes = 256 gets layernorm's statistics bit for bit.
__device__ __forceinline__ void row_stats(const float* xr, const float* xb, int cols, float eps, int lanes,
                                          float* scratch, float& mean, float& rstd) {
  const bool vec = (cols & 3) == 0;
  const int step = vec ? 4 : 1, stride = step * imin(lanes, blockDim.x);
  const int first = (int) threadIdx.x < lanes ? step * threadIdx.x : cols;
  float s = 0.f;
  for (int i = first; i < cols; i += stride) {
    float v[4];
    row_values(xr, xb, i, vec, 0.f, v);
    s += (v[0] + v[1]) + (v[2] + v[3]);
  }
  mean = block_sum(s, scratch) / cols;
  float q = 0.f;
  for (int i = first; i < cols; i += stride) {
    float v[4];
    row_values(xr, xb, i, vec, mean, v);
#pragma unroll
    for (int k = 0; k < 4; k++) q += (v[k] - mean) * (v[k] - mean);
  }
  rstd = 1.f / sqrtf(block_sum(q, scratch) / cols + eps);
}

// v = (v - mean) * rstd * g + b for 8 elements (g and b from the same k): layernorm's expression,
// so its bits.
__device__ __forceinline__ void normalize8(float v[8], const float* g, const float* b, float mean, float rstd) {
#pragma unroll
  for (int h = 0; h < 8; h += 4) {
    float gg[4], bb[4];
    load4(g + h, gg);
    load4(b + h, bb);
#pragma unroll
    for (int e = 0; e < 4; e++) v[h + e] = (v[h + e] - mean) * rstd * gg[e] + bb[e];
  }
}

// out = (x - mean) / sqrt(var + eps) * gamma + beta per row; one block per row (row_stats). Rows
// of cols % 4 == 0 are read and written 16 bytes a thread at a time (the row comes from L1 after
// the first pass). out == 0: the 16-bit copy alone (a layer norm whose only reader is a GEMM on it).
// x_bias != 0: x is a residual stream whose last linear layer left its bias to this kernel (the
// host's deferred bias): the row is x + x_bias, which is also written back to x, as bias_act would
// have left it.
template <typename T>
__device__ void layernorm(float* x, const float* gamma, const float* beta, float eps, float* out, T* out_half,
                          int cols, const float* x_bias) {
  __shared__ float scratch[32];
  const long long row = blockIdx.x;
  float* xr = x + row * cols;
  const bool vec = (cols & 3) == 0;
  const int step = vec ? 4 : 1, first = step * threadIdx.x, stride = step * blockDim.x;
  float mean, rstd;
  row_stats(xr, x_bias, cols, eps, blockDim.x, scratch, mean, rstd);  // its barriers end every read of x
  for (int i = first; i < cols; i += stride) {
    if (vec) {
      float v[4], g[4], b[4];
      row_values(xr, x_bias, i, true, 0.f, v);
      if (x_bias) store4(xr + i, v);
      load4(gamma + i, g);
      load4(beta + i, b);
#pragma unroll
      for (int k = 0; k < 4; k++) v[k] = (v[k] - mean) * rstd * g[k] + b[k];
      if (out) store4(out + row * cols + i, v);
      if (out_half) store4(out_half + row * cols + i, v);
    } else {
      const float r = x_bias ? xr[i] + x_bias[i] : xr[i];
      if (x_bias) xr[i] = r;
      const float v = (r - mean) * rstd * gamma[i] + beta[i];
      if (out) out[row * cols + i] = v;
      if (out_half) store(out_half + row * cols + i, v);
    }
  }
}

// y = act(y + bias) in place over (rows, cols), after a GEMM wrote y. bias may be 0; act is
// gelu_new when gelu != 0, else the identity. half_only: the result goes to y_half alone (the
// MLP's hidden layer, which only the next GEMM reads: 6 bytes an element moved instead of 10).
// cols % 4 == 0: grid (ceil(cols / (4 blockDim)), min(rows, 65535)), a thread per 4 elements of a
// row (16-byte loads, no index division), rows strided by gridDim.y; else a grid-stride loop over
// single elements. The same arithmetic per element either way.
template <typename T>
__device__ void bias_act(float* y, const float* bias, T* y_half, int rows, int cols, int gelu, int half_only) {
  if ((cols & 3) == 0) {
    const int c = 4 * (blockIdx.x * blockDim.x + threadIdx.x);
    if (c >= cols) return;
    float b[4] = {0.f, 0.f, 0.f, 0.f};
    if (bias) load4(bias + c, b);
    for (int r = blockIdx.y; r < rows; r += gridDim.y) {
      const long long at = (long long) r * cols + c;
      float v[4];
      load4(y + at, v);
#pragma unroll
      for (int k = 0; k < 4; k++) {
        if (bias) v[k] += b[k];
        if (gelu) v[k] = gelu_new(v[k]);
      }
      if (!half_only) store4(y + at, v);
      if (y_half) store4(y_half + at, v);
    }
    return;
  }
  long long n = (long long) rows * cols;
  long long stride = (long long) gridDim.x * blockDim.x;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    float v = y[i];
    if (bias) v += bias[i % cols];
    if (gelu) v = gelu_new(v);
    if (!half_only) y[i] = v;
    if (y_half) store(y_half + i, v);
  }
}

// out[i] = (T) x[i]: activations without a 16-bit copy, and fp32 weights converted on upload.
template <typename T>
__device__ void cast(const float* x, T* out, int n) {
  long long stride = (long long) gridDim.x * blockDim.x;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) store(out + i, x[i]);
}

#define GEMV_ROWS 4          // most rows of x: decode at batch <= 4
#define GEMV_COLS 8          // output columns per block
#define GEMV_MAX_THREADS 512 // blockDim: a multiple of 32 up to this; its warps split each column's k range
#define GEMV_THREADS 256     // the blockDim of gemv_T (2-4 rows); gemv1_T's is the host's choice

// y (rows, out) fp32 = [y +] act(x (rows, in) fp32 times w^T + bias), w (out, in) row-major in T;
// rows <= 4, in % 8 == 0: decode at small batch, where a linear layer is one pass over the weights
// and its epilogue (bias, gelu_new, residual add, 16-bit copy) costs no launch of its own.
// A block owns GEMV_COLS columns and one slice of k (blockIdx.y: slice_len elements from
// blockIdx.y * slice_len); thread t reads 16 bytes of each of their weight rows at
// k = 8 t + 8 blockDim i, so a block keeps 128 bytes a thread of weights in flight (the host picks
// blockDim so that the passes cover k evenly: 320 threads for 2,560), multiplies by x (fp32, from the cache) and the
// partial sums meet in shared memory. With one slice the block applies the epilogue. With several
// (gridDim.y > 1: more blocks, so that few columns still fill the device) each block writes its
// sums to partial (slices, rows, out), and the last block of a column group to arrive (tickets,
// one int per group, zero between launches) adds the slices in slice order: the same bits
// whatever the order blocks ran in. R: the rows the block's registers hold (1, or GEMV_ROWS: a
// kernel of its own, as registers are allocated for the larger case). Grid: (ceil(out / 8), slices).
// NORM (gemv1_ln_T): x is the residual stream and the layer norm before the linear layer
// (gamma, beta, eps) is fused in: each block takes its rows' statistics (row_stats) and normalizes
// x as it reads it, with layernorm's arithmetic, so at blockDim >= 256 the bits of layernorm then
// gemv, one launch and one pass over x fewer.
template <typename T, int R, bool NORM>
__device__ void gemv(const float* x, int rows, int in, const T* w, int out, float* y, const float* bias, T* y_half,
                     int accumulate, int gelu, int slice_len, float* partial, int* tickets, const float* gamma,
                     const float* beta, float eps) {
  __shared__ float sums[GEMV_MAX_THREADS / 32][R][GEMV_COLS];
  __shared__ int last;
  __shared__ float scratch[NORM ? 32 : 1];
  __shared__ float stats[2][R];  // NORM: each row's mean and rstd (in shared memory: registers are full)
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int o0 = blockIdx.x * GEMV_COLS;
  const int k_end = imin(in, ((int) blockIdx.y + 1) * slice_len);
  const int k_first = blockIdx.y * slice_len + 8 * tid;
  if (k_first < k_end)  // this thread's first weights, fetched while the kernel before may still run
#pragma unroll
    for (int c = 0; c < GEMV_COLS; c++)
      if (o0 + c < out) prefetch_l2(w + (long long) (o0 + c) * in + k_first);
  after_previous_kernel();
  if (NORM) {
    for (int r = 0; r < rows; r++) {
      float mean, rstd;
      row_stats(x + (long long) r * in, nullptr, in, eps, NORM_LANES, scratch, mean, rstd);
      if (tid == 0) stats[0][r] = mean, stats[1][r] = rstd;
    }
    __syncthreads();
  }
  float acc[R][GEMV_COLS];
#pragma unroll
  for (int r = 0; r < R; r++)
#pragma unroll
    for (int c = 0; c < GEMV_COLS; c++) acc[r][c] = 0.f;
  for (int k = k_first; k < k_end; k += 8 * blockDim.x) {
    Packed8<T> wp[GEMV_COLS];  // all columns' loads issued before any is used
#pragma unroll
    for (int c = 0; c < GEMV_COLS; c++) {
      if (o0 + c < out) wp[c] = load_packed8(w + (long long) (o0 + c) * in + k);
      else wp[c] = Packed8<T>{};
    }
#pragma unroll
    for (int r = 0; r < R; r++) {
      if (r < rows) {
        float xv[8];
        load8(x + (long long) r * in + k, xv);
        if (NORM) normalize8(xv, gamma + k, beta + k, stats[0][r], stats[1][r]);
#pragma unroll
        for (int c = 0; c < GEMV_COLS; c++) {
          float wv[8];
          unpack8(wp[c], wv);
#pragma unroll
          for (int e = 0; e < 8; e++) acc[r][c] += xv[e] * wv[e];
        }
      }
    }
  }
#pragma unroll
  for (int r = 0; r < R; r++) {
#pragma unroll
    for (int c = 0; c < GEMV_COLS; c++) {
      float v = warp_sum(acc[r][c]);
      if (lane == 0) sums[warp][r][c] = v;
    }
  }
  __syncthreads();
  const int r = tid / GEMV_COLS, c = tid % GEMV_COLS, o = o0 + c;
  const bool mine = tid < R * GEMV_COLS && r < rows && o < out;  // a thread per output of the block
  float v = 0.f;
  if (mine)
    for (int q = 0; q < (int) blockDim.x / 32; q++) v += sums[q][r][c];
  if (gridDim.y == 1) {
    if (mine) linear_epilogue(v, r, o, out, y, bias, y_half, accumulate, gelu);
    return;
  }
  if (mine) partial[((long long) blockIdx.y * rows + r) * out + o] = v;
  __syncthreads();  // the block's sums are written
  if (tid == 0) last = take_ticket(tickets + blockIdx.x, gridDim.y);
  __syncthreads();
  if (!last) return;
  if (mine) {
    float total = 0.f;
    for (int s = 0; s < (int) gridDim.y; s++) total += load_global(partial + ((long long) s * rows + r) * out + o);
    linear_epilogue(total, r, o, out, y, bias, y_half, accumulate, gelu);
  }
}

// y (rows, out) = [y +] act(the sum over slices of partial (slices, rows, out), slice 0 first, + bias):
// the second stage of a linear layer split over k (gemm_rows, and cuBLAS' split-k GEMMs). Grid-stride.
template <typename T>
__device__ void sum_slices(const float* partial, int slices, int rows, int out, float* y, const float* bias,
                           T* y_half, int accumulate, int gelu) {
  const long long n = (long long) rows * out, stride = (long long) gridDim.x * blockDim.x;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    float v = 0.f;
    for (int s = 0; s < slices; s++) v += partial[s * n + i];
    linear_epilogue(v, (int) (i / out), (int) (i % out), out, y, bias, y_half, accumulate, gelu);
  }
}

// One gemv kernel: NAME<<<(ceil(out / 8), slices), threads>>>; gamma, beta and eps are read by the _ln kernel
// only. It is one-row only: at four rows the normalization's registers would spill.
#define GEMV_KERNEL(NAME, T, R, NORM, THREADS, BLOCKS)                                                       \
  extern "C" __global__ void __launch_bounds__(THREADS, BLOCKS)                                              \
      NAME(const float* x, int rows, int in, const T* w, int out, float* y, const float* bias, T* y_half,       \
           int accumulate, int gelu, int slice_len, float* partial, int* tickets, const float* gamma,            \
           const float* beta, float eps) {                                                                       \
    gemv<T, R, NORM>(x, rows, in, w, out, y, bias, y_half, accumulate, gelu, slice_len, partial, tickets, gamma, \
                     beta, eps);                                                                                 \
  }

#define ELEMENTWISE(S, T, GEMV_BLOCKS, GEMV1_BLOCKS)                                                                                  \
  extern "C" __global__ void embed_##S(const T* wte, const T* wpe, const int* ids, const int* positions,   \
                                       float* out, int hidden) {                                            \
    after_previous_kernel();                                                                                \
    embed(wte, wpe, ids, positions, out, hidden);                                                           \
  }                                                                                                         \
  extern "C" __global__ void layernorm_##S(float* x, const float* gamma, const float* beta, float eps,       \
                                           float* out, T* out_half, int cols, const float* x_bias) {       \
    after_previous_kernel();                                                                                \
    layernorm(x, gamma, beta, eps, out, out_half, cols, x_bias);                                            \
  }                                                                                                         \
  extern "C" __global__ void bias_act_##S(float* y, const float* bias, T* y_half, int rows, int cols,       \
                                          int gelu, int half_only) {                                        \
    after_previous_kernel();                                                                                \
    bias_act(y, bias, y_half, rows, cols, gelu, half_only);                                                 \
  }                                                                                                         \
  extern "C" __global__ void cast_##S(const float* x, T* out, int n) {                                      \
    after_previous_kernel();                                                                                \
    cast(x, out, n);                                                                                        \
  }                                                                                                         \
  extern "C" __global__ void sum_slices_##S(const float* partial, int slices, int rows, int out, float* y,   \
                                            const float* bias, T* y_half, int accumulate, int gelu) {       \
    after_previous_kernel();                                                                                \
    sum_slices<T>(partial, slices, rows, out, y, bias, y_half, accumulate, gelu);                           \
  }                                                                                                         \
  GEMV_KERNEL(gemv_##S, T, GEMV_ROWS, false, GEMV_THREADS, GEMV_BLOCKS)                                      \
  GEMV_KERNEL(gemv1_##S, T, 1, false, GEMV_MAX_THREADS, GEMV1_BLOCKS)                                        \
  GEMV_KERNEL(gemv1_ln_##S, T, 1, true, GEMV_MAX_THREADS, GEMV1_BLOCKS)

// GEMV_BLOCKS: resident blocks of 256 per multiprocessor the registers of the 4-row gemv must
// allow: three for 16-bit weights (packed, 4 registers per 8 elements; at most 85 registers), so
// the 320 blocks of a 2,560-column layer run in one wave on an H100's 132 multiprocessors; fp32
// weights need 8 per 8 and keep two. GEMV1_BLOCKS: blocks of GEMV_MAX_THREADS for the one-row
// gemv: two (at most 64 registers), so three blocks of 320 threads fit; fp32 weights one.
ELEMENTWISE(f32, float, 2, 1)
ELEMENTWISE(f16, f16, 3, 2)
ELEMENTWISE(bf16, bf16, 3, 2)

// dst[r] = src[rows[r]]; one block per gathered row.
extern "C" __global__ void gather_rows(const float* src, const int* rows, float* dst, int cols) {
  after_previous_kernel();
  const float* s = src + (long long) rows[blockIdx.x] * cols;
  float* d = dst + (long long) blockIdx.x * cols;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) d[i] = s[i];
}

// sums (count, cols), fp64: per range i the sum of src rows ranges[2i] .. ranges[2i + 1] - 1, added
// in row order in double, as the host sums hidden states for mean pooling (the same bits).
// Grid (count, ceil(cols / blockDim)); a thread per column.
extern "C" __global__ void sum_rows(const float* src, const int* ranges, double* sums, int cols) {
  after_previous_kernel();
  const int i = blockIdx.x, c = blockIdx.y * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  double acc = 0.0;
  for (int r = ranges[2 * i]; r < ranges[2 * i + 1]; r++) acc += (double) src[(long long) r * cols + c];
  sums[(long long) i * cols + c] = acc;
}

__device__ __forceinline__ unsigned xor4(uint4 v) { return v.x ^ v.y ^ v.z ^ v.w; }

// Reads words (n16 16-byte words) once, for the bench's device-memory read bandwidth (GpuLimits):
// out[blockIdx.x] = the xor of every word the block read, so that no load can be dropped. A thread
// keeps four loads in flight; blockDim.x a multiple of 32. n16 < 2^31: up to 32 GiB.
extern "C" __global__ void read_words(const uint4* words, int n16, unsigned* out) {
  after_previous_kernel();
  __shared__ unsigned warps[32];
  const long long stride = (long long) gridDim.x * blockDim.x;
  long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
  unsigned acc = 0;
  for (; i + 3 * stride < n16; i += 4 * stride) {
    uint4 a = words[i], b = words[i + stride], c = words[i + 2 * stride], d = words[i + 3 * stride];
    acc ^= xor4(a) ^ xor4(b) ^ xor4(c) ^ xor4(d);
  }
  for (; i < n16; i += stride) acc ^= xor4(words[i]);
  for (int o = 16; o > 0; o >>= 1) acc ^= __shfl_xor_sync(0xffffffffu, acc, o);
  if ((threadIdx.x & 31) == 0) warps[threadIdx.x >> 5] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned all = 0;
    for (int w = 0; w < (int) (blockDim.x >> 5); w++) all ^= warps[w];
    out[blockIdx.x] = all;
  }
}
