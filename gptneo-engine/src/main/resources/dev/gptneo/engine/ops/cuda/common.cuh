// Helpers shared by the GPU backend's kernels. Compiled at run time by NVRTC (one program per
// .cu file, this header passed by name) and ahead of time by `nvcc -ptx` in the tests. No CUDA
// headers are included: NVRTC has none without a toolkit, so 16-bit types are converted with PTX.
// Under GPTNEO_EMU (tests only) the same code compiles as host C++ over a small emulator.
#ifndef GPTNEO_COMMON_CUH
#define GPTNEO_COMMON_CUH

#ifdef GPTNEO_EMU
#include "emu.h"
#define DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(emu_dynamic_shared())
#else
// One dynamic shared buffer per kernel, carved up by the kernel itself.
#define DYNAMIC_SHARED(T, name)                                   \
  extern __shared__ __align__(16) unsigned char gptneo_smem[];   \
  T* name = reinterpret_cast<T*>(gptneo_smem)
#endif

// 16-bit storage types: raw bits, so no cuda_fp16.h / cuda_bf16.h is needed.
struct f16 { unsigned short bits; };
struct bf16 { unsigned short bits; };

__device__ __forceinline__ float to_float(float v) { return v; }

__device__ __forceinline__ float to_float(f16 v) {
#ifdef GPTNEO_EMU
  return emu_f16_to_float(v.bits);
#else
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(v.bits));
  return f;
#endif
}

__device__ __forceinline__ float to_float(bf16 v) {
  return __uint_as_float(((unsigned int) v.bits) << 16);
}

__device__ __forceinline__ void store(float* p, float v) { *p = v; }

__device__ __forceinline__ void store(f16* p, float v) {
#ifdef GPTNEO_EMU
  p->bits = emu_float_to_f16(v);
#else
  unsigned short h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
  p->bits = h;
#endif
}

__device__ __forceinline__ void store(bf16* p, float v) {
#ifdef GPTNEO_EMU
  p->bits = emu_float_to_bf16(v);
#else
  unsigned short h;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(v));
  p->bits = h;
#endif
}

// Eight consecutive elements of T, as loaded from 16-byte aligned memory and not yet widened:
// one 16-byte load of 16-bit values (4 registers), or two of floats. Kernels that keep many loads
// in flight hold them packed and widen each when it is used.
template <typename T>
struct Packed8 { uint4 u; };
template <>
struct Packed8<float> { float4 a, b; };

__device__ __forceinline__ Packed8<float> load_packed8(const float* p) {
  return {*reinterpret_cast<const float4*>(p), *reinterpret_cast<const float4*>(p + 4)};
}

template <typename T>
__device__ __forceinline__ Packed8<T> load_packed8(const T* p) {
  return {*reinterpret_cast<const uint4*>(p)};
}

__device__ __forceinline__ void unpack8(const Packed8<float>& p, float v[8]) {
  v[0] = p.a.x; v[1] = p.a.y; v[2] = p.a.z; v[3] = p.a.w;
  v[4] = p.b.x; v[5] = p.b.y; v[6] = p.b.z; v[7] = p.b.w;
}

template <typename T>
__device__ __forceinline__ void unpack8(const Packed8<T>& p, float v[8]) {
  unsigned w[4] = {p.u.x, p.u.y, p.u.z, p.u.w};
#pragma unroll
  for (int i = 0; i < 4; i++) {
    v[2 * i] = to_float(T{(unsigned short) (w[i] & 0xffffu)});
    v[2 * i + 1] = to_float(T{(unsigned short) (w[i] >> 16)});
  }
}

// Eight consecutive elements from 16-byte aligned memory, as floats.
template <typename T>
__device__ __forceinline__ void load8(const T* p, float v[8]) {
  unpack8(load_packed8(p), v);
}

