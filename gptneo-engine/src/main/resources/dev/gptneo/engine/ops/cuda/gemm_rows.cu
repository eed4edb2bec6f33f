// y (rows, out) fp32 = [y +] act(x (rows, in) times w^T + bias) for 5..256 rows (decode at batch 5 and up), on the
// tensor cores: opt-in (gptneo.cuda.smallGemm=mma) until it is measured against cuBLAS, which runs
// these shapes far below the weights' bandwidth. x is the activations' 16-bit copy, w (out, in)
// row-major; both type T; fp32 accumulators (mma.sync m16n8k16). A block owns 128 rows x 128
// columns of y and one of `splits` contiguous slices of the 64-wide k chunks, so the weights are
// read once for up to 128 rows and there are enough blocks to keep the memory busy; slices write
// fp32 partial sums that sum_slices (elementwise.cu) adds in slice order (the same bits every run). The
// linear layer's epilogue (bias, gelu_new, residual add, 16-bit copy) is applied by whichever
// kernel writes y, so it needs no launch of its own.
#include "common.cuh"

#define GR_ROWS 128    // rows of y per block: 8 warps x 16
#define GR_COLS 128    // columns of y per block: 16 tiles of 8
#define GR_K 64        // k per chunk
#define GR_THREADS 256
#define GR_PAD 8       // 16-bit elements after each shared row

#define GR_STAGE (2 * GR_ROWS * (GR_K + GR_PAD))  // 16-bit elements of one stage: x (128, 64+8), then w

// Issues the cp.async copies of k chunk c into one stage of shared memory: x rows m0.. and weight
// rows n0.., 16 bytes each, zeros for rows past rows / out; then commits them as one group.
__device__ __forceinline__ void gemm_rows_load(unsigned short* stage, const unsigned short* xb, const unsigned short* wb,
                                               int m0, int n0, int rows, int out, int in, int c) {
  constexpr int ROW = GR_K + GR_PAD;
  unsigned short* xs = stage;
  unsigned short* ws = stage + GR_ROWS * ROW;
  const int k0 = c * GR_K;
  for (int i = threadIdx.x; i < GR_ROWS * (GR_K / 8); i += GR_THREADS) {
    int r = i / (GR_K / 8), k = 8 * (i % (GR_K / 8));
    bool x_ok = m0 + r < rows, w_ok = n0 + r < out;
    cp_async16(xs + r * ROW + k, x_ok ? xb + (long long) (m0 + r) * in + k0 + k : xb, x_ok);
    cp_async16(ws + r * ROW + k, w_ok ? wb + (long long) (n0 + r) * in + k0 + k : wb, w_ok);
  }
  cp_async_commit();
}

// Grid (ceil(out / 128) * ceil(rows / 128), splits): column blocks vary fastest. in % 64 == 0. With splits == 1 the block
// writes y itself, with the epilogue; else dst = partial (splits, rows, out) fp32, slice blockIdx.y.
// Two stages of shared memory (dynamic, 2 * GR_STAGE 16-bit elements = 72 KB): chunk c + 1 is
// copied (cp.async) while chunk c is multiplied, so the weights stream while the tensor cores work.
// Lanes: g = lane / 4 picks rows g, g + 8 of the warp's 16; t = lane % 4 columns 2t, 2t + 1.
template <typename T>
__device__ void gemm_rows(const T* x, int rows, int in, const T* w, int out, float* dst, int splits, const float* bias,
                          T* y_half, int accumulate, int gelu) {
  constexpr int ROW = GR_K + GR_PAD;
  DYNAMIC_SHARED(unsigned short, smem);  // (2 stages) [x (128, ROW) | w (128, ROW)]
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const int col_blocks = (out + GR_COLS - 1) / GR_COLS;
  const int n0 = (blockIdx.x % col_blocks) * GR_COLS, m0 = (blockIdx.x / col_blocks) * GR_ROWS;
  const int chunks = in / GR_K;
  const int c0 = (int) ((long long) blockIdx.y * chunks / splits), c1 = (int) ((long long) (blockIdx.y + 1) * chunks / splits);
  const bool active = m0 + 16 * warp < rows;  // the whole warp: its 16 rows hold at least one of y's
  const unsigned short* xb = reinterpret_cast<const unsigned short*>(x);
  const unsigned short* wb = reinterpret_cast<const unsigned short*>(w);
  float acc[GR_COLS / 8][4];
#pragma unroll
  for (int nt = 0; nt < GR_COLS / 8; nt++) acc[nt][0] = acc[nt][1] = acc[nt][2] = acc[nt][3] = 0.f;

  if (c0 < c1) gemm_rows_load(smem, xb, wb, m0, n0, rows, out, in, c0);
  for (int c = c0; c < c1; c++) {
    if (c + 1 < c1) {  // the next chunk into the other stage, which the previous iteration finished with
      gemm_rows_load(smem + ((c + 1 - c0) & 1) * GR_STAGE, xb, wb, m0, n0, rows, out, in, c + 1);
      cp_async_wait<1>();  // chunk c has landed (this thread's copies)
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // ... and every thread's
    const unsigned short* xs = smem + ((c - c0) & 1) * GR_STAGE;
    const unsigned short* ws = xs + GR_ROWS * ROW;
    if (active) {
#pragma unroll
      for (int kk = 0; kk < GR_K / 16; kk++) {
        const unsigned short* xr = xs + (16 * warp) * ROW + 16 * kk + 2 * t;
        unsigned a[4] = {pair_at(xr + g * ROW), pair_at(xr + (g + 8) * ROW), pair_at(xr + g * ROW + 8),
                         pair_at(xr + (g + 8) * ROW + 8)};
#pragma unroll
        for (int nt = 0; nt < GR_COLS / 8; nt++) {
          const unsigned short* wr = ws + (8 * nt + g) * ROW + 16 * kk + 2 * t;
          mma16816((const T*) nullptr, acc[nt], a, pair_at(wr), pair_at(wr + 8));
        }
      }
    }
    __syncthreads();  // this stage is refilled two chunks later, by the next iteration's copies
  }
  if (!active) return;
#pragma unroll
  for (int nt = 0; nt < GR_COLS / 8; nt++) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
      int r = m0 + 16 * warp + g + 8 * (i >> 1), n = n0 + 8 * nt + 2 * t + (i & 1);
      if (r >= rows || n >= out) continue;
      long long at = (long long) r * out + n;
      if (splits == 1) {
        linear_epilogue(acc[nt][i], r, n, out, dst, bias, y_half, accumulate, gelu);
      } else {
        dst[(long long) blockIdx.y * rows * out + at] = acc[nt][i];
      }
    }
  }
}

#define GEMM_ROWS(S, T)                                                                                    \
  extern "C" __global__ void __launch_bounds__(GR_THREADS)                                                \
      gemm_rows_##S(const T* x, int rows, int in, const T* w, int out, float* dst, int splits, const float* bias, \
                    T* y_half, int accumulate, int gelu) {                                                \
    after_previous_kernel();                                                                              \
    gemm_rows<T>(x, rows, in, w, out, dst, splits, bias, y_half, accumulate, gelu);                       \
  }

GEMM_ROWS(f16, f16)
GEMM_ROWS(bf16, bf16)
