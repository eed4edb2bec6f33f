// Device-side helpers for choosing the next token from logits (rows, cols) fp32.
#include "common.cuh"

// Greedy choice per row: the index of the largest logit (the first one on ties, as torch.argmax)
// and its value. One block per row; blockDim a multiple of 32, at most 1024.
extern "C" __global__ void argmax_rows(const float* logits, int cols, int* out_index, float* out_value) {
  __shared__ float best_value[32];
  __shared__ int best_index[32];
  const float* r = logits + (long long) blockIdx.x * cols;
  float best = neg_inf();
  int at = cols;  // "none yet": larger than any index
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = r[i];
    if (v > best || at == cols) {
      best = v;
      at = i;
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    float ov = __shfl_xor_sync(0xffffffffu, best, o);
    int oi = __shfl_xor_sync(0xffffffffu, at, o);
    if (ov > best || (ov == best && oi < at)) {
      best = ov;
      at = oi;
    }
  }
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    best_value[warp] = best;
    best_index[warp] = at;
  }
  __syncthreads();
  if (warp == 0) {
    bool has = lane < (int) (blockDim.x >> 5);
    best = has ? best_value[lane] : neg_inf();
    at = has ? best_index[lane] : cols;
    for (int o = 16; o > 0; o >>= 1) {
      float ov = __shfl_xor_sync(0xffffffffu, best, o);
      int oi = __shfl_xor_sync(0xffffffffu, at, o);
      if (ov > best || (ov == best && oi < at)) {
        best = ov;
        at = oi;
      }
    }
    if (lane == 0) {
      out_index[blockIdx.x] = at;
      out_value[blockIdx.x] = best;
    }
  }
}