// Four consecutive elements to 8-byte aligned T (16-byte aligned for floats), in one store.
__device__ __forceinline__ void store4(float* p, const float v[4]) {
  float4 f;
  f.x = v[0];
  f.y = v[1];
  f.z = v[2];
  f.w = v[3];
  *reinterpret_cast<float4*>(p) = f;
}
// v rounded to the 16-bit type T, as raw bits.
template <typename T>
__device__ __forceinline__ unsigned short bits_of(float v) {
  T t;
  store(&t, v);
  return t.bits;
}
// Two floats as two T in one register, the lower index in the low half.
template <typename T>
__device__ __forceinline__ unsigned pair_of(float lo, float hi) {
  return (unsigned) bits_of<T>(lo) | ((unsigned) bits_of<T>(hi) << 16);
}
template <typename T>
__device__ __forceinline__ void store4(T* p, const float v[4]) {
  uint2 u;
  u.x = pair_of<T>(v[0], v[1]);
  u.y = pair_of<T>(v[2], v[3]);
  *reinterpret_cast<uint2*>(p) = u;
}
// Eight floats as eight T in one 16-byte word.
template <typename T>
__device__ __forceinline__ uint4 pack8(const float v[8]) {
  uint4 r;
  r.x = pair_of<T>(v[0], v[1]);
  r.y = pair_of<T>(v[2], v[3]);
  r.z = pair_of<T>(v[4], v[5]);
  r.w = pair_of<T>(v[6], v[7]);
  return r;
}
// Four consecutive floats from 16-byte aligned memory.
__device__ __forceinline__ void load4(const float* p, float v[4]) {
  const float4 f = *reinterpret_cast<const float4*>(p);
  v[0] = f.x;
  v[1] = f.y;
  v[2] = f.z;
  v[3] = f.w;
}
// Four consecutive 16-bit elements from 8-byte aligned memory, as floats.
template <typename T>
__device__ __forceinline__ void load4(const T* p, float v[4]) {
  const uint2 u = *reinterpret_cast<const uint2*>(p);
  v[0] = to_float(T{(unsigned short) (u.x & 0xffffu)});
  v[1] = to_float(T{(unsigned short) (u.x >> 16)});
  v[2] = to_float(T{(unsigned short) (u.y & 0xffffu)});
  v[3] = to_float(T{(unsigned short) (u.y >> 16)});
}
// Two adjacent 16-bit elements as one register, the lower index in the low half.
__device__ __forceinline__ unsigned pair_at(const unsigned short* p) { return *reinterpret_cast<const unsigned*>(p); }

