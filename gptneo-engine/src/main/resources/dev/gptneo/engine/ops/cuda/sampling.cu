// Choosing the next token on the device, so that only the chosen ids cross to the host. Logits are
// (rows, cols) fp32, one block per row. choose_tokens mirrors the host's generate.LogitsProcessors
// and generate.Sampler in HF's order, on the row in place (nothing reads the LM head's output after):
//  1. sequence biases (each id's sum), repetition penalty at the row's distinct earlier tokens, then
//     -inf at the banned ids (no-repeat n-gram bans and, before min_new_tokens, eos), listed by the host;
//  2. greedy: the first index of the largest logit (torch.argmax, -0 equal to +0); done;
//  3. temperature: logits / T, float division, skipped at T == 1 as on the host; then top_h (HF 5:
//     of the 100 largest, those within top_h x their entropy), its loops in one thread, as the host's;
//  4. top-k: the k-th largest logit (repeats counted, as the host's quickselect) by radix select on
//     order-preserving 32-bit keys (four 8-bit passes, warp-aggregated integer atomics);
//  5. top-p, 6. the filters (min_p, typical_p, epsilon, eta, in HF's order) and 7. the draw, over
//     the candidates (finite logits still kept):
//     - at most CHOICE_CAP candidates (top_k <= 2048, the usual settings): copied to shared memory
//       in id order, the host's arithmetic in the host's order: exp in double of the float
//       difference to the max, the sum in double in id order (one thread), inv = (float) (1 / sum),
//       probabilities (float) e * inv. Top-p sorts them (bitonic sort of 64-bit keys: the logit's
//       order key, then the id reversed, as the host's sort) and removes them ascending until the
//       sum, rounded to float, exceeds the float 1 - top_p (the host's comparison); min_p, epsilon
//       and eta remove those below a cutoff (min_p x the top's probability, epsilon, or min(eta,
//       sqrt(eta) x exp(-entropy)), the entropy summed in id order), the most likely always kept;
//       typical_p sorts them by |-log p - entropy| and keeps the nearest until their sum reaches
//       its mass (it may drop the most likely, so the max is taken again); the draw takes the first
//       token, in id order, whose cumulative probability passes the uniform.
//     - more candidates: no sort. Top-p finds its cut by a radix descent over the same keys (the
//       probability mass per 4-bit digit), typical_p by one over the distances (2-bit digits), the
//       filters sum the softmax (and the entropy) in the block's order and write -inf over what they
//       remove, and the draw sums runs of ids per thread combined by a scan. The token is the
//       host's unless a sum lies within rounding (n * 2^-53, about 1e-11 at 50257 tokens) of the
//       uniform or a cut.
// Float steps use the _rn intrinsics, so no multiply-add is contracted where the host rounds twice.
// The one difference left on the exact path is the last bit of exp (and of log, for eta and
// typical_p): CUDA's and Java's are both within 1 ulp, in double; it moves a sum by 2^-53
// relative, a float rarely.
// The uniform comes from the host (Sampler.uniform(seed, step)), so a row's token does not depend
// on its batch. No float atomics anywhere; every reduction has a fixed order, so the same logits
// give the same token on every run. A row may also ask for its token's log-probability over the
// processed logits (LogitsProcessors.logProb after the warpers): (double) (logit - max) - log(sum of
// exp over the tokens kept), within about cols * 2^-53 of the host's where the sum's order differs.
#include "candidates.cuh"

// Step 4: the order key of the k-th largest value (1-based, repeats counted), four 8-bit passes.
__device__ unsigned int kth_largest_key(const float* row, int cols, int k) {
  __shared__ int hist[256];
  __shared__ int pick[2];
  unsigned int prefix = 0, mask = 0;
  int remaining = k;
  int lane = threadIdx.x & 31;
  int rounds = (cols + blockDim.x - 1) / blockDim.x;  // the same for every lane: __match_any_sync needs the warp
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int b = threadIdx.x; b < 256; b += blockDim.x) hist[b] = 0;
    __syncthreads();
    for (int r = 0; r < rounds; r++) {
      int i = r * blockDim.x + threadIdx.x;
      unsigned int key = i < cols ? order_key(row[i]) : 0u;
      int bin = i < cols && (key & mask) == prefix ? (int) ((key >> shift) & 255u) : -1;
      unsigned int peers = __match_any_sync(FULL_MASK, bin);  // one atomic per distinct bin in the warp
      if (bin >= 0 && lane == __ffs(peers) - 1) atomicAdd(&hist[bin], __popc(peers));
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int above = 0, b = 255;
      while (b > 0 && above + hist[b] < remaining) above += hist[b--];
      pick[0] = b;
      pick[1] = remaining - above;
    }
    __syncthreads();
    prefix |= (unsigned int) pick[0] << shift;
    mask |= 255u << shift;
    remaining = pick[1];
  }
  return prefix;
}

