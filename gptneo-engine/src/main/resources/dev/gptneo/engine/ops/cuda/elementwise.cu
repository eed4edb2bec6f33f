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

// out = (x - mean) / sqrt(var + eps) * gamma + beta per row; one block per row. Two passes over
// the row (mean, then the squared deviations), as the CPU reference does.
template <typename T>
__device__ void layernorm(const float* x, const float* gamma, const float* beta, float eps, float* out,
                          T* out_half, int cols) {
  __shared__ float scratch[32];
  long long row = blockIdx.x;
  const float* xr = x + row * cols;
  float s = 0.f;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) s += xr[i];
  float mean = block_sum(s, scratch) / cols;
  float q = 0.f;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    float d = xr[i] - mean;
    q += d * d;
  }
  float rstd = 1.f / sqrtf(block_sum(q, scratch) / cols + eps);
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = (xr[i] - mean) * rstd * gamma[i] + beta[i];
    out[row * cols + i] = v;
    if (out_half) store(out_half + row * cols + i, v);
  }
}

// y = act(y + bias) in place over (rows, cols), after a GEMM wrote y. bias may be 0; act is
// gelu_new when gelu != 0, else the identity. Grid-stride.
template <typename T>
__device__ void bias_act(float* y, const float* bias, T* y_half, int rows, int cols, int gelu) {
  long long n = (long long) rows * cols;
  long long stride = (long long) gridDim.x * blockDim.x;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    float v = y[i];
    if (bias) v += bias[i % cols];
    if (gelu) v = gelu_new(v);
    y[i] = v;
    if (y_half) store(y_half + i, v);
  }
}

// out[i] = (T) x[i]: activations without a 16-bit copy, and fp32 weights converted on upload.
template <typename T>
__device__ void cast(const float* x, T* out, int n) {
  long long stride = (long long) gridDim.x * blockDim.x;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) store(out + i, x[i]);
}

#define ELEMENTWISE(S, T)                                                                                   \
  extern "C" __global__ void embed_##S(const T* wte, const T* wpe, const int* ids, const int* positions,   \
                                       float* out, int hidden) {                                            \
    embed(wte, wpe, ids, positions, out, hidden);                                                           \
  }                                                                                                         \
  extern "C" __global__ void layernorm_##S(const float* x, const float* gamma, const float* beta, float eps, \
                                           float* out, T* out_half, int cols) {                             \
    layernorm(x, gamma, beta, eps, out, out_half, cols);                                                    \
  }                                                                                                         \
  extern "C" __global__ void bias_act_##S(float* y, const float* bias, T* y_half, int rows, int cols,       \
                                          int gelu) {                                                       \
    bias_act(y, bias, y_half, rows, cols, gelu);                                                            \
  }                                                                                                         \
  extern "C" __global__ void cast_##S(const float* x, T* out, int n) { cast(x, out, n); }

ELEMENTWISE(f32, float)
ELEMENTWISE(f16, f16)
ELEMENTWISE(bf16, bf16)

// dst[r] = src[rows[r]]; one block per gathered row.
extern "C" __global__ void gather_rows(const float* src, const int* rows, float* dst, int cols) {
  const float* s = src + (long long) rows[blockIdx.x] * cols;
  float* d = dst + (long long) blockIdx.x * cols;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) d[i] = s[i];
}

// sums (count, cols), fp64: per range i the sum of src rows ranges[2i] .. ranges[2i + 1] - 1, added
// in row order in double, as the host sums hidden states for mean pooling (the same bits).
// Grid (count, ceil(cols / blockDim)); a thread per column.
extern "C" __global__ void sum_rows(const float* src, const int* ranges, double* sums, int cols) {
  const int i = blockIdx.x, c = blockIdx.y * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  double acc = 0.0;
  for (int r = ranges[2 * i]; r < ranges[2 * i + 1]; r++) acc += (double) src[(long long) r * cols + c];
  sums[(long long) i * cols + c] = acc;
}
