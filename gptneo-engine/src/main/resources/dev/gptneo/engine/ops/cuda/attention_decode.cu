// Decode attention (sequences with one new token in the step) and the KV-cache store that runs
// after every layer's attention. The cache is a ring on local layers: position p in slot p % slots.
#include "common.cuh"

#define DECODE_UNROLL 4     // keys per stream and pass of the one-pass kernel
#define DECODE_THREADS 256  // the host's blockDim for attention_decode_T (at most)

// Where one decode block's (sequence blockIdx.x, head) reads and writes: the new token at position
// pos sees keys lo..pos, cached ones (slot p % slots), then its own from qkv.
template <typename T>
struct DecodeHead {
  T* keys;             // (slots, head_dim) this head's cached keys
  T* values;           // (slots, head_dim)
  const float* fresh;  // the token's q; k at +hidden, v at +2 hidden
  int row, pos, lo, count, slots;  // count = pos - lo + 1 keys
};

template <typename T>
__device__ __forceinline__ DecodeHead<T> decode_head(const float* qkv, const int* decode_seqs, const int* seq_start,
                                                     const int* past_len, const unsigned long long* cache_base,
                                                     const int* capacity, int hidden, int head, int head_dim,
                                                     int globals_before, int locals_before, int local, int window) {
  const int seq = decode_seqs[blockIdx.x];
  LayerCache<T> cache = layer_cache<T>(cache_base[seq], capacity[seq], hidden, globals_before, locals_before,
                                       local, window);
  DecodeHead<T> h;
  h.row = seq_start[seq];
  h.pos = past_len[seq];
  h.slots = cache.slots;
  h.keys = cache.keys + (long long) head * cache.slots * head_dim;
  h.values = cache.values + (long long) head * cache.slots * head_dim;
  h.fresh = qkv + (long long) h.row * 3 * hidden + head * head_dim;
  h.lo = local ? imax(0, h.pos - window + 1) : 0;
  h.count = h.pos - h.lo + 1;
  return h;
}

// Stores the token's own key and value of this head in its slot, once every read of the cache is
// behind a barrier (the slot may hold a key the window has just left).
template <typename T>
__device__ __forceinline__ void store_own_kv(const DecodeHead<T>& h, int hidden, int head_dim) {
  T* k = h.keys + (long long) (h.pos % h.slots) * head_dim;
  T* v = h.values + (long long) (h.pos % h.slots) * head_dim;
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    store(k + d, h.fresh[hidden + d]);
    store(v + d, h.fresh[2 * hidden + d]);
  }
}

// out[at] = v, and its 16-bit copy.
template <typename T>
__device__ __forceinline__ void write_decode_out(float v, long long at, float* out, T* out_half) {
  out[at] = v;
  if (out_half) store(out_half + at, v);
}

// p[0, keys) = exp(p - max p) over the block; returns their sum. Its barriers publish p.
__device__ __forceinline__ float softmax_numerators(float* p, int keys, float* scratch) {
  float top = neg_inf();
  for (int i = threadIdx.x; i < keys; i += blockDim.x) top = fmaxf(top, p[i]);
  top = block_max(top, scratch);
  float sum = 0.f;
  for (int i = threadIdx.x; i < keys; i += blockDim.x) {
    float e = expf(p[i] - top);
    p[i] = e;
    sum += e;
  }
  return block_sum(sum, scratch);
}

// Head sizes other than 16, 32, 64, 128 and 256, in two passes. One block per (decode sequence, head);
// grid (decode sequences, heads), blockDim a multiple of 32 (256: a thread per key of a 256-token
// window).
// The new token at position past sees keys lo..past: cached ones, then its own from qkv. With
// store_kv the block then caches its own key and value (a step of decode tokens only, which then
// needs no kv_store launch). Shared memory: (head_dim + keys + max(blockDim, head_dim)) floats, keys = past - lo + 1.
template <typename T>
__device__ void attention_decode(const float* qkv, float* out, T* out_half, const int* decode_seqs,
                                 const int* seq_start, const int* past_len, const unsigned long long* cache_base,
                                 const int* capacity, int hidden, int head_dim, int globals_before, int locals_before,
                                 int local, int window, int store_kv) {
  __shared__ float scratch[32];
  DYNAMIC_SHARED(float, smem);
  const int head = blockIdx.y;
  const DecodeHead<T> h = decode_head<T>(qkv, decode_seqs, seq_start, past_len, cache_base, capacity, hidden, head,
                                         head_dim, globals_before, locals_before, local, window);
  const T *ck = h.keys, *cv = h.values;
  const float* fresh = h.fresh;
  const int row = h.row, pos = h.pos, lo = h.lo, keys = h.count, slots = h.slots;
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
      const T* k = ck + (long long) (j % slots) * head_dim;
#pragma unroll 8
      for (int d = 0; d < head_dim; d++) acc += q[d] * to_float(k[d]);
    } else {
      for (int d = 0; d < head_dim; d++) acc += q[d] * fresh[hidden + d];
    }
    p[j - lo] = acc;
  }
  __syncthreads();
  float sum = softmax_numerators(p, keys, scratch);

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
        acc += p[i] * (j < pos ? to_float(cv[(long long) (j % slots) * head_dim + d]) : fresh[2 * hidden + d]);
      }
      partial[g * head_dim + d] = acc;
    }
  }
  __syncthreads();
  for (int d = tid; d < head_dim; d += blockDim.x) {
    float acc = 0.f;
    for (int k = 0; k < groups; k++) acc += partial[k * head_dim + d];
    write_decode_out(acc / sum, (long long) row * hidden + head * head_dim + d, out, out_half);
  }
  if (store_kv) store_own_kv(h, hidden, head_dim);
}