// top_h's -p log p of a logit, as LogitsProcessors' entropyTerm: log p and p in float (torch's fp32),
// the product in double; NaN where p is 0.
__device__ __forceinline__ double top_h_term(float v, float mx, double log_sum) {
  float log_p = __double2float_rn(__dsub_rn((double) __fsub_rn(v, mx), log_sum));
  float p = __double2float_rn(exp((double) log_p));
  return p == 0.f ? not_a_number() : -__dmul_rn((double) p, (double) log_p);
}

// Step 3b, top_h (HF 5's TopHLogitsWarper, LogitsProcessors.topH), after the temperature: of the
// min(100, cols) largest keys (logit, then lower id), likeliest first, keeps those whose cumulative
// -p log p (p their softmax among themselves) stays within top_h x their entropy, the first always;
// every other token gets -inf. Those keys go to shared memory (all above the k-th largest logit,
// then the lowest-id ties), are sorted, and one thread runs the host's loops in its order.
__device__ void top_h(float* row, int cols, double setting, Candidates c) {
  __shared__ u64 cut_shared;
  int top = imin(100, cols);
  unsigned int kth = kth_largest_key(row, cols, top);
  int per = (cols + blockDim.x - 1) / blockDim.x;
  int from = imin(threadIdx.x * per, cols), to = imin(from + per, cols);
  int above = 0, ties = 0;
  for (int i = from; i < to; i++) {
    unsigned int k = order_key(row[i]);
    above += k > kth ? 1 : 0;
    ties += k == kth ? 1 : 0;
  }
  int above_total, ties_total;
  int at = block_exclusive_scan(above, &above_total);
  int tie = above_total + block_exclusive_scan(ties, &ties_total);  // ties past `top` stay out
  for (int i = from; i < to; i++) {
    float v = row[i];
    unsigned int k = order_key(v);
    if (k > kth) c.key[at++] = choice_key(v, i);
    if (k == kth && tie < top) c.key[tie] = choice_key(v, i);
    tie += k == kth ? 1 : 0;
  }
  for (int j = top + threadIdx.x; j < 128; j += blockDim.x) c.key[j] = 0ull;  // sorts first
  __syncthreads();
  bitonic_sort(c.key, 128);  // ascending: the largest last, at 127
  if (threadIdx.x == 0) {
    const u64* key = c.key + 128 - top;  // the `top` keys, ascending
    float mx = from_order_key((unsigned int) (key[top - 1] >> 32));
    double sum = 0;
    for (int j = top - 1; j >= 0; j--) {
      float v = from_order_key((unsigned int) (key[j] >> 32));
      sum = __dadd_rn(sum, v == neg_inf() ? 0.0 : exp((double) __fsub_rn(v, mx)));
    }
    double log_sum = log(sum), entropy = 0;
    for (int j = top - 1; j >= 0; j--) {
      double term = top_h_term(from_order_key((unsigned int) (key[j] >> 32)), mx, log_sum);
      entropy = __dadd_rn(entropy, term == term ? term : 0.0);  // NaN terms (p == 0) add nothing
    }
    float tau = __double2float_rn(__dmul_rn(entropy, setting));
    int kept = 1;  // the likeliest always; then while the cumulative stays within tau (NaN: never)
    double cumulative = top_h_term(mx, mx, log_sum);
    for (int j = top - 2; j >= 0; j--) {
      cumulative = __dadd_rn(cumulative, top_h_term(from_order_key((unsigned int) (key[j] >> 32)), mx, log_sum));
      if (!(__double2float_rn(cumulative) <= tau)) break;
      kept++;
    }
    cut_shared = key[top - kept];
  }
  __syncthreads();
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    if (choice_key(row[i], i) < cut_shared) row[i] = neg_inf();
  }
  __syncthreads();
}

