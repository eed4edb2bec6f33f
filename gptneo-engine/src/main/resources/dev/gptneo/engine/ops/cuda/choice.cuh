// What the kernels that reduce LM-head rows share (sampling.cu: choose_tokens, beam_candidates,
// token_logprobs): a row's settings as ChoiceTable (Java) uploads them, order-preserving keys, the
// block-wide argmax, the biases, penalty and bans, and the log of a row's sum of exps.
#ifndef GPTNEO_CHOICE_CUH
#define GPTNEO_CHOICE_CUH

#include "common.cuh"

typedef unsigned long long u64;

// One row's settings, uploaded per step: ChoiceTable (CudaOps) writes this layout.
struct ChoiceRow {
  int sample;                    // 0: greedy
  int top_k;                     // off when <= 0 or >= cols; beam_candidates: continuations kept
  int use_top_p;                 // top_p < 1
  int penalty_from, penalty_to;  // ids[penalty_from, penalty_to): distinct earlier tokens
  int ban_from, ban_to;          // ids[ban_from, ban_to): set to -inf
  float temperature;
  float penalty;                 // repetition penalty
  int want_logprob;              // also write the token's log-probability
  double threshold;              // 1 - top_p, as the host computes it
  double uniform;                // Sampler.uniform(seed, step), in [0, 1)
  float min_p;                   // 0: off
  float beam_score;              // beam_candidates: the beam's running score
  int bias_from, bias_to;        // ids[bias_from, bias_to): (id, float bits) pairs added first
  float epsilon;                 // epsilon cutoff, 0: off
  float eta;                     // eta cutoff, 0: off
  float typical;                 // typical_p's mass, 0: off
  int renormalize;               // beam_candidates: log-softmax again after the edits
  double top_h;                  // top_h, 0: off
};
static_assert(sizeof(ChoiceRow) == 96, "ChoiceTable writes 96-byte rows");

// Float -> unsigned with the same order (-inf lowest, -0 just below +0): the host's sortableBits.
__device__ __forceinline__ unsigned int order_key(float v) {
  unsigned int b = __float_as_uint(v);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__device__ __forceinline__ float from_order_key(unsigned int k) {
  return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

// The host's top-p order: by logit, then higher ids first (lower ids count as more likely).
__device__ __forceinline__ u64 choice_key(float v, int i) {
  return ((u64) order_key(v) << 32) | (u64) (0xffffffffu - (unsigned int) i);
}

// The first index of the largest value (-0 equal to +0; 0 when all are -inf), as the host's argmax.
__device__ int block_argmax(const float* row, int cols) {
  u64 best = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = row[i];
    u64 k = choice_key(v == 0.f ? 0.f : v, i);
    best = k > best ? k : best;
  }
  best = block_reduce(best, 0ull, MaxOp());
  return (int) (0xffffffffu - (unsigned int) best);
}

// The sequence biases (distinct ids, each its summed bias), the repetition penalty at the listed
// (distinct) ids, then -inf at the banned ones (choose_tokens' step 1; an id may be banned twice),
// each a pass of its own.
__device__ void apply_edits(float* row, const ChoiceRow& c, const int* ids) {
  if (c.bias_to > c.bias_from) {  // uniform over the block
    for (int j = c.bias_from + 2 * threadIdx.x; j < c.bias_to; j += 2 * blockDim.x) {
      row[ids[j]] = __fadd_rn(row[ids[j]], __int_as_float(ids[j + 1]));
    }
    __syncthreads();
  }
  for (int j = c.penalty_from + threadIdx.x; j < c.penalty_to; j += blockDim.x) {
    int t = ids[j];
    float s = row[t];
    row[t] = s < 0.f ? __fmul_rn(s, c.penalty) : __fdiv_rn(s, c.penalty);
  }
  __syncthreads();
  for (int j = c.ban_from + threadIdx.x; j < c.ban_to; j += blockDim.x) store_same(row + ids[j], neg_inf());
  __syncthreads();
}

// log of the sum of exp(logit - mx) over a row, in double, in the block's order (-inf adds 0).
__device__ double log_sum_exp(const float* row, int cols, float mx) {
  double s = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) s += exp((double) __fsub_rn(row[i], mx));
  return log(block_reduce(s, 0.0, SumOp()));
}

#endif  // GPTNEO_CHOICE_CUH
