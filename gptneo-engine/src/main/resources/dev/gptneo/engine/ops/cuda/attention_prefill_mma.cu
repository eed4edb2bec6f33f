// GPT-Neo attention for prompt chunks on the tensor cores: the flash attention of
// attention_prefill.cu with Q K^T and P V as mma.sync m16n8k16 (16-bit inputs, fp32 accumulators).
// Queries, fresh keys and values and the softmax numerators P are rounded to the cache's 16-bit
// type on the way in (HF's fp16 attention rounds the same operands); the softmax itself, its
// running max and sum, and the output stay fp32. No 1/sqrt(head_dim) scaling. Query i sees key j
// when j <= i and, on local layers, j > i - window; tiles wholly outside a block's window are never
// loaded, and a warp skips the tiles that lie after all of its queries. With store_kv the block also
// caches the fresh keys and values at its own query positions (then no kv_store launch runs).
#include "common.cuh"

#define MQ 64         // queries per block: 16 per warp
#define MK 64         // keys per tile
#define MTHREADS 128  // 4 warps
#define PAD 8         // 16-bit elements after each shared row: spreads banks, keeps 4-byte alignment

// Grid: (tiles, heads), tiles as for attention_prefill (64 queries each). head_dim == D. store_kv: only
// when no query of the step reads a cached slot that a fresh key goes to (the host's rule, CudaOps).
// Shared memory: (MQ * (D + PAD) + MK * (D + PAD) + D * (MK + PAD)) 16-bit elements.
// Lane roles (PTX fragments): g = lane / 4 picks rows g and g + 8 of the warp's 16 queries,
// t = lane % 4 picks columns 2t, 2t + 1 (and + 8) of each 8-wide tile.
// qkv: (tokens, 3 hidden) of Q, fp32 or already T (the _h kernels: a prompt step whose q|k|v GEMM
// wrote only its 16-bit copy; the kernel rounds to T anyway, so the same values, half the reads).
template <typename T, int D, typename Q>
__device__ void attention_prefill_mma(const Q* qkv, float* out, T* out_half, const int* tiles, const int* seq_start,
                                      const int* past_len, const unsigned long long* cache_base, const int* capacity,
                                      int hidden, int head_dim, int globals_before, int locals_before, int local,
                                      int window, int store_kv) {
  constexpr int QROW = D + PAD, VROW = MK + PAD;
  DYNAMIC_SHARED(unsigned short, smem);
  unsigned short* qs = smem;             // (MQ, QROW) the block's queries
  unsigned short* ks = qs + MQ * QROW;   // (MK, QROW) one tile of keys
  unsigned short* vt = ks + MK * QROW;   // (D, VROW) the tile's values, transposed

  const int seq = tiles[2 * blockIdx.x], q0 = tiles[2 * blockIdx.x + 1], head = blockIdx.y;
  const int row0 = seq_start[seq], n = seq_start[seq + 1] - row0, past = past_len[seq];
  const int nq = imin(MQ, n - q0);
  const int stride = 3 * hidden, hoff = head * head_dim;
  LayerCache<T> cache = layer_cache<T>(cache_base[seq], capacity[seq], hidden, globals_before, locals_before,
                                       local, window);
  const T* ck = cache.keys + (long long) head * cache.slots * head_dim;    // (slots, head_dim)
  const T* cv = cache.values + (long long) head * cache.slots * head_dim;  // (slots, head_dim)
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  if (store_kv) cache_own_kv(qkv, cache, row0 + q0, past + q0, nq, past + n, hidden, head, head_dim);

  {  // the block's queries: row q of qs from qkv, 8 dims a load
    constexpr int PASSES = MQ * D / 8 / MTHREADS;
    const int q = tid % MQ;
    float v[PASSES][8];
#pragma unroll
    for (int c = 0; c < PASSES; c++) {
      const int d = 8 * (tid / MQ + (MTHREADS / MQ) * c);
      if (q < nq) load8(qkv + (long long) (row0 + q0 + q) * stride + hoff + d, v[c]);
      else
#pragma unroll
        for (int e = 0; e < 8; e++) v[c][e] = 0.f;
    }
#pragma unroll
    for (int c = 0; c < PASSES; c++) {
      const int d = 8 * (tid / MQ + (MTHREADS / MQ) * c);
      *reinterpret_cast<uint4*>(qs + q * QROW + d) = pack8<T>(v[c]);
    }
  }
  __syncthreads();
  const unsigned short* qw = qs + 16 * warp * QROW;  // the warp's 16 queries: A fragments, read per tile
  const int first = past + q0, last = past + q0 + nq - 1;  // positions of the block's queries
  const int lo = local ? imax(0, first - window + 1) : 0;  // the first key any of them sees
  const int warp_last = first + 16 * warp + 15;            // no query of this warp sees keys after it
  float m[2] = {neg_inf(), neg_inf()}, l[2] = {0.f, 0.f};  // rows g, g + 8: running max and sum
  float o[D / 8][4];                                       // output, 8 dims per fragment
#pragma unroll
  for (int dt = 0; dt < D / 8; dt++) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.f;

  for (int j0 = lo; j0 <= last; j0 += MK) {
    __syncthreads();  // the previous tile is used up
    {  // key row k of ks and value column k of vt: key j0 + k, 8 dims a load, GROUP loads in flight
      constexpr int PASSES = MK * D / 8 / MTHREADS, GROUP = 2;
      const int k = tid % MK, j = j0 + k;
      const bool cached = j < past, fresh = !cached && j <= last;
      const long long at = cached ? (long long) (j % cache.slots) * head_dim : (long long) (row0 + j - past) * stride;
#pragma unroll
      for (int c0 = 0; c0 < PASSES; c0 += GROUP) {
        uint4 kb[GROUP], vb[GROUP];
        float kf[GROUP][8], vf[GROUP][8];
#pragma unroll
        for (int c = 0; c < GROUP; c++) {
          const int d = 8 * (tid / MK + (MTHREADS / MK) * (c0 + c));
          kb[c].x = kb[c].y = kb[c].z = kb[c].w = 0u;
          vb[c] = kb[c];
          if (cached) {
            kb[c] = load_packed8(ck + at + d).u;
            vb[c] = load_packed8(cv + at + d).u;
          } else if (fresh) {
            load8(qkv + at + hoff + hidden + d, kf[c]);
            load8(qkv + at + hoff + 2 * hidden + d, vf[c]);
          }
        }
#pragma unroll
        for (int c = 0; c < GROUP; c++) {
          const int d = 8 * (tid / MK + (MTHREADS / MK) * (c0 + c));
          if (fresh) {
            kb[c] = pack8<T>(kf[c]);
            vb[c] = pack8<T>(vf[c]);
          }
          *reinterpret_cast<uint4*>(ks + k * QROW + d) = kb[c];
          const unsigned w[4] = {vb[c].x, vb[c].y, vb[c].z, vb[c].w};
#pragma unroll
          for (int e = 0; e < 4; e++) {
            vt[(d + 2 * e) * VROW + k] = (unsigned short) (w[e] & 0xffffu);
            vt[(d + 2 * e + 1) * VROW + k] = (unsigned short) (w[e] >> 16);
          }
        }
      }
    }
    __syncthreads();
    if (j0 > warp_last || 16 * warp >= nq) continue;  // the whole warp: causal, or past the chunk's end

    float s[MK / 8][4];  // scores: per 8 keys, (row g, keys 2t, 2t + 1), (row g + 8, same keys)
#pragma unroll
    for (int nt = 0; nt < MK / 8; nt++) {
      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
      const unsigned short* kr = ks + (8 * nt + g) * QROW;
#pragma unroll
      for (int kk = 0; kk < D / 16; kk++) {
        const unsigned qa[4] = {pair_at(qw + g * QROW + 16 * kk + 2 * t), pair_at(qw + (g + 8) * QROW + 16 * kk + 2 * t),
                                pair_at(qw + g * QROW + 16 * kk + 8 + 2 * t),
                                pair_at(qw + (g + 8) * QROW + 16 * kk + 8 + 2 * t)};
        mma16816((const T*) nullptr, s[nt], qa, pair_at(kr + 16 * kk + 2 * t), pair_at(kr + 16 * kk + 8 + 2 * t));
      }
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
      int qi = 16 * warp + g + 8 * r, i = first + qi;
      bool query = qi < nq;
      float top = neg_inf();
#pragma unroll
      for (int nt = 0; nt < MK / 8; nt++) {
#pragma unroll
        for (int c = 0; c < 2; c++) {
          int j = j0 + 8 * nt + 2 * t + c;
          if (!(query && j <= i && (!local || j > i - window))) s[nt][2 * r + c] = neg_inf();
          top = fmaxf(top, s[nt][2 * r + c]);
        }
      }
      top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 1));  // the row's four lanes
      top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 2));
      float m_new = fmaxf(m[r], top), alpha = 1.f, sum = 0.f;
      bool seen = m_new != neg_inf();  // else nothing visible yet: p = 0, keep zeros
      if (seen) alpha = expf(m[r] - m_new);