// Step 5, exact path: LogitsProcessors.topP over n candidates in id order, in the host's arithmetic
// and order. Removed candidates get -inf.
__device__ void top_p_exact(Candidates c, int n, float mx, double threshold) {
  float inv = __double2float_rn(__ddiv_rn(1.0, exact_numerators(c, n, mx)));
  int m = 1;
  while (m < n) m <<= 1;
  for (int j = threadIdx.x; j < m; j += blockDim.x) {
    if (j < n) {
      c.p[j] = __fmul_rn(__double2float_rn(c.e[j]), inv);
      c.key[j] = choice_key(c.val[j], j);  // j runs in id order, so equal logits sort as by id
    } else {
      c.key[j] = ~0ull;
    }
  }
  __syncthreads();
  bitonic_sort(c.key, m);
  if (threadIdx.x == 0) {
    double cumulative = 0;
    for (int s = 0; s < n - 1; s++) {  // the most likely stays
      int j = (int) (0xffffffffu - (unsigned int) c.key[s]);
      cumulative = __dadd_rn(cumulative, (double) c.p[j]);
      if (__double2float_rn(cumulative) > __double2float_rn(threshold)) break;  // in float, as the host
      c.val[j] = neg_inf();
    }
  }
  __syncthreads();
}

// Step 6's filters, in HF's order (ChoiceRow's min_p, typical, epsilon, eta; 0: off).
enum Filter { FILTER_MIN_P, FILTER_TYPICAL, FILTER_EPSILON, FILTER_ETA, FILTERS };

// A filter's setting, 0 when off (typical_p also from a mass of 1, where the host's typicalP stops).
__device__ __forceinline__ float filter_setting(const ChoiceRow& c, int f) {
  if (f == FILTER_TYPICAL) return c.typical < 1.f ? c.typical : 0.f;
  return f == FILTER_MIN_P ? c.min_p : f == FILTER_EPSILON ? c.epsilon : c.eta;
}

// The smallest probability a cut keeps, as LogitsProcessors computes it: min_p x the top's
// probability ((float) 1 * inv), epsilon, or min(eta, (float) (sqrt(eta) * exp(-entropy))).
__device__ __forceinline__ float cut_off(int cut, float setting, float inv, double entropy) {
  if (cut == FILTER_MIN_P) return __fmul_rn(setting, inv);
  if (cut == FILTER_EPSILON) return setting;
  return fminf(setting, __double2float_rn(__dmul_rn(sqrt((double) setting), exp(-entropy))));
}

// One term of the entropy, -p log p in double (0 for p == 0), as LogitsProcessors.etaCutoff.
__device__ __forceinline__ double entropy_term(float p) {
  return p > 0.f ? -__dmul_rn((double) p, log((double) p)) : 0.0;
}

// Step 6, exact path: LogitsProcessors.minP, epsilonCutoff or etaCutoff over n candidates in id
// order (removed ones are -inf), in the host's arithmetic and order. Removed candidates get -inf.
__device__ void cut_exact(Candidates c, int n, float mx, int cut, float setting) {
  __shared__ double entropy_shared;
  float inv = __double2float_rn(__ddiv_rn(1.0, exact_numerators(c, n, mx)));
  if (cut == FILTER_ETA) {
    if (threadIdx.x == 0) {
      double h = 0;
      for (int j = 0; j < n; j++) h = __dadd_rn(h, entropy_term(__fmul_rn(__double2float_rn(c.e[j]), inv)));
      entropy_shared = h;
    }
    __syncthreads();
  }
  float cutoff = cut_off(cut, setting, inv, cut == FILTER_ETA ? entropy_shared : 0.0);
  for (int j = threadIdx.x; j < n; j += blockDim.x) {
    if (c.val[j] < mx && __fmul_rn(__double2float_rn(c.e[j]), inv) < cutoff) c.val[j] = neg_inf();
  }
  __syncthreads();
}