// The same attention for head_dim = 8 G (16, 32, 64, 128, 256) in one pass over the cache (online
// softmax, as in flash-decoding): G lanes (a stream) share a key, each with 8 of its dims in one
// 16-byte load, so a warp reads whole cache rows at once. Stream s takes every streams-th cached
// key; each pass loads DECODE_UNROLL keys' key and value rows before using any (at batch 1 each
// pass is one memory latency) and folds them into the stream's running max, sum of exponentials
// and value sums; stream 0 folds in the token's own key; then the streams are merged. No barrier
// between scores and values: 8-9% faster than a two-pass kernel on an H100 at batch 1 and 128.
// Split keys (gridDim.y = heads x splits, blockIdx.y = split x heads + head; splits > 1 when few
// (sequence, head) pairs would leave most of the device idle): each block takes one of `splits`
// contiguous parts of the cached keys (split 0 also the token's own), writes its max, sum of
// exponentials and value sums to partial (pairs, splits, 2 + D), and the last of a pair's blocks to
// arrive (tickets, one int per pair, zero between launches) merges them in split order: the same
// bits whatever order the blocks ran in. Shared memory: (8 blockDim + 2 blockDim / G) floats.
template <typename T, int G>
__device__ void attention_decode_online(const float* qkv, float* out, T* out_half, const int* decode_seqs,
                                        const int* seq_start, const int* past_len,
                                        const unsigned long long* cache_base, const int* capacity, int hidden,
                                        int globals_before, int locals_before, int local, int window, int store_kv,
                                        float* partial, int* tickets) {
  constexpr int D = 8 * G;
  DYNAMIC_SHARED(float, smem);
  const int heads = hidden / D, head = blockIdx.y % heads, split = blockIdx.y / heads, splits = gridDim.y / heads;
  const DecodeHead<T> h = decode_head<T>(qkv, decode_seqs, seq_start, past_len, cache_base, capacity, hidden, head,
                                         D, globals_before, locals_before, local, window);
  const int tid = threadIdx.x, c = tid % G, stream = tid / G, streams = blockDim.x / G;
  float* sums = smem;                 // (streams, D) value sums per stream
  float* stats = sums + streams * D;  // (streams, 2) running max and sum of exponentials per stream
  const int span = (h.pos - h.lo + splits - 1) / splits;
  const int from = h.lo + split * span, to = imin(h.pos, from + span);  // this block's cached keys
  float q[8], acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  load8(h.fresh + 8 * c, q);
  float top = neg_inf(), total = 0.f;
  for (int base = from; base < to; base += DECODE_UNROLL * streams) {  // the same trip count for every lane
    Packed8<T> kp[DECODE_UNROLL], vp[DECODE_UNROLL];
#pragma unroll
    for (int u = 0; u < DECODE_UNROLL; u++) {
      const int j = base + u * streams + stream;
      if (j < to) {
        const long long at = (long long) (j % h.slots) * D + 8 * c;
        kp[u] = load_packed8(h.keys + at);
        vp[u] = load_packed8(h.values + at);
      } else {
        kp[u] = Packed8<T>{};
        vp[u] = Packed8<T>{};
      }
    }
    float s[DECODE_UNROLL], m = top;
#pragma unroll
    for (int u = 0; u < DECODE_UNROLL; u++) {
      float k[8], a = 0.f;
      unpack8(kp[u], k);
#pragma unroll
      for (int e = 0; e < 8; e++) a += q[e] * k[e];
#pragma unroll
      for (int o = G / 2; o > 0; o >>= 1) a += __shfl_xor_sync(0xffffffffu, a, o);  // the key's G lanes
      s[u] = base + u * streams + stream < to ? a : neg_inf();
      m = fmaxf(m, s[u]);
    }
    if (m == neg_inf()) continue;  // no key of this stream yet (the same for its G lanes)
    const float scale = expf(top - m);  // 0 while top is -inf
    total *= scale;
#pragma unroll
    for (int e = 0; e < 8; e++) acc[e] *= scale;
#pragma unroll
    for (int u = 0; u < DECODE_UNROLL; u++) {
      float v[8], w = expf(s[u] - m);  // 0 for the pass's missing keys
      unpack8(vp[u], v);
      total += w;
#pragma unroll
      for (int e = 0; e < 8; e++) acc[e] += w * v[e];
    }
    top = m;
  }
  if (split == 0) {  // the token's own key and value, from qkv: every stream scores it (the shuffles need all lanes)
    float k[8], v[8], a = 0.f;
    load8(h.fresh + hidden + 8 * c, k);
    load8(h.fresh + 2 * hidden + 8 * c, v);
#pragma unroll
    for (int e = 0; e < 8; e++) a += q[e] * k[e];
#pragma unroll
    for (int o = G / 2; o > 0; o >>= 1) a += __shfl_xor_sync(0xffffffffu, a, o);
    if (stream == 0) {
      const float m = fmaxf(top, a), scale = expf(top - m), w = expf(a - m);
      total = total * scale + w;
#pragma unroll
      for (int e = 0; e < 8; e++) acc[e] = acc[e] * scale + w * v[e];
      top = m;
    }
  }
#pragma unroll
  for (int e = 0; e < 8; e++) sums[stream * D + 8 * c + e] = acc[e];
  if (c == 0) {
    stats[2 * stream] = top;
    stats[2 * stream + 1] = total;
  }
  __syncthreads();  // also: every read of the cache is done
  const int pair = blockIdx.x * heads + head;  // (sequence, head)
  for (int d = tid; d < D; d += blockDim.x) {
    float m = neg_inf();
    for (int k = 0; k < streams; k++) m = fmaxf(m, stats[2 * k]);
    float num = 0.f, den = 0.f;
    for (int k = 0; k < streams; k++) {
      if (stats[2 * k] == neg_inf()) continue;  // a stream without keys
      const float w = expf(stats[2 * k] - m);
      num += w * sums[k * D + d];
      den += w * stats[2 * k + 1];
    }
    if (splits == 1) {
      write_decode_out(num / den, (long long) h.row * hidden + head * D + d, out, out_half);
    } else {
      float* mine = partial + ((long long) pair * splits + split) * (2 + D);  // this split's [max, sum, values]
      if (d == 0) mine[0] = m, mine[1] = den;
      mine[2 + d] = num;
    }
  }
  if (splits > 1) {
    __shared__ int last;
    __syncthreads();  // the block's sums are written
    if (tid == 0) last = take_ticket(tickets + pair, splits);
    __syncthreads();
    if (!last) return;  // the last block merges, and stores the token's key once every split has read
    const float* parts = partial + (long long) pair * splits * (2 + D);
    for (int d = tid; d < D; d += blockDim.x) {
      float m = neg_inf();
      for (int z = 0; z < splits; z++) m = fmaxf(m, load_global(parts + z * (2 + D)));
      float num = 0.f, den = 0.f;
      for (int z = 0; z < splits; z++) {
        const float mz = load_global(parts + z * (2 + D));
        if (mz == neg_inf()) continue;  // a split without keys
        const float w = expf(mz - m);
        num += w * load_global(parts + z * (2 + D) + 2 + d);
        den += w * load_global(parts + z * (2 + D) + 1);
      }
      write_decode_out(num / den, (long long) h.row * hidden + head * D + d, out, out_half);
    }
  }
  if (store_kv) store_own_kv(h, hidden, D);
}

