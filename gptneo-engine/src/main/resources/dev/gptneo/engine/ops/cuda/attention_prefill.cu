// GPT-Neo attention for prompt chunks (sequences with two or more new tokens in the step):
// flash attention with an online softmax, in fp32 on the CUDA cores. No 1/sqrt(head_dim) scaling.
// Query i sees key j when j <= i and, on local layers, j > i - window: a block of queries starts
// at the first key any of them sees, so key tiles wholly outside the window are never loaded.
// Keys before the step come from the KV cache (type T), the step's own from its fresh qkv rows. With
// store_kv a block also caches the fresh keys and values at its own query positions (no kv_store
// launch then); only when no query of the step reads a cached slot that a fresh key goes to (CudaOps).
#include "common.cuh"

#define BQ 64        // queries per block
#define BK 32        // keys per tile
#define THREADS 256  // thread (ty, tx) = (tid / 16, tid % 16): 4 queries x (2 keys or 4-dim chunks)
#define QS (BQ + 4)  // shared row strides; the padding keeps float4 / float2 loads aligned
#define KS (BK + 2)
#define PS (BQ + 4)

// v[0, step) = p[0, step): four in one load (p 16-byte aligned for floats, 8 for 16-bit T), or one.
template <typename T>
__device__ __forceinline__ void load_dims(const T* p, int step, float v[4]) {
  if (step == 4) load4(p, v);
  else v[0] = to_float(p[0]);
}

// The block's queries (rows row .. row + nq - 1 of qkv at the head's offset) into qt, transposed;
// zeros after them and past head_dim. step dims a thread and load: 4 where head_dim % 4 == 0, or 1.
template <int MAXD>
__device__ __forceinline__ void load_queries(float* qt, const float* q_head, long long row, int nq, int stride,
                                             int head_dim, int step) {
  for (int i = threadIdx.x; i < BQ * MAXD / step; i += THREADS) {
    const int q = i / (MAXD / step), d = step * (i % (MAXD / step));
    float v[4] = {0.f, 0.f, 0.f, 0.f};
    if (q < nq && d < head_dim) load_dims(q_head + (row + q) * stride + d, step, v);
#pragma unroll
    for (int e = 0; e < 4; e++)
      if (e < step) qt[(d + e) * QS + q] = v[e];
  }
}

// Keys j0 .. j0 + BK - 1 of the head (none after last; zeros past head_dim) into kt, transposed, and
// vs: positions before past from the cache (slot j % slots), later ones from their fresh qkv rows
// (position past at row0). step dims a thread and load; the dims of one key on adjacent threads.
template <typename T, int MAXD>
__device__ __forceinline__ void load_key_tile(float* kt, float* vs, const T* ck, const T* cv, int slots,
                                              const float* qkv_head, int row0, int past, int j0, int last,
                                              int stride, int hidden, int head_dim, int step) {
  for (int i = threadIdx.x; i < BK * MAXD / step; i += THREADS) {
    const int k = i / (MAXD / step), d = step * (i % (MAXD / step)), j = j0 + k;
    float key[4] = {0.f, 0.f, 0.f, 0.f}, value[4] = {0.f, 0.f, 0.f, 0.f};
    if (j <= last && d < head_dim) {
      if (j < past) {
        const long long at = (long long) (j % slots) * head_dim + d;
        load_dims(ck + at, step, key);
        load_dims(cv + at, step, value);
      } else {
        const float* fresh = qkv_head + (long long) (row0 + j - past) * stride + d;
        load_dims(fresh + hidden, step, key);
        load_dims(fresh + 2 * hidden, step, value);
      }
    }
#pragma unroll
    for (int e = 0; e < 4; e++) {
      if (e < step) {
        kt[(d + e) * KS + k] = key[e];
        vs[k * MAXD + d + e] = value[e];
      }
    }
  }
}