#pragma unroll
      for (int nt = 0; nt < MK / 8; nt++) {
#pragma unroll
        for (int c = 0; c < 2; c++) {
          float p = seen ? expf(s[nt][2 * r + c] - m_new) : 0.f;
          s[nt][2 * r + c] = p;
          sum += p;
        }
      }
      sum += __shfl_xor_sync(0xffffffffu, sum, 1);
      sum += __shfl_xor_sync(0xffffffffu, sum, 2);
      l[r] = l[r] * alpha + sum;
      m[r] = m_new;
#pragma unroll
      for (int dt = 0; dt < D / 8; dt++) {
        o[dt][2 * r] *= alpha;
        o[dt][2 * r + 1] *= alpha;
      }
    }
    // o += p v: the score fragments of two 8-key tiles are the A fragment of 16 keys
#pragma unroll
    for (int kt = 0; kt < MK / 16; kt++) {
      unsigned pa[4] = {pair_of<T>(s[2 * kt][0], s[2 * kt][1]), pair_of<T>(s[2 * kt][2], s[2 * kt][3]),
                        pair_of<T>(s[2 * kt + 1][0], s[2 * kt + 1][1]), pair_of<T>(s[2 * kt + 1][2], s[2 * kt + 1][3])};
#pragma unroll
      for (int dt = 0; dt < D / 8; dt++) {
        const unsigned short* vr = vt + (8 * dt + g) * VROW + 16 * kt;
        mma16816((const T*) nullptr, o[dt], pa, pair_at(vr + 2 * t), pair_at(vr + 8 + 2 * t));
      }
    }
  }