// d (16x8, fp32) += a (16x16, row) b (16x8, col) on the tensor cores (mma.sync m16n8k16): one warp,
// fragments as the PTX ISA lays them out; the first argument only picks the 16-bit type.
__device__ __forceinline__ void mma16816(const f16*, float d[4], const unsigned a[4], unsigned b0, unsigned b1) {
#ifdef GPTNEO_EMU
  emu_mma_m16n8k16(emu_f16_to_float, d, a, b0, b1);
#else
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
               "{%0,%1,%2,%3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

__device__ __forceinline__ void mma16816(const bf16*, float d[4], const unsigned a[4], unsigned b0, unsigned b1) {
#ifdef GPTNEO_EMU
  emu_mma_m16n8k16(emu_bf16_to_float, d, a, b0, b1);
#else
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
               "{%0,%1,%2,%3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

// 16 bytes from global to shared memory without passing through registers (cp.async, sm_80+),
// or 16 zero bytes when !valid (src is then not read). Completes at cp_async_wait.
__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
#ifdef GPTNEO_EMU
  if (valid) std::memcpy(dst, src, 16);
  else std::memset(dst, 0, 16);
#else
  unsigned long long shared;
  asm("cvta.to.shared.u64 %0, %1;" : "=l"(shared) : "l"(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"((unsigned) shared), "l"(src), "r"(valid ? 16 : 0)
               : "memory");
#endif
}

// Closes the group of this thread's cp.async copies issued since the last commit.
__device__ __forceinline__ void cp_async_commit() {
#ifndef GPTNEO_EMU
  asm volatile("cp.async.commit_group;" ::: "memory");
#endif
}

// Waits until at most `pending` of this thread's committed groups are still in flight.
template <int pending>
__device__ __forceinline__ void cp_async_wait() {
#ifndef GPTNEO_EMU
  asm volatile("cp.async.wait_group %0;" ::"n"(pending) : "memory");
#endif
}

// A fence for the whole device (__threadfence, as PTX: no builtin header needed): what this thread
// has written or seen written (through a barrier, too) before it is ordered before what it does
// after it. The emulator tells ThreadSanitizer so (emu_fence, emu.h).
__device__ __forceinline__ void fence_device() {
#ifdef GPTNEO_EMU
  emu_fence();
#else
  asm volatile("membar.gl;" ::: "memory");
#endif
}

// The ticket of a group of `blocks` blocks that each write partial results for the last one to
// arrive to combine: one thread calls it after a barrier behind its block's writes; true in the
// last block, which may read the others' (load_global) once a barrier has passed the answer on.
// The fence before the ticket releases the block's writes (the barrier ordered them before it),
// the fence after it acquires the writes the other blocks released before theirs (the pattern of a
// cooperative grid sync). The last block leaves the ticket at zero for the next launch.
__device__ __forceinline__ bool take_ticket(int* ticket, int blocks) {
  fence_device();
  const bool last = atomicAdd(ticket, 1) == blocks - 1;
  fence_device();
  if (last) *ticket = 0;
  return last;
}

// A store that other threads may make at the same time with the same value (a ban listed twice):
// harmless on a GPU, where one of the equal stores lands. The emulator's race check (emu.h, under
// ThreadSanitizer) is told so with an atomic store.
__device__ __forceinline__ void store_same(float* p, float v) {
#if defined(GPTNEO_EMU) && EMU_TSAN
  __atomic_store_n(reinterpret_cast<unsigned int*>(p), __float_as_uint(v), __ATOMIC_RELAXED);
#else
  *p = v;
#endif
}

// A load that skips the SM's L1 (ld.global.cg): data another block wrote during this launch.
__device__ __forceinline__ float load_global(const float* p) {
#ifdef GPTNEO_EMU
  return *p;
#else
  float v;
  asm volatile("ld.global.cg.f32 %0, [%1];" : "=f"(v) : "l"(p));
  return v;
#endif
}

// Programmatic dependent launch (opt-in gptneo.cuda.pdl; the host then compiles with GPTNEO_PDL,
// sm_90 and up). A kernel launched that way may start while the stream's previous kernel still
// runs: griddepcontrol.wait returns once that kernel has finished and its writes are visible, and
// launch_dependents lets the next kernel start early in turn. Every kernel calls this before its
// first global memory access; the host launches a kernel that way only if its PTX shows that order
// (PtxEntries.waitingFirst). Elsewhere it compiles to nothing.
__device__ __forceinline__ void after_previous_kernel() {
#if defined(GPTNEO_PDL) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Starts fetching a line of weights into L2 (no register, no wait): what a kernel can do before
// after_previous_kernel(), as weights are never written by the kernels before it.
__device__ __forceinline__ void prefetch_l2(const void* p) {
#if defined(GPTNEO_PDL) && defined(__CUDA_ARCH__)
  asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
#endif
}

__device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }
__device__ __forceinline__ int imax(int a, int b) { return a > b ? a : b; }

__device__ __forceinline__ float neg_inf() { return __int_as_float((int) 0xff800000u); }
__device__ __forceinline__ double not_a_number() { return (double) __int_as_float(0x7fc00000); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the whole block, returned to every thread. blockDim.x: a multiple of 32, at most 1024.
// scratch: 32 floats of shared memory, free for reuse once this returns.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // an earlier reduction may still be reading scratch
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < (int) (blockDim.x >> 5) ? scratch[lane] : 0.f;
  return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < (int) (blockDim.x >> 5) ? scratch[lane] : neg_inf();
  return warp_max(v);
}

// gelu_new (GPT-2's tanh form): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
__device__ __forceinline__ float gelu_new(float x) {
  return 0.5f * x * (1.f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

// The linear layer's epilogue on one output: v = x w^T (row r, column o); y = [y +] act(v + bias),
// with its 16-bit copy when y_half != 0. The same order as bias_act after a GEMM.
template <typename T>
__device__ __forceinline__ void linear_epilogue(float v, int r, int o, int out, float* y, const float* bias, T* y_half,
                                                int accumulate, int gelu) {
  if (bias) v += bias[o];
  if (gelu) v = gelu_new(v);
  long long at = (long long) r * out + o;
  if (accumulate) v += y[at];
  y[at] = v;
  if (y_half) store(y_half + at, v);
}

// One layer's slice of a sequence's KV cache. A sequence owns one block of
// sum over layers of (2 * slots(layer) * hidden) elements, layers in order, each layer's keys
// (heads, slots, head_dim) followed by its values (heads, slots, head_dim). Global layers have
// one slot per position up to the capacity; local layers a ring of min(window, capacity) slots.
template <typename T>
struct LayerCache {
  T* keys;    // (heads, slots, head_dim)
  T* values;  // (heads, slots, head_dim)
  int slots;  // position p lives in slot p % slots
};

template <typename T>
__device__ __forceinline__ LayerCache<T> layer_cache(unsigned long long base, int capacity, int hidden,
                                                     int globals_before, int locals_before, int local, int window) {
  int local_slots = imin(window, capacity);
  long long offset = ((long long) globals_before * capacity + (long long) locals_before * local_slots) * 2 * hidden;
  LayerCache<T> c;
  c.slots = local ? local_slots : capacity;
  c.keys = reinterpret_cast<T*>(base) + offset;
  c.values = c.keys + (long long) c.slots * hidden;
  return c;
}

// A prefill block's store_kv: caches the fresh keys and values of one head at the block's own
// query positions first .. first + count - 1 (qkv rows row ..), the ones a ring keeps (positions
// from end - slots, end = the sequence's length after the step), rounded as kv_store rounds them.
// Called before the block's first tile, while few registers are live. 4 dims a thread where
// head_dim % 4 == 0. qkv in fp32, or already in T (Q = T: the values are copied unchanged).
template <typename T, typename Q>
__device__ __forceinline__ void cache_own_kv(const Q* qkv, const LayerCache<T>& cache, int row, int first,
                                             int count, int end, int hidden, int head, int head_dim) {
  const int step = (head_dim & 3) == 0 ? 4 : 1, kept = end - cache.slots;
  T* keys = cache.keys + (long long) head * cache.slots * head_dim;
  T* values = cache.values + (long long) head * cache.slots * head_dim;
  for (int i = step * threadIdx.x; i < count * head_dim; i += step * blockDim.x) {
    const int q = i / head_dim, d = i % head_dim, j = first + q;
    if (j < kept) continue;
    const Q* k = qkv + (long long) (row + q) * 3 * hidden + hidden + head * head_dim + d;  // v at + hidden
    const long long at = (long long) (j % cache.slots) * head_dim + d;
    if (step == 4) {
      float v[4];
      load4(k, v);
      store4(keys + at, v);
      load4(k + hidden, v);
      store4(values + at, v);
    } else {
      store(keys + at, to_float(k[0]));
      store(values + at, to_float(k[hidden]));
    }
  }
}

// ---- block-wide reductions in a fixed order (sampling.cu) ------------------------------------

struct SumOp {
  template <typename V>
  __device__ V operator()(V a, V b) const { return a + b; }
};
struct MaxOp {
  template <typename V>
  __device__ V operator()(V a, V b) const { return a > b ? a : b; }
};
struct MinOp {
  template <typename V>
  __device__ V operator()(V a, V b) const { return a < b ? a : b; }
};

// op over the block's values, returned to every thread. The order is fixed (an xor butterfly in
// each warp, whose lanes all get the same value since op commutes, then one over the warps), so a
// sum of doubles is the same on every run.
template <typename V, typename Op>
__device__ V block_reduce(V v, V identity, Op op) {
  __shared__ V part[32];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  __syncthreads();  // an earlier call may still be reading part
  if (lane == 0) part[warp] = v;
  __syncthreads();
  v = lane < (int) (blockDim.x >> 5) ? part[lane] : identity;
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum of the values of the threads before this one (in thread order); *total: the whole block's.
template <typename V>
__device__ V block_exclusive_scan(V v, V* total) {
  __shared__ V part[32];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  V inclusive = v;
  for (int o = 1; o < 32; o <<= 1) {
    V t = __shfl_up_sync(0xffffffffu, inclusive, o);
    if (lane >= o) inclusive = t + inclusive;
  }
  V exclusive = __shfl_up_sync(0xffffffffu, inclusive, 1);
  if (lane == 0) exclusive = V(0);
  __syncthreads();
  if (lane == 31) part[warp] = inclusive;
  __syncthreads();
  if (warp == 0) {
    V w = lane < warps ? part[lane] : V(0);
    for (int o = 1; o < 32; o <<= 1) {
      V t = __shfl_up_sync(0xffffffffu, w, o);
      if (lane >= o) w = t + w;
    }
    part[lane] = w;  // the warps' inclusive prefix
  }
  __syncthreads();
  *total = part[warps - 1];
  return (warp > 0 ? part[warp - 1] : V(0)) + exclusive;
}

#endif  // GPTNEO_COMMON_CUH