// Grid: (tiles, heads). tiles: (count, 2) = (sequence, first new token of the block).
// qkv: (tokens, 3 * hidden) as [q | k | v]; out, out_half (0 = none): (tokens, hidden).
// Shared memory: (MAXD * (QS + KS + BK) + BK * PS) floats. head_dim <= MAXD.
template <typename T, int MAXD>
__device__ void attention_prefill(const float* qkv, float* out, T* out_half, const int* tiles, const int* seq_start,
                                  const int* past_len, const unsigned long long* cache_base, const int* capacity,
                                  int hidden, int head_dim, int globals_before, int locals_before, int local,
                                  int window, int store_kv) {
  DYNAMIC_SHARED(float, smem);
  float* qt = smem;             // (MAXD, QS) the block's queries, transposed
  float* kt = qt + MAXD * QS;   // (MAXD, KS) one tile of keys, transposed
  float* vs = kt + MAXD * KS;   // (BK, MAXD) the tile's values
  float* pt = vs + BK * MAXD;   // (BK, PS) softmax numerators, transposed

  const int seq = tiles[2 * blockIdx.x], q0 = tiles[2 * blockIdx.x + 1], head = blockIdx.y;
  const int row0 = seq_start[seq];              // the sequence's first row in the step
  const int n = seq_start[seq + 1] - row0;      // its new tokens
  const int past = past_len[seq];               // its tokens already cached
  const int nq = imin(BQ, n - q0);
  const int stride = 3 * hidden, hoff = head * head_dim;
  LayerCache<T> cache = layer_cache<T>(cache_base[seq], capacity[seq], hidden, globals_before, locals_before,
                                       local, window);
  const T* ck = cache.keys + (long long) head * cache.slots * head_dim;    // (slots, head_dim)
  const T* cv = cache.values + (long long) head * cache.slots * head_dim;  // (slots, head_dim)
  const int tid = threadIdx.x, ty = tid >> 4, tx = tid & 15;
  if (store_kv) cache_own_kv(qkv, cache, row0 + q0, past + q0, nq, past + n, hidden, head, head_dim);

  const int step = (head_dim & 3) == 0 ? 4 : 1;  // dims a thread loads at once
  load_queries<MAXD>(qt, qkv + hoff, row0 + q0, nq, stride, head_dim, step);

  const int first = past + q0, last = past + q0 + nq - 1;  // positions of the block's queries
  const int lo = local ? imax(0, first - window + 1) : 0;  // the first key any of them sees
  float m[4], l[4], o[4][MAXD / 16];                       // per query row: running max, sum, output
#pragma unroll
  for (int r = 0; r < 4; r++) {
    m[r] = neg_inf();
    l[r] = 0.f;
#pragma unroll
    for (int e = 0; e < MAXD / 16; e++) o[r][e] = 0.f;
  }

  for (int j0 = lo; j0 <= last; j0 += BK) {
    __syncthreads();  // the previous tile is used up (first time: the queries are in place)
    load_key_tile<T, MAXD>(kt, vs, ck, cv, cache.slots, qkv + hoff, row0, past, j0, last, stride, hidden, head_dim,
                           step);
    __syncthreads();

    float s[4][2];  // scores of queries 4ty..4ty+3 with keys j0 + 2tx, j0 + 2tx + 1
#pragma unroll
    for (int r = 0; r < 4; r++) s[r][0] = s[r][1] = 0.f;
    for (int d = 0; d < head_dim; d++) {
      float4 q = *reinterpret_cast<const float4*>(qt + d * QS + 4 * ty);
      float2 k = *reinterpret_cast<const float2*>(kt + d * KS + 2 * tx);
      float qs[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
      for (int r = 0; r < 4; r++) {
        s[r][0] += qs[r] * k.x;
        s[r][1] += qs[r] * k.y;
      }
    }

    // Online softmax; the 16 threads of a row (same ty) are 16 adjacent lanes of one warp.
#pragma unroll
    for (int r = 0; r < 4; r++) {
      int i = first + 4 * ty + r;
      bool query = 4 * ty + r < nq;
#pragma unroll
      for (int c = 0; c < 2; c++) {
        int j = j0 + 2 * tx + c;
        if (!(query && j <= i && (!local || j > i - window))) s[r][c] = neg_inf();
      }
      float tile_max = fmaxf(s[r][0], s[r][1]);
      for (int off = 8; off > 0; off >>= 1) tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, off));
      float m_new = fmaxf(m[r], tile_max);
      float alpha = 1.f, p0 = 0.f, p1 = 0.f;
      if (m_new != neg_inf()) {  // else nothing visible yet: keep zeros
        alpha = expf(m[r] - m_new);
        p0 = expf(s[r][0] - m_new);
        p1 = expf(s[r][1] - m_new);
      }
      float p_sum = p0 + p1;
      for (int off = 8; off > 0; off >>= 1) p_sum += __shfl_xor_sync(0xffffffffu, p_sum, off);
      l[r] = l[r] * alpha + p_sum;
      m[r] = m_new;
#pragma unroll
      for (int e = 0; e < MAXD / 16; e++) o[r][e] *= alpha;
      pt[(2 * tx) * PS + 4 * ty + r] = p0;
      pt[(2 * tx + 1) * PS + 4 * ty + r] = p1;
    }
    __syncthreads();

    // o += p v; thread tx owns dims 64c + 4tx .. 64c + 4tx + 3
    int keys = imin(BK, last - j0 + 1);
    for (int k = 0; k < keys; k++) {
      float4 p = *reinterpret_cast<const float4*>(pt + k * PS + 4 * ty);
      float ps[4] = {p.x, p.y, p.z, p.w};
#pragma unroll
      for (int c = 0; c < MAXD / 64; c++) {
        float4 v = *reinterpret_cast<const float4*>(vs + k * MAXD + 64 * c + 4 * tx);
#pragma unroll
        for (int r = 0; r < 4; r++) {
          o[r][4 * c] += ps[r] * v.x;
          o[r][4 * c + 1] += ps[r] * v.y;
          o[r][4 * c + 2] += ps[r] * v.z;
          o[r][4 * c + 3] += ps[r] * v.w;
        }
      }
    }
  }