// Stores the step's new keys and values of one layer; one block per token. A ring keeps only the
// last `slots` positions of the step, so no two tokens of a sequence write the same slot. With
// head_dim % 4 == 0 a thread moves 4 dims of a head at a time (16-byte loads).
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
  const int step = (head_dim & 3) == 0 ? 4 : 1;
  for (int c = step * threadIdx.x; c < hidden; c += step * blockDim.x) {  // c = head * head_dim + d
    long long at = ((long long) (c / head_dim) * cache.slots + slot) * head_dim + c % head_dim;
    if (step == 4) {
      float kv[4];
      load4(k + c, kv);
      store4(cache.keys + at, kv);
      load4(k + hidden + c, kv);
      store4(cache.values + at, kv);
    } else {
      store(cache.keys + at, k[c]);
      store(cache.values + at, k[hidden + c]);
    }
  }
}

// Copies one layer of a sequence's cache into another sequence's block, whose capacity may differ
// (beam search, shared prompt starts): the positions the source keeps, the last min(length, slots),
// each to its slot in the destination. A layer's keys and values are 2 * heads runs of
// (slots, head_dim) one after another. Grid (ceil(kept * head_dim / blockDim), 2 * heads).
template <typename T>
__device__ void kv_copy(unsigned long long from, int from_capacity, unsigned long long to, int to_capacity,
                        int length, int hidden, int head_dim, int globals_before, int locals_before, int local,
                        int window) {
  const LayerCache<T> src = layer_cache<T>(from, from_capacity, hidden, globals_before, locals_before, local, window);
  const LayerCache<T> dst = layer_cache<T>(to, to_capacity, hidden, globals_before, locals_before, local, window);
  const int kept = imin(length, src.slots), run = blockIdx.y;  // run: keys of head run, or values of head run - heads
  const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long long) kept * head_dim) return;
  const int pos = length - kept + (int) (i / head_dim), d = (int) (i % head_dim);
  dst.keys[((long long) run * dst.slots + pos % dst.slots) * head_dim + d] =
      src.keys[((long long) run * src.slots + pos % src.slots) * head_dim + d];
}

