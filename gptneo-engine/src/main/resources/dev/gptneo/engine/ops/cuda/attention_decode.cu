// Decode attention (sequences with one new token in the step) and the KV-cache store that runs
// after every layer's attention. The cache is a ring on local layers: position p in slot p % slots.
#include "common.cuh"

// One block per (decode sequence, head); grid (decode sequences, heads), blockDim a multiple of 32
// (256: a thread per key of a 256-token window, and head_dim 128 splits the values' keys in two).
// The new token at position past sees keys lo..past: cached ones, then its own from qkv.
// Shared memory: (head_dim + keys + max(blockDim, head_dim)) floats, keys = past - lo + 1.
template <typename T>
__device__ void attention_decode(const float* qkv, float* out, T* out_half, const int* decode_seqs,
                                 const int* seq_start, const int* past_len, const unsigned long long* cache_base,
                                 const int* capacity, int hidden, int head_dim, int globals_before, int locals_before,
                                 int local, int window) {
  __shared__ float scratch[32];
  DYNAMIC_SHARED(float, smem);
  const int seq = decode_seqs[blockIdx.x], head = blockIdx.y;
  const int row = seq_start[seq], pos = past_len[seq];
  LayerCache<T> cache = layer_cache<T>(cache_base[seq], capacity[seq], hidden, globals_before, locals_before,
                                       local, window);
  const T* ck = cache.keys + (long long) head * cache.slots * head_dim;    // (slots, head_dim)
  const T* cv = cache.values + (long long) head * cache.slots * head_dim;  // (slots, head_dim)
  const float* fresh = qkv + (long long) row * 3 * hidden + head * head_dim;  // q; k at +hidden; v at +2 hidden
  const int lo = local ? imax(0, pos - window + 1) : 0, keys = pos - lo + 1;
  float* q = smem;            // (head_dim)
  float* p = q + head_dim;    // (keys) scores, then softmax numerators
  float* partial = p + keys;  // (groups, head_dim) output sums per group of keys
  const int tid = threadIdx.x;

  for (int d = tid; d < head_dim; d += blockDim.x) q[d] = fresh[d];
  __syncthreads();
  // A thread per key: its loads are independent of the other keys', with no shuffles between them
  // (a warp per key made each key a chain of load, multiply and five shuffles: latency-bound at batch 1).
  for (int j = lo + tid; j <= pos; j += blockDim.x) {
    float acc = 0.f;
    if (j < pos) {
      const T* k = ck + (long long) (j % cache.slots) * head_dim;
#pragma unroll 8
      for (int d = 0; d < head_dim; d++) acc += q[d] * to_float(k[d]);
    } else {
      for (int d = 0; d < head_dim; d++) acc += q[d] * fresh[hidden + d];
    }
    p[j - lo] = acc;
  }
  __syncthreads();
  float top = neg_inf();
  for (int i = tid; i < keys; i += blockDim.x) top = fmaxf(top, p[i]);
  top = block_max(top, scratch);
  float sum = 0.f;
  for (int i = tid; i < keys; i += blockDim.x) {
    float e = expf(p[i] - top);
    p[i] = e;
    sum += e;
  }
  sum = block_sum(sum, scratch);  // its barriers also publish p

  // Weighted sum of values: groups of head_dim threads take every groups-th key, then add up.
  const bool wide = (int) blockDim.x >= head_dim;
  const int groups = wide ? blockDim.x / head_dim : 1;
  const int g = wide ? tid / head_dim : 0;
  if (g < groups) {
    for (int d = wide ? tid % head_dim : tid; d < head_dim; d += wide ? head_dim : blockDim.x) {
      float acc = 0.f;
#pragma unroll 4
      for (int i = g; i < keys; i += groups) {
        int j = lo + i;
        acc += p[i] * (j < pos ? to_float(cv[(long long) (j % cache.slots) * head_dim + d]) : fresh[2 * hidden + d]);
      }
      partial[g * head_dim + d] = acc;
    }
  }
  __syncthreads();
  for (int d = tid; d < head_dim; d += blockDim.x) {
    float acc = 0.f;
    for (int k = 0; k < groups; k++) acc += partial[k * head_dim + d];
    float v = acc / sum;
    long long at = (long long) row * hidden + head * head_dim + d;
    out[at] = v;
    if (out_half) store(out_half + at, v);
  }
}

