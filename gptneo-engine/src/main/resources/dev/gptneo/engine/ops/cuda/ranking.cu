// Reductions of LM-head rows that need no draw: each greedy beam's best continuations
// (beam_candidates) and the log-probabilities of listed tokens for scoring and zero-shot labels
// (token_logprobs). Logits are (rows, cols) fp32, one block per row; what they share with
// choose_tokens (sampling.cu) is in choice.cuh. Each reduction has a fixed order (no float atomics).
#include "choice.cuh"

// A taken candidate's mark: -NaN, whose order key (0) is below -inf's, so block_argmax passes it.
__device__ __forceinline__ float taken() { return __uint_as_float(0xffffffffu); }

// row = row - max - (float) log(sum of exp(row - max)), in place, as BeamSearch.logSoftmax: fp32,
// the sum in double in the block's order. The caller's writes to the row must be visible (a barrier).
__device__ void log_softmax_row(float* row, int cols) {
  float mx = neg_inf();
  for (int i = threadIdx.x; i < cols; i += blockDim.x) mx = fmaxf(mx, row[i]);
  mx = block_reduce(mx, neg_inf(), MaxOp());
  float log_sum = (float) log_sum_exp(row, cols, mx);  // every read of the row is done (a block reduce)
  for (int i = threadIdx.x; i < cols; i += blockDim.x) row[i] = __fsub_rn(__fsub_rn(row[i], mx), log_sum);
  __syncthreads();
}

// Each running beam's best continuations (greedy beam search), one block per row of logits (rows,
// cols), as generate.BeamSearch ranks them on the host: log-softmax, the row's biases, penalty and
// bans on the log-probabilities, a log-softmax again if the row asks (renormalize_logits), plus
// beam_score (float adds); then the top_k largest, largest first, equal values in id order (-0 equal
// to +0), as top_k passes of block_argmax. out_scores and out_ids: (rows, stride), row r's first
// top_k written. The row is processed in place.
extern "C" __global__ void __launch_bounds__(512)
    beam_candidates(float* logits, int cols, const ChoiceRow* rows, const int* ids, int stride, float* out_scores,
                    int* out_ids) {
  after_previous_kernel();
  const ChoiceRow c = rows[blockIdx.x];
  float* row = logits + (long long) blockIdx.x * cols;
  log_softmax_row(row, cols);
  apply_edits(row, c, ids);  // ends with a barrier
  if (c.renormalize) log_softmax_row(row, cols);  // uniform over the block
  for (int i = threadIdx.x; i < cols; i += blockDim.x) row[i] = __fadd_rn(row[i], c.beam_score);
  __syncthreads();
  for (int j = 0; j < c.top_k; j++) {
    int t = block_argmax(row, cols);
    if (threadIdx.x == 0) {
      out_scores[(long long) blockIdx.x * stride + j] = row[t];
      out_ids[(long long) blockIdx.x * stride + j] = t;
      row[t] = taken();
    }
    __syncthreads();
  }
}

// Log-probabilities of listed tokens (score, zero-shot labels), one block per row of logits
// (rows, cols): out[j] for j in [row_from[r], row_from[r + 1]) is ids[j]'s, (double) (logit - max) -
// log(sum of exp(logit - max)), as LogitsProcessors.logProb; the sum in another order than the
// host's, so within about cols * 2^-53. NaN when every logit is -inf, as on the host.
extern "C" __global__ void __launch_bounds__(512)
    token_logprobs(const float* logits, int cols, const int* row_from, const int* ids, double* out) {
  after_previous_kernel();
  const float* row = logits + (long long) blockIdx.x * cols;
  float mx = neg_inf();
  for (int i = threadIdx.x; i < cols; i += blockDim.x) mx = fmaxf(mx, row[i]);
  mx = block_reduce(mx, neg_inf(), MaxOp());
  double log_sum = log_sum_exp(row, cols, mx);
  for (int j = row_from[blockIdx.x] + threadIdx.x; j < row_from[blockIdx.x + 1]; j += blockDim.x) {
    out[j] = (double) __fsub_rn(row[ids[j]], mx) - log_sum;
  }
}