#define DECODE_ONLINE(T, G)                                                                                      \
  attention_decode_online<T, G>(qkv, out, out_half, decode_seqs, seq_start, past_len, cache_base, capacity, hidden, \
                                globals_before, locals_before, local, window, store_kv, partial, tickets)
// BLOCKS: resident blocks of DECODE_THREADS the registers must allow (at most 85 registers for
// three, 128 for two): three for 16-bit caches (72 today), two for fp32 (123).
#define DECODE(S, T, BLOCKS)                                                                                     \
  extern "C" __global__ void __launch_bounds__(DECODE_THREADS, BLOCKS) attention_decode_##S(                     \
      const float* qkv, float* out, T* out_half, const int* decode_seqs, const int* seq_start, const int* past_len, \
      const unsigned long long* cache_base, const int* capacity, int hidden, int head_dim, int globals_before,   \
      int locals_before, int local, int window, int store_kv, float* partial, int* tickets) {                   \
    after_previous_kernel();                                                                                   \
    if (head_dim == 128)                                                                                       \
      DECODE_ONLINE(T, 16);                                                                                    \
    else if (head_dim == 64)                                                                                   \
      DECODE_ONLINE(T, 8);                                                                                     \
    else if (head_dim == 256)                                                                                  \
      DECODE_ONLINE(T, 32);                                                                                    \
    else if (head_dim == 32)                                                                                   \
      DECODE_ONLINE(T, 4);                                                                                     \
    else if (head_dim == 16)                                                                                   \
      DECODE_ONLINE(T, 2);                                                                                     \
    else /* one block per (sequence, head): the host launches no split */                                      \
      attention_decode(qkv, out, out_half, decode_seqs, seq_start, past_len, cache_base, capacity, hidden,       \
                       head_dim, globals_before, locals_before, local, window, store_kv);                       \
  }                                                                                                              \
  extern "C" __global__ void kv_store_##S(const float* qkv, const int* token_seq, const int* seq_start,          \
                                          const int* past_len, const unsigned long long* cache_base,             \
                                          const int* capacity, int hidden, int head_dim, int globals_before,     \
                                          int locals_before, int local, int window) {                            \
    after_previous_kernel();                                                                                     \
    kv_store<T>(qkv, token_seq, seq_start, past_len, cache_base, capacity, hidden, head_dim, globals_before,     \
                locals_before, local, window);                                                                  \
  }                                                                                                              \
  extern "C" __global__ void kv_copy_##S(unsigned long long from, int from_capacity, unsigned long long to,     \
                                         int to_capacity, int length, int hidden, int head_dim,                 \
                                         int globals_before, int locals_before, int local, int window) {        \
    after_previous_kernel();                                                                                     \
    kv_copy<T>(from, from_capacity, to, to_capacity, length, hidden, head_dim, globals_before, locals_before,   \
               local, window);                                                                                  \
  }

DECODE(f32, float, 2)
DECODE(f16, f16, 3)
DECODE(bf16, bf16, 3)