// typical_p's view of a token, in LogitsProcessors.typicalP's float and double steps: its
// log-probability (float) ((logit - max) - log(sum)) and its distance |-log p - entropy|.
struct Typical {
  float mx;
  double log_sum;
  float ent;
  __device__ __forceinline__ float log_p(float v) const {
    return __double2float_rn(__dsub_rn((double) __fsub_rn(v, mx), log_sum));
  }
  __device__ __forceinline__ unsigned int distance(float v) const {  // >= 0: the bits order as the floats
    return __float_as_uint(fabsf(__fsub_rn(-log_p(v), ent)));
  }
};

// A token's term of typical_p's entropy, log p x (float) exp(log p), the product in float.
__device__ __forceinline__ double typical_term(float log_p) {
  return (double) __fmul_rn(log_p, __double2float_rn(exp((double) log_p)));
}

// Step 6, exact path: LogitsProcessors.typicalP over n candidates in id order (removed ones are
// -inf), in the host's arithmetic and order: the entropy summed in id order, the candidates sorted
// by (distance, id), their probabilities summed in that order until the sum reaches the mass; those
// farther than the last one summed get -inf. Returns the largest logit left (the most likely token
// may go).
__device__ float typical_exact(Candidates c, int n, float mx, float mass) {
  __shared__ double entropy_shared;
  __shared__ unsigned int cut_shared;
  double sum = exact_numerators(c, n, mx);
  float inv = __double2float_rn(__ddiv_rn(1.0, sum));
  Typical t{mx, log(sum), 0.f};
  if (threadIdx.x == 0) {
    double h = 0;
    for (int j = 0; j < n; j++) {
      if (c.val[j] != neg_inf()) h = __dsub_rn(h, typical_term(t.log_p(c.val[j])));
    }
    entropy_shared = h;
  }
  __syncthreads();
  t.ent = __double2float_rn(entropy_shared);
  int m = 1;
  while (m < n) m <<= 1;
  int finite = 0;
  for (int j = threadIdx.x; j < m; j += blockDim.x) {
    bool in = j < n && c.val[j] != neg_inf();
    if (in) c.p[j] = __fmul_rn(__double2float_rn(c.e[j]), inv);
    c.key[j] = in ? ((u64) t.distance(c.val[j]) << 32) | (unsigned int) j : ~0ull;
    finite += in ? 1 : 0;
  }
  finite = block_reduce(finite, 0, SumOp());  // its barriers also publish the keys
  bitonic_sort(c.key, m);
  if (threadIdx.x == 0) {
    double cumulative = 0;
    int last = 0;
    while (last < finite - 1) {
      cumulative = __dadd_rn(cumulative, (double) c.p[(int) (c.key[last] & 0xffffffffu)]);
      if (__double2float_rn(cumulative) >= mass) break;
      last++;
    }
    cut_shared = (unsigned int) (c.key[last] >> 32);
  }
  __syncthreads();
  float left = neg_inf();
  for (int j = threadIdx.x; j < n; j += blockDim.x) {
    float v = c.val[j];
    if (v != neg_inf() && t.distance(v) > cut_shared) {
      c.val[j] = neg_inf();
    } else {
      left = fmaxf(left, v);
    }
  }
  return block_reduce(left, neg_inf(), MaxOp());  // its barriers also publish c.val
}

// Step 7, exact path: Sampler.sample over n candidates in id order. Returns the token, or -1;
// *logprob: its log-probability (NaN with -1).
__device__ int draw_exact(Candidates c, int n, float mx, double u, double* logprob) {
  __shared__ int chosen;
  __shared__ double chosen_logprob;
  double sum = exact_numerators(c, n, mx);
  if (threadIdx.x == 0) {
    float inv = __double2float_rn(__ddiv_rn(1.0, sum));
    double cumulative = 0;
    int last = -1, pick = -1;
    for (int j = 0; j < n && pick < 0; j++) {
      float q = __fmul_rn(__double2float_rn(c.e[j]), inv);
      if (q > 0.f) {
        cumulative = __dadd_rn(cumulative, (double) q);
        last = j;
        if (u < cumulative) pick = j;
      }
    }
    if (pick < 0) pick = last;  // u beyond the rounded total
    chosen = pick < 0 ? -1 : c.id[pick];
    chosen_logprob = pick < 0 ? not_a_number() : (double) __fsub_rn(c.val[pick], mx) - log(sum);
  }
  __syncthreads();
  *logprob = chosen_logprob;
  return chosen;
}