// Eight consecutive elements from 16-byte aligned memory, as floats.
__device__ __forceinline__ void load8(const float* p, float v[8]) {
  float4 a = *reinterpret_cast<const float4*>(p), b = *reinterpret_cast<const float4*>(p + 4);
  v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
  v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
}

template <typename T>  // 16-bit T: one 16-byte load
__device__ __forceinline__ void load8(const T* p, float v[8]) {
  uint4 u = *reinterpret_cast<const uint4*>(p);
  unsigned w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
  for (int i = 0; i < 4; i++) {
    v[2 * i] = to_float(T{(unsigned short) (w[i] & 0xffffu)});
    v[2 * i + 1] = to_float(T{(unsigned short) (w[i] >> 16)});
  }
}

// The same attention for head_dim = 8 G (64, 128, 256): G lanes share a key, each with 8 of its
// dims in one 16-byte load, so a warp reads whole cache rows at once; the block walks
// blockDim / G keys at a time. Values: each thread sums 8 dims over every (blockDim / G)-th key,
// then the streams are added up in shared memory. Bandwidth-bound at large batch, and few
// dependent loads per thread at batch 1. Shared memory: (head_dim + keys + 8 blockDim) floats.
template <typename T, int G>
__device__ void attention_decode_vec(const float* qkv, float* out, T* out_half, const int* decode_seqs,
                                     const int* seq_start, const int* past_len, const unsigned long long* cache_base,
                                     const int* capacity, int hidden, int globals_before, int locals_before, int local,
                                     int window) {
  constexpr int D = 8 * G;
  __shared__ float scratch[32];
  DYNAMIC_SHARED(float, smem);
  const int seq = decode_seqs[blockIdx.x], head = blockIdx.y;
  const int row = seq_start[seq], pos = past_len[seq];
  LayerCache<T> cache = layer_cache<T>(cache_base[seq], capacity[seq], hidden, globals_before, locals_before,
                                       local, window);
  const T* ck = cache.keys + (long long) head * cache.slots * D;    // (slots, D)
  const T* cv = cache.values + (long long) head * cache.slots * D;  // (slots, D)
  const float* fresh = qkv + (long long) row * 3 * hidden + head * D;  // q; k at +hidden; v at +2 hidden
  const int lo = local ? imax(0, pos - window + 1) : 0, keys = pos - lo + 1;
  float* p = smem;                  // (keys) scores, then softmax numerators
  const int tid = threadIdx.x, c = tid % G, stream = tid / G, streams = blockDim.x / G;
  float* partial = p + keys;        // (streams, D) value sums per stream
  float qr[8];
  load8(fresh + 8 * c, qr);

  for (int base = lo; base <= pos; base += streams) {  // the same trip count for every lane
    int j = base + stream;
    float kr[8], acc = 0.f;
    if (j <= pos) {
      if (j < pos) load8(ck + (long long) (j % cache.slots) * D + 8 * c, kr);
      else load8(fresh + hidden + 8 * c, kr);
#pragma unroll
      for (int e = 0; e < 8; e++) acc += qr[e] * kr[e];
    }
#pragma unroll
    for (int o = G / 2; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);  // the key's G lanes
    if (j <= pos && c == 0) p[j - lo] = acc;
  }
  __syncthreads();
  float top = neg_inf();
  for (int i = tid; i < keys; i += blockDim.x) top = fmaxf(top, p[i]);
  top = block_max(top, scratch);
  float sum = 0.f;
  for (int i = tid; i < keys; i += blockDim.x) {
    float e = expf(p[i] - top);
    p[i] = e;
    sum += e;
  }
  sum = block_sum(sum, scratch);  // its barriers also publish p

  float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  for (int i = stream; i < keys; i += streams) {
    int j = lo + i;
    float w = p[i], vr[8];
    if (j < pos) load8(cv + (long long) (j % cache.slots) * D + 8 * c, vr);
    else load8(fresh + 2 * hidden + 8 * c, vr);
#pragma unroll
    for (int e = 0; e < 8; e++) acc[e] += w * vr[e];
  }
#pragma unroll
  for (int e = 0; e < 8; e++) partial[stream * D + 8 * c + e] = acc[e];
  __syncthreads();
  for (int d = tid; d < D; d += blockDim.x) {
    float v = 0.f;
    for (int k = 0; k < streams; k++) v += partial[k * D + d];
    v /= sum;
    long long at = (long long) row * hidden + head * D + d;
    out[at] = v;
    if (out_half) store(out_half + at, v);
  }
}