#pragma unroll
  for (int r = 0; r < 4; r++) {
    if (4 * ty + r >= nq) continue;
    float inv = 1.f / l[r];  // > 0: every query sees at least its own key
    long long at = (long long) (row0 + q0 + 4 * ty + r) * hidden + hoff;
#pragma unroll
    for (int e = 0; e < MAXD / 16; e++) {
      int d = 64 * (e / 4) + 4 * tx + e % 4;
      if (d < head_dim) {
        float v = o[r][e] * inv;
        out[at + d] = v;
        if (out_half) store(out_half + at + d, v);
      }
    }
  }
}

#define PREFILL(S, T, D)                                                                                       \
  extern "C" __global__ void __launch_bounds__(THREADS) attention_prefill_##S##_d##D(                         \
      const float* qkv, float* out, T* out_half, const int* tiles, const int* seq_start, const int* past_len,   \
      const unsigned long long* cache_base, const int* capacity, int hidden, int head_dim, int globals_before, \
      int locals_before, int local, int window, int store_kv) {                                               \
    after_previous_kernel();                                                                                   \
    attention_prefill<T, D>(qkv, out, out_half, tiles, seq_start, past_len, cache_base, capacity, hidden,      \
                            head_dim, globals_before, locals_before, local, window, store_kv);                \
  }

PREFILL(f32, float, 64)
PREFILL(f32, float, 128)
PREFILL(f32, float, 256)
PREFILL(f16, f16, 64)
PREFILL(f16, f16, 128)
PREFILL(f16, f16, 256)
PREFILL(bf16, bf16, 64)
PREFILL(bf16, bf16, 128)
PREFILL(bf16, bf16, 256)