// Digits of the logit's order key, under the digits decided so far.
struct LogitDigit {
  unsigned int prefix, mask;
  int shift;
  __device__ int operator()(float v, int) const {
    unsigned int k = order_key(v);
    return (k & mask) == prefix ? (int) ((k >> shift) & 15u) : -1;
  }
};

// Among equal logits (order key `logit`): digits of the reversed id, cols - 1 - id (higher ids sort first).
struct IdDigit {
  unsigned int logit, prefix, mask;
  int shift, cols;
  __device__ int operator()(float v, int i) const {
    if (order_key(v) != logit) return -1;
    unsigned int r = (unsigned int) (cols - 1 - i);
    return (r & mask) == prefix ? (int) ((r >> shift) & 15u) : -1;
  }
};

// Step 6, more than CHOICE_CAP candidates: a cut with the softmax's sum (and eta's entropy) in the
// block's order. Writes -inf over every token it or keep removes, so that keep can start afresh.
// ef: (cols) scratch for (float) e.
__device__ void cut_parallel(float* row, float* ef, int cols, Keep keep, float mx, int cut, float setting) {
  double s = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) ef[i] = numerator(row[i], i, keep, mx, s);
  float inv = __double2float_rn(__ddiv_rn(1.0, block_reduce(s, 0.0, SumOp())));
  double entropy = 0;
  if (cut == FILTER_ETA) {
    double h = 0;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) h += entropy_term(__fmul_rn(ef[i], inv));
    entropy = block_reduce(h, 0.0, SumOp());
  }
  float cutoff = cut_off(cut, setting, inv, entropy);
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = row[i];
    if (!keep(v, i) || (v < mx && __fmul_rn(ef[i], inv) < cutoff)) row[i] = neg_inf();
  }
  __syncthreads();
}

// 2-bit digits of typical_p's distance, under the digits decided so far.
struct DistanceDigit {
  Typical t;
  unsigned int prefix, mask;
  int shift;
  __device__ int operator()(float v, int) const {
    unsigned int k = t.distance(v);
    return (k & mask) == prefix ? (int) ((k >> shift) & 3u) : -1;
  }
};

// Step 6, more than CHOICE_CAP candidates: typical_p with the sums in the block's order and its cut
// found by a radix descent over the distances, not a sort (every token at the cut's distance stays,
// so ties need no ids). Writes -inf over every token it or keep removes. Returns the largest logit
// left. ef: (cols) scratch for (float) e.
__device__ float typical_parallel(float* row, float* ef, int cols, Keep keep, float mx, float mass) {
  double s = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) ef[i] = numerator(row[i], i, keep, mx, s);
  double sum = block_reduce(s, 0.0, SumOp());
  float inv = __double2float_rn(__ddiv_rn(1.0, sum));
  Typical t{mx, log(sum), 0.f};
  double h = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = row[i];
    if (keep(v, i)) h += typical_term(t.log_p(v));
  }
  t.ent = __double2float_rn(-block_reduce(h, 0.0, SumOp()));
  unsigned int cut = 0;
  double below = 0;
  int count = 0;
  for (int shift = 30; shift >= 0; shift -= 2) {
    DistanceDigit digit{t, cut, shift == 30 ? 0u : ~0u << (shift + 2), shift};
    int d = pick_digit<4>(row, ef, inv, cols, keep, digit, ReachesFloat{mass}, shift == 30, below, count);
    if (d < 0) {  // the total never reaches the mass: nothing goes
      cut = ~0u;
      break;
    }
    cut |= (unsigned int) d << shift;
  }
  float left = neg_inf();
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = row[i];
    if (!keep(v, i) || t.distance(v) > cut) {
      row[i] = neg_inf();
    } else {
      left = fmaxf(left, v);
    }
  }
  return block_reduce(left, neg_inf(), MaxOp());  // its barriers also publish the row
}