#pragma unroll
  for (int r = 0; r < 2; r++) {
    int qi = 16 * warp + g + 8 * r;
    if (qi >= nq) continue;
    float inv = 1.f / l[r];  // > 0: every query sees at least its own key
    long long at = (long long) (row0 + q0 + qi) * hidden + hoff;
#pragma unroll
    for (int dt = 0; dt < D / 8; dt++) {
#pragma unroll
      for (int c = 0; c < 2; c++) {
        int d = 8 * dt + 2 * t + c;
        float v = o[dt][2 * r + c] * inv;
        out[at + d] = v;
        if (out_half) store(out_half + at + d, v);
      }
    }
  }
}

// NAME: attention_prefill_mma_S_dD (qkv in fp32) or ..._h (qkv in T).
#define PREFILL_MMA(NAME, T, D, Q)                                                                             \
  extern "C" __global__ void __launch_bounds__(MTHREADS, 3) NAME(                                              \
      const Q* qkv, float* out, T* out_half, const int* tiles, const int* seq_start, const int* past_len,      \
      const unsigned long long* cache_base, const int* capacity, int hidden, int head_dim, int globals_before, \
      int locals_before, int local, int window, int store_kv) {                                               \
    after_previous_kernel();                                                                                   \
    attention_prefill_mma<T, D, Q>(qkv, out, out_half, tiles, seq_start, past_len, cache_base, capacity, hidden, \
                                   head_dim, globals_before, locals_before, local, window, store_kv);         \
  }

PREFILL_MMA(attention_prefill_mma_f16_d64, f16, 64, float)
PREFILL_MMA(attention_prefill_mma_f16_d128, f16, 128, float)
PREFILL_MMA(attention_prefill_mma_bf16_d64, bf16, 64, float)
PREFILL_MMA(attention_prefill_mma_bf16_d128, bf16, 128, float)
PREFILL_MMA(attention_prefill_mma_f16_d64_h, f16, 64, f16)
PREFILL_MMA(attention_prefill_mma_f16_d128_h, f16, 128, f16)
PREFILL_MMA(attention_prefill_mma_bf16_d64_h, bf16, 64, bf16)
PREFILL_MMA(attention_prefill_mma_bf16_d128_h, bf16, 128, bf16)
