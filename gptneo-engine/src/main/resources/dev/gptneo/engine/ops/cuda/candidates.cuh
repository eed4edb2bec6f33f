// A sampled row's candidates for choose_tokens (sampling.cu): which tokens are still in (Keep), the
// exact path's copy of at most CHOICE_CAP of them in shared memory with the host-ordered softmax
// over it, and the digit pick of the radix descents that the parallel path uses instead of a sort.
#ifndef GPTNEO_CANDIDATES_CUH
#define GPTNEO_CANDIDATES_CUH

#include "choice.cuh"

#define CHOICE_CAP 2048  // candidates of the exact path (a power of two); CudaKernels.CHOICE_CAP
#define FULL_MASK 0xffffffffu

// B sums and counts over the block at once (a radix descent's digits), fixed order.
template <int B>
__device__ void block_sums(double (&m)[B], int (&c)[B]) {
  __shared__ double pm[32][B];
  __shared__ int pc[32][B];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
#pragma unroll
  for (int b = 0; b < B; b++) {
    for (int o = 16; o > 0; o >>= 1) {
      m[b] += __shfl_xor_sync(FULL_MASK, m[b], o);
      c[b] += __shfl_xor_sync(FULL_MASK, c[b], o);
    }
  }
  __syncthreads();
  if (lane == 0) {
    for (int b = 0; b < B; b++) {
      pm[warp][b] = m[b];
      pc[warp][b] = c[b];
    }
  }
  __syncthreads();
#pragma unroll
  for (int b = 0; b < B; b++) {
    double v = lane < warps ? pm[lane][b] : 0.0;
    int k = lane < warps ? pc[lane][b] : 0;
    for (int o = 16; o > 0; o >>= 1) {
      v += __shfl_xor_sync(FULL_MASK, v, o);
      k += __shfl_xor_sync(FULL_MASK, k, o);
    }
    m[b] = v;
    c[b] = k;
  }
}

// Which tokens are still candidates: finite, kept by top-k and (once cut) by top-p. The probability
// cuts write -inf into the row instead (cut_parallel).
struct Keep {
  float lo;  // top-k: the k-th largest logit (-inf: off)
  u64 cut;   // top-p: the smallest key kept (0: off)
  __device__ __forceinline__ bool operator()(float v, int i) const {
    return v != neg_inf() && v >= lo && choice_key(v, i) >= cut;
  }
};

// How many candidates, and the largest key (that of the max logit, the lowest id among equal ones).
__device__ void count_candidates(const float* row, int cols, Keep keep, int& n, u64& max_key) {
  int count = 0;
  u64 best = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = row[i];
    if (keep(v, i)) {
      count++;
      u64 k = choice_key(v, i);
      best = k > best ? k : best;
    }
  }
  n = block_reduce(count, 0, SumOp());
  max_key = block_reduce(best, 0ull, MaxOp());
}

// The exact path's arrays, CHOICE_CAP each, in dynamic shared memory (28 bytes per candidate).
struct Candidates {
  u64* key;
  double* e;
  float* val;  // logits in id order; -inf once top-p removed them
  float* p;
  int* id;
};

// Copies the candidates to shared memory in id order (each thread a run of ids). Returns how many.
__device__ int compact(const float* row, int cols, Keep keep, Candidates c) {
  int per = (cols + blockDim.x - 1) / blockDim.x;
  int from = imin(threadIdx.x * per, cols), to = imin(from + per, cols);
  int mine = 0;
  for (int i = from; i < to; i++) mine += keep(row[i], i) ? 1 : 0;
  int total;
  int at = block_exclusive_scan(mine, &total);
  for (int i = from; i < to; i++) {
    float v = row[i];
    if (keep(v, i)) {
      c.val[at] = v;
      c.id[at] = i;
      at++;
    }
  }
  __syncthreads();
  return total;
}