// Step 5, more than CHOICE_CAP candidates: top-p's cut without sorting. Returns the key of the
// candidate at which the ascending cumulative probability first exceeds the threshold (the
// smallest key kept), or max_key when it never does. ef: (cols) scratch for (float) e.
__device__ u64 top_p_parallel(const float* row, float* ef, int cols, Keep keep, float mx, u64 max_key,
                              double threshold) {
  double s = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    ef[i] = numerator(row[i], i, keep, mx, s);
  }
  double sum = block_reduce(s, 0.0, SumOp());  // its barriers also publish ef
  float inv = __double2float_rn(__ddiv_rn(1.0, sum));
  double below = 0;
  int count = 0;
  unsigned int logit = 0;
  for (int shift = 28; shift >= 0; shift -= 4) {
    LogitDigit digit{logit, shift == 28 ? 0u : ~0u << (shift + 4), shift};
    int d = pick_digit<16>(row, ef, inv, cols, keep, digit, Exceeds{threshold}, shift == 28, below, count);
    if (d < 0) return max_key;
    logit |= (unsigned int) d << shift;
  }
  unsigned int rid = 0;  // cols - 1 - id of the cut
  if (count > 1) {       // equal logits: go on over the reversed ids
    int bits = 4;
    while (bits < 32 && ((unsigned int) (cols - 1) >> bits) != 0) bits += 4;
    for (int shift = bits - 4; shift >= 0 && count > 1; shift -= 4) {
      IdDigit digit{logit, rid, shift + 4 >= 32 ? 0u : ~0u << (shift + 4), shift, cols};
      int d = pick_digit<16>(row, ef, inv, cols, keep, digit, Exceeds{threshold}, false, below, count);
      rid |= (unsigned int) d << shift;
    }
  }
  // the one candidate with that logit (and reversed-id prefix): its key
  u64 best = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = row[i];
    if (keep(v, i) && order_key(v) == logit) {
      unsigned int r = (unsigned int) (cols - 1 - i);
      if (r >= rid) {
        u64 k = choice_key(v, i);
        best = best == 0 || k < best ? k : best;  // the smallest key at or above the prefix
      }
    }
  }
  return block_reduce(best == 0 ? ~0ull : best, ~0ull, MinOp());
}

// Step 7, more than CHOICE_CAP tokens left: Sampler.sample with each thread summing a run of ids in
// order and a scan over the runs. Returns the token, or -1; *sum: the softmax denominator. ef:
// (cols) scratch.
__device__ int draw_parallel(const float* row, float* ef, int cols, Keep keep, float mx, double u, double* sum) {
  int per = (cols + blockDim.x - 1) / blockDim.x;
  int from = imin(threadIdx.x * per, cols), to = imin(from + per, cols);
  double s = 0;
  for (int i = from; i < to; i++) {
    ef[i] = numerator(row[i], i, keep, mx, s);  // read back only by this thread
  }
  *sum = block_reduce(s, 0.0, SumOp());
  float inv = __double2float_rn(__ddiv_rn(1.0, *sum));
  double run = 0;
  for (int i = from; i < to; i++) {
    float q = __fmul_rn(ef[i], inv);
    if (q > 0.f) run += q;
  }
  double total;
  double cumulative = block_exclusive_scan(run, &total);
  int hit = 0x7fffffff, last = -1;
  for (int i = from; i < to; i++) {
    float q = __fmul_rn(ef[i], inv);
    if (q > 0.f) {
      cumulative += q;
      last = i;
      if (u < cumulative) {
        hit = i;
        break;
      }
    }
  }
  hit = block_reduce(hit, 0x7fffffff, MinOp());
  last = block_reduce(last, -1, MaxOp());
  return hit != 0x7fffffff ? hit : last;
}