// Stores the step's new keys and values of one layer; one block per token. A ring keeps only the
// last `slots` positions of the step, so no two tokens of a sequence write the same slot.
template <typename T>
__device__ void kv_store(const float* qkv, const int* token_seq, const int* seq_start, const int* past_len,
                         const unsigned long long* cache_base, const int* capacity, int hidden, int head_dim,
                         int globals_before, int locals_before, int local, int window) {
  const int t = blockIdx.x, seq = token_seq[t];
  const int first = seq_start[seq], past = past_len[seq];
  const int end = past + seq_start[seq + 1] - first, pos = past + t - first;
  LayerCache<T> cache = layer_cache<T>(cache_base[seq], capacity[seq], hidden, globals_before, locals_before,
                                       local, window);
  if (pos < end - cache.slots) return;
  const int slot = pos % cache.slots;
  const float* k = qkv + (long long) t * 3 * hidden + hidden;  // k; v at +hidden
  for (int c = threadIdx.x; c < hidden; c += blockDim.x) {     // c = head * head_dim + d
    long long at = ((long long) (c / head_dim) * cache.slots + slot) * head_dim + c % head_dim;
    store(cache.keys + at, k[c]);
    store(cache.values + at, k[hidden + c]);
  }
}

#define DECODE(S, T)                                                                                             \
  extern "C" __global__ void attention_decode_##S(                                                              \
      const float* qkv, float* out, T* out_half, const int* decode_seqs, const int* seq_start, const int* past_len, \
      const unsigned long long* cache_base, const int* capacity, int hidden, int head_dim, int globals_before,   \
      int locals_before, int local, int window) {                                                               \
    if (head_dim == 128)                                                                                       \
      attention_decode_vec<T, 16>(qkv, out, out_half, decode_seqs, seq_start, past_len, cache_base, capacity,    \
                                  hidden, globals_before, locals_before, local, window);                        \
    else if (head_dim == 64)                                                                                   \
      attention_decode_vec<T, 8>(qkv, out, out_half, decode_seqs, seq_start, past_len, cache_base, capacity,     \
                                 hidden, globals_before, locals_before, local, window);                         \
    else if (head_dim == 256)                                                                                  \
      attention_decode_vec<T, 32>(qkv, out, out_half, decode_seqs, seq_start, past_len, cache_base, capacity,    \
                                  hidden, globals_before, locals_before, local, window);                        \
    else                                                                                                       \
      attention_decode(qkv, out, out_half, decode_seqs, seq_start, past_len, cache_base, capacity, hidden,       \
                       head_dim, globals_before, locals_before, local, window);                                 \
  }                                                                                                              \
  extern "C" __global__ void kv_store_##S(const float* qkv, const int* token_seq, const int* seq_start,          \
                                          const int* past_len, const unsigned long long* cache_base,             \
                                          const int* capacity, int hidden, int head_dim, int globals_before,     \
                                          int locals_before, int local, int window) {                            \
    kv_store<T>(qkv, token_seq, seq_start, past_len, cache_base, capacity, hidden, head_dim, globals_before,     \
                locals_before, local, window);                                                                  \
  }

DECODE(f32, float)
DECODE(f16, f16)
DECODE(bf16, bf16)