// Ascending sort of key[0..m), m a power of two.
__device__ void bitonic_sort(u64* key, int m) {
  for (int k = 2; k <= m; k <<= 1) {
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = threadIdx.x; i < m; i += blockDim.x) {
        int l = i ^ j;
        if (l > i) {
          u64 a = key[i], b = key[l];
          if ((a > b) == ((i & k) == 0)) {
            key[i] = b;
            key[l] = a;
          }
        }
      }
      __syncthreads();
    }
  }
}

// The exact path's softmax as the host computes it (LogitsProcessors.softmax, Sampler.sample):
// numerators exp in double of the float difference to the max into c.e (0 for removed
// candidates), summed in id order by one thread. Returns the sum to every thread.
__device__ double exact_numerators(Candidates c, int n, float mx) {
  __shared__ double sum_shared;
  for (int j = threadIdx.x; j < n; j += blockDim.x) {
    float v = c.val[j];
    c.e[j] = v == neg_inf() ? 0.0 : exp((double) __fsub_rn(v, mx));
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double sum = 0;
    for (int j = 0; j < n; j++) sum = __dadd_rn(sum, c.e[j]);
    sum_shared = sum;
  }
  __syncthreads();
  return sum_shared;
}

// The softmax numerator of token i, as the host computes it: exp in double of the float difference
// to the max, added to s; returned as (float) e for the probabilities, 0 for a token not kept.
__device__ __forceinline__ float numerator(float v, int i, Keep keep, float mx, double& s) {
  if (!keep(v, i)) return 0.f;
  double e = exp((double) __fsub_rn(v, mx));
  s += e;
  return __double2float_rn(e);
}

// pick_digit's test of a cumulative mass: top-p's, above its threshold (1 - top_p), both in float as
// the host compares them (LogitsProcessors.topP); rounding keeps the sums' order, so the descent holds.
struct Exceeds {
  double threshold;  // a float's value
  __device__ __forceinline__ bool operator()(double mass) const {
    return __double2float_rn(mass) > __double2float_rn(threshold);
  }
};

// typical_p's: at least its mass, both in float (HF's fp32 cumsum < mass, LogitsProcessors.typicalP).
struct ReachesFloat {
  float mass;
  __device__ __forceinline__ bool operator()(double sum) const { return __double2float_rn(sum) >= mass; }
};

// One digit of a radix descent over the candidates' keys (top-p's 4-bit digits, B = 16; typical_p's
// 2-bit ones, B = 4, short of registers): the mass p = ef * inv of the candidates in the current
// bucket per digit, then the digits upward from `below` until the cumulative mass is `reached`.
// Returns that digit (below: the mass under it; count: its candidates). When none does: -1 at the
// first level (the total never reaches it), else the last non-empty digit (the sums of two levels
// may round apart).
template <int B, typename Digit, typename Reached>
__device__ int pick_digit(const float* row, const float* ef, float inv, int cols, Keep keep, Digit digit_of,
                          Reached reached, bool first, double& below, int& count) {
  double m[B];
  int c[B];
#pragma unroll
  for (int b = 0; b < B; b++) {
    m[b] = 0.0;
    c[b] = 0;
  }
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = row[i];
    if (!keep(v, i)) continue;
    int d = digit_of(v, i);
    if (d < 0) continue;
    double p = (double) __fmul_rn(ef[i], inv);
#pragma unroll
    for (int b = 0; b < B; b++) {
      m[b] += b == d ? p : 0.0;
      c[b] += b == d ? 1 : 0;
    }
  }
  block_sums<B>(m, c);
  double acc = below, before_last = below;
  int pick = -1, last = -1;
  for (int b = 0; b < B; b++) {
    if (c[b] == 0) continue;
    double next = acc + m[b];
    if (reached(next)) {
      pick = b;
      break;
    }
    before_last = acc;
    last = b;
    acc = next;
  }
  if (pick < 0) {
    if (first) return -1;
    pick = last;
    acc = before_last;
  }
  below = acc;
  count = c[pick];
  return pick;
}

#endif  // GPTNEO_CANDIDATES_CUH