// Steps 3 to 7 for a sampled row (3b: top_h). Returns the token; *logprob: its log-probability.
__device__ int sample_row(float* row, float* ef, int cols, const ChoiceRow& c, Candidates cand, double* logprob) {
  if (c.temperature != 1.f) {
    for (int i = threadIdx.x; i < cols; i += blockDim.x) row[i] = __fdiv_rn(row[i], c.temperature);
    __syncthreads();
  }
  if (c.top_h > 0.0) top_h(row, cols, c.top_h, cand);
  Keep keep{neg_inf(), 0ull};
  if (c.top_k > 0 && c.top_k < cols) keep.lo = from_order_key(kth_largest_key(row, cols, c.top_k));
  int n;
  u64 max_key;
  count_candidates(row, cols, keep, n, max_key);
  *logprob = not_a_number();
  if (n == 0) return block_argmax(row, cols);  // every logit -inf (the host would return -1)
  float mx = from_order_key((unsigned int) (max_key >> 32));
  bool in_shared = false;
  if (c.use_top_p) {
    if (n <= CHOICE_CAP) {
      compact(row, cols, keep, cand);
      top_p_exact(cand, n, mx, c.threshold);
      in_shared = true;
    } else {
      keep.cut = top_p_parallel(row, ef, cols, keep, mx, max_key, c.threshold);
      count_candidates(row, cols, keep, n, max_key);
    }
  }
  for (int f = 0; f < FILTERS; f++) {
    float setting = filter_setting(c, f);
    if (!(setting > 0.f)) continue;  // off
    if (!in_shared && n <= CHOICE_CAP) {
      compact(row, cols, keep, cand);
      in_shared = true;
    }
    if (in_shared) {
      if (f == FILTER_TYPICAL) {
        mx = typical_exact(cand, n, mx, setting);
      } else {
        cut_exact(cand, n, mx, f, setting);
      }
    } else {
      if (f == FILTER_TYPICAL) {
        mx = typical_parallel(row, ef, cols, keep, mx, setting);
      } else {
        cut_parallel(row, ef, cols, keep, mx, f, setting);
      }
      keep = Keep{neg_inf(), 0ull};
      count_candidates(row, cols, keep, n, max_key);
    }
  }
  if (!in_shared && n <= CHOICE_CAP) {
    compact(row, cols, keep, cand);
    in_shared = true;
  }
  int t;
  if (in_shared) {
    t = draw_exact(cand, n, mx, c.uniform, logprob);
  } else {
    double sum;
    t = draw_parallel(row, ef, cols, keep, mx, c.uniform, &sum);
    if (t >= 0) *logprob = (double) __fsub_rn(row[t], mx) - log(sum);
  }
  return t >= 0 ? t : block_argmax(row, cols);
}

// A greedy row's log-probability of token t, its largest logit (NaN when every logit is -inf, as
// on the host).
__device__ double greedy_log_prob(const float* row, int cols, int t) {
  float mx = row[t];
  double log_sum = log_sum_exp(row, cols, mx);
  return mx == neg_inf() ? not_a_number() : -log_sum;  // (logit - max) is 0
}

// One token per row of logits (rows, cols), chosen as rows[row] says; out (rows) ints; logprobs
// (rows) doubles, written for the rows with want_logprob. The row is processed in place. ids: the
// rows' penalty and ban lists. scratch: (rows, cols) floats.
// blockDim: a multiple of 32, at most 512; dynamic shared memory 28 * CHOICE_CAP bytes.
extern "C" __global__ void __launch_bounds__(512)
    choose_tokens(float* logits, int cols, const ChoiceRow* rows, const int* ids, float* scratch, int* out,
                  double* logprobs) {
  after_previous_kernel();
  DYNAMIC_SHARED(unsigned char, smem);
  Candidates cand;
  cand.key = reinterpret_cast<u64*>(smem);
  cand.e = reinterpret_cast<double*>(smem + 8 * CHOICE_CAP);
  cand.val = reinterpret_cast<float*>(smem + 16 * CHOICE_CAP);
  cand.p = reinterpret_cast<float*>(smem + 20 * CHOICE_CAP);
  cand.id = reinterpret_cast<int*>(smem + 24 * CHOICE_CAP);
  const ChoiceRow c = rows[blockIdx.x];
  float* row = logits + (long long) blockIdx.x * cols;
  apply_edits(row, c, ids);
  double logprob = 0;
  int token = c.sample ? sample_row(row, scratch + (long long) blockIdx.x * cols, cols, c, cand, &logprob)
                       : block_argmax(row, cols);
  if (c.want_logprob && !c.sample) logprob = greedy_log_prob(row, cols, token);
  if (threadIdx.x == 0) {
    out[blockIdx.x] = token;
    if (c.want_logprob) logprobs[blockIdx.x] = logprob;
  }
}
