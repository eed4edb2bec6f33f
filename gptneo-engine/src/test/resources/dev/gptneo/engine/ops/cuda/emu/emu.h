// A small host emulator of the CUDA built-ins the backend's kernels use, so the kernels' indexing
// and synchronization can be tested on a machine without a GPU (KernelEmulationTest). The threads
// of a block are fibers (ucontext) on one OS thread, switched only at barriers; blocks run one
// after another, in orders that vary (emu_launch). __shared__ becomes a static local (shared
// by the block's threads), __syncthreads a barrier over the block, a warp shuffle an exchange
// through memory between two barriers over the warp. Only what the kernels use is here.
//
// Built with -fsanitize=thread, each thread of a block is a ThreadSanitizer fiber, and only what
// orders accesses on a GPU orders them here: a block barrier (each thread releases at it and
// acquires once all have arrived), atomics (relaxed) and device fences around them (emu_fence: a
// fence before an atomic releases, one after it acquires what the atomics there released). Warp
// shuffles order nothing but their own values, as on a GPU since Volta. Nothing orders the blocks
// of a launch either, though they run one after another: each block runs on one of 8 fiber pools,
// drawn by a hash of the launch and the block, so two blocks share fibers (and so an order) by
// chance, 1 in 8, another pair in each launch; each block's shared memory and barriers are new to
// it. So two accesses to one address, one a write, from two threads of a block with no barrier
// between them, or from two blocks without a ticket's fences between them, are reported whatever
// the schedule. A launch's blocks see what came before the launch; the
// test sees what they did once it returns. The emulator's own bookkeeping is not instrumented.
#ifndef GPTNEO_EMU_H
#define GPTNEO_EMU_H

#include <ucontext.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define EMU_TSAN 1
#define EMU_UNCHECKED __attribute__((no_sanitize_thread))  // the emulator's bookkeeping, not the kernels'
#else
#define EMU_TSAN 0
#define EMU_UNCHECKED
#endif

struct uint3e { unsigned int x, y, z; };
struct float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) uint4 { unsigned int x, y, z, w; };
struct alignas(8) uint2 { unsigned int x, y; };

inline uint3e threadIdx;
inline uint3e blockIdx;
inline uint3e blockDim;
inline uint3e gridDim;

struct EmuFiber {
  ucontext_t context;
  std::unique_ptr<char[]> stack;  // (EMU_STACK) bytes
  bool done;
  const long* waits_on = nullptr;  // the epoch of the barrier it waits at, or null
  long waits_for = 0;              // that epoch's value on arrival: it may go on once it changes
  bool fenced = false;             // a device fence since its last atomic (ThreadSanitizer's view)
  void* atomic_at = nullptr;       // the address of its last atomic, or null
  void* tsan = nullptr;            // its ThreadSanitizer fiber
};

#if EMU_TSAN
inline constexpr int EMU_POOLS = 8;  // fiber pools
#else
inline constexpr int EMU_POOLS = 1;
#endif
inline constexpr size_t EMU_STACK = 256 * 1024;

struct EmuBlock {
  ucontext_t scheduler;
  std::vector<EmuFiber> fibers;     // the current block's pool: its first `threads` run the block
  std::vector<EmuFiber> pools[EMU_POOLS];  // the other pools
  int threads = 0;
  int current = 0;
  std::function<void()> kernel;      // the launch's kernel call, run by every fiber
  long block_arrived = 0, block_epoch = 0;
  std::vector<long> warp_arrived, warp_epoch;
  std::vector<uint64_t> lanes;       // (threads) one exchange slot per thread
  std::vector<uint32_t> mma_slots;   // (threads, 6) fragments posted to a warp's mma
  std::vector<unsigned char> shared; // dynamic shared memory (unused under ThreadSanitizer: emu_shared_memory)
};
inline EmuBlock emu_block;

// ThreadSanitizer's view (no-ops without it): sync objects that threads release and acquire, and
// the fiber each thread of a block runs as.
inline char emu_block_barrier[2];                  // a block barrier's sync objects, by epoch parity
inline char* const emu_launch_start = new char[1];  // the test's writes before a launch
inline char* const emu_block_end = new char[1];     // a block's writes, for the test after the launch
#if EMU_TSAN
// The program's zeroed statics: the kernels' __shared__ variables, the dynamic shared memory below
// and the barriers' sync objects, which every block takes as new. ThreadSanitizer resets them as
// the heap it keeps for a Java VM (the only reset its interface offers).
extern "C" char __bss_start, _end;
extern "C" void __tsan_java_init(unsigned long begin, unsigned long size);
extern "C" void __tsan_java_alloc(unsigned long begin, unsigned long size);
extern "C" void __tsan_java_free(unsigned long begin, unsigned long size);
alignas(16) inline unsigned char emu_shared_memory[256 * 1024];  // dynamic shared memory
inline void* emu_tsan_main;  // the OS thread's own fiber: the scheduler and the test
inline void emu_release(void* sync) { __tsan_release(sync); }
inline void emu_acquire(void* sync) { __tsan_acquire(sync); }
// Tells ThreadSanitizer that thread t (-1: the scheduler) runs next, ordered after nothing.
inline void emu_switch_to(int t) {
  __tsan_switch_to_fiber(t < 0 ? emu_tsan_main : emu_block.fibers[t].tsan, __tsan_switch_to_fiber_no_sync);
}
// Before a block: its pool's fibers, and its statics and shared memory as untouched memory.
inline void emu_tsan_block_begin() {
  const unsigned long lo = ((unsigned long) &__bss_start + 7) / 8 * 8, hi = (unsigned long) &_end / 8 * 8;
  if (!emu_tsan_main) {
    emu_tsan_main = __tsan_get_current_fiber();
    __tsan_java_init(lo, hi - lo);
  }
  for (int t = 0; t < emu_block.threads; t++) {
    if (!emu_block.fibers[t].tsan) emu_block.fibers[t].tsan = __tsan_create_fiber(0);
  }
  __tsan_java_free(lo, hi - lo);  // the sync objects there (a barrier's: it ordered the block before)
  __tsan_java_alloc(lo, hi - lo);
}
inline void* emu_dynamic_shared() { return emu_shared_memory; }
#else
inline void emu_release(void*) {}
inline void emu_acquire(void*) {}
inline void emu_switch_to(int) {}
inline void emu_tsan_block_begin() {}
inline void* emu_dynamic_shared() { return emu_block.shared.data(); }
#endif

EMU_UNCHECKED inline void emu_yield() {
  emu_switch_to(-1);
  swapcontext(&emu_block.fibers[emu_block.current].context, &emu_block.scheduler);
}

// Waits until `size` fibers have arrived (the block, or one warp). `sync` (a block barrier's):
// under ThreadSanitizer each releases there on arrival and acquires on leaving. A thread releases
// at the next barrier only after every thread has left this one, so two objects, by the epoch's
// parity, keep a barrier's acquire from seeing the next one's releases.
EMU_UNCHECKED inline void emu_barrier(long& arrived, long& epoch, long size, char* sync = nullptr) {
  long mine = epoch;
  if (sync) emu_release(sync + (mine & 1));
  if (++arrived == size) {
    arrived = 0;
    epoch++;
  }
  EmuFiber& me = emu_block.fibers[emu_block.current];
  me.waits_on = &epoch;
  me.waits_for = mine;
  while (epoch == mine) emu_yield();
  me.waits_on = nullptr;
  if (sync) emu_acquire(sync + (mine & 1));
}

EMU_UNCHECKED inline void __syncthreads() {
  emu_barrier(emu_block.block_arrived, emu_block.block_epoch, emu_block.threads, emu_block_barrier);
}

inline int emu_linear_tid() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }

template <typename V>
EMU_UNCHECKED V emu_exchange(V v, int (*partner)(int lane, int arg), int arg) {
  static_assert(sizeof(V) <= sizeof(uint64_t), "shuffle of a wide type");
  int t = emu_linear_tid(), warp = t / 32, lane = t % 32;
  std::memcpy(&emu_block.lanes[t], &v, sizeof(V));
  emu_barrier(emu_block.warp_arrived[warp], emu_block.warp_epoch[warp], 32);
  V r;
  std::memcpy(&r, &emu_block.lanes[warp * 32 + partner(lane, arg)], sizeof(V));
  emu_barrier(emu_block.warp_arrived[warp], emu_block.warp_epoch[warp], 32);
  return r;
}

template <typename V>
V __shfl_xor_sync(unsigned int, V v, int mask) {
  return emu_exchange(v, [](int lane, int m) { return lane ^ m; }, mask);
}

template <typename V>
V __shfl_sync(unsigned int, V v, int src) {
  return emu_exchange(v, [](int, int s) { return s; }, src);
}

// mma.sync.aligned.m16n8k16.row.col with fp32 accumulators, as one warp: every lane posts its A
// (4 registers) and B (2) fragments, then computes its own 4 outputs from the whole tiles. The
// layouts are the PTX ISA's: g = lane / 4, t = lane % 4; A register r holds row g + 8 (r & 1),
// columns 2t + 8 (r >> 1) + {0, 1}; B register r holds rows (k) 2t + 8 r + {0, 1}, column g;
// output i is row g + 8 (i >> 1), column 2t + (i & 1). The lower index sits in the low 16 bits.
EMU_UNCHECKED inline void emu_mma_m16n8k16(float (*to_f)(unsigned short), float d[4], const unsigned a[4],
                                           unsigned b0, unsigned b1) {
  int tid = emu_linear_tid(), warp = tid / 32, lane = tid % 32;
  uint32_t* mine = &emu_block.mma_slots[6 * tid];
  for (int i = 0; i < 4; i++) mine[i] = a[i];
  mine[4] = b0;
  mine[5] = b1;
  emu_barrier(emu_block.warp_arrived[warp], emu_block.warp_epoch[warp], 32);
  float A[16][16], B[16][8];
  for (int l = 0; l < 32; l++) {
    const uint32_t* s = &emu_block.mma_slots[6 * (warp * 32 + l)];
    int g = l >> 2, t = l & 3;
    for (int e = 0; e < 2; e++) {
      auto at = [&](uint32_t v) { return to_f((unsigned short) (v >> (16 * e))); };
      for (int r = 0; r < 4; r++) A[g + 8 * (r & 1)][2 * t + 8 * (r >> 1) + e] = at(s[r]);
      for (int r = 0; r < 2; r++) B[2 * t + 8 * r + e][g] = at(s[4 + r]);
    }
  }
  int g = lane >> 2, t = lane & 3;
  for (int i = 0; i < 4; i++) {
    int row = g + 8 * (i >> 1), col = 2 * t + (i & 1);
    float acc = d[i];
    for (int k = 0; k < 16; k++) acc += A[row][k] * B[k][col];
    d[i] = acc;
  }
  emu_barrier(emu_block.warp_arrived[warp], emu_block.warp_epoch[warp], 32);
}

template <typename V>
V __shfl_up_sync(unsigned int, V v, unsigned int delta) {
  return emu_exchange(v, [](int lane, int d) { return lane >= d ? lane - d : lane; }, (int) delta);
}

// The lanes of the warp holding the same value as this one (publish, barrier, compare, barrier).
EMU_UNCHECKED inline unsigned int __match_any_sync(unsigned int, int v) {
  int t = emu_linear_tid(), warp = t / 32;
  emu_block.lanes[t] = (uint64_t) (uint32_t) v;
  emu_barrier(emu_block.warp_arrived[warp], emu_block.warp_epoch[warp], 32);
  unsigned int peers = 0;
  for (int l = 0; l < 32; l++) peers |= (emu_block.lanes[warp * 32 + l] == (uint64_t) (uint32_t) v) ? 1u << l : 0u;
  emu_barrier(emu_block.warp_arrived[warp], emu_block.warp_epoch[warp], 32);
  return peers;
}

inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }

// Fibers switch only at barriers, so a read-modify-write is atomic; ThreadSanitizer is told it is,
// relaxed unless a device fence came before it in this thread: then, once done, it releases what
// the thread has seen, itself included.
EMU_UNCHECKED inline void emu_atomic_done(void* p) {
  EmuFiber& me = emu_block.fibers[emu_block.current];
  if (me.fenced) emu_release(p);
  me.fenced = false;
  me.atomic_at = p;
}

inline int atomicAdd(int* p, int v) {
#if EMU_TSAN
  const int old = __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
  emu_atomic_done(p);
  return old;
#else
  int old = *p;
  *p = old + v;
  return old;
#endif
}

// __threadfence as ThreadSanitizer sees it (a no-op otherwise): after an atomic, the thread
// acquires what the atomics on that address released (the other blocks' writes before their
// fenced tickets); the thread's next atomic releases.
EMU_UNCHECKED inline void emu_fence() {
  EmuFiber& me = emu_block.fibers[emu_block.current];
  if (me.atomic_at) emu_acquire(me.atomic_at);
  me.fenced = true;
}

// Round-to-nearest arithmetic without contraction: what the host's SSE arithmetic does anyway.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline float __double2float_rn(double d) { return (float) d; }

inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned int __float_as_uint(float f) { unsigned int i; std::memcpy(&i, &f, 4); return i; }
inline float __uint_as_float(unsigned int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }

inline float emu_f16_to_float(unsigned short h) {
  int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v = exp == 0 ? std::ldexp((float) mant, -24)
            : exp == 31 ? (mant ? NAN : INFINITY)
                        : std::ldexp((float) (mant | 0x400), exp - 25);
  return sign ? -v : v;
}

// Round to nearest even, as cvt.rn does (rint runs in the default rounding mode, to nearest even).
inline unsigned short emu_float_to_f16(float f) {
  unsigned int bits;
  std::memcpy(&bits, &f, 4);
  unsigned short sign = (bits >> 16) & 0x8000;
  float a = std::fabs(f);
  if (std::isnan(f)) return sign | 0x7e00;
  if (a >= 65520.f) return sign | 0x7c00;  // rounds to infinity
  if (a < 6.103515625e-05f) return sign | (unsigned short) std::rint(a * 16777216.f);  // subnormal: units of 2^-24
  int e;
  float m = std::frexp(a, &e);                                    // a = m 2^e, m in [0.5, 1)
  unsigned int q = (unsigned int) std::rint(std::ldexp(m, 11));  // 11 significant bits
  if (q == 2048) { q = 1024; e++; }
  return sign | (unsigned short) (((e + 14) << 10) | (q & 0x3ff));
}

inline float emu_bf16_to_float(unsigned short h) {
  unsigned int bits = (unsigned int) h << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline unsigned short emu_float_to_bf16(float f) {
  unsigned int bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f)) return (unsigned short) ((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return (unsigned short) (bits >> 16);
}

EMU_UNCHECKED inline void emu_fiber_main() {
  emu_acquire(emu_launch_start);
  emu_block.kernel();
  emu_release(emu_block_end);
  emu_block.fibers[emu_block.current].done = true;
  emu_switch_to(-1);
}  // returns to the scheduler through uc_link

inline long emu_launches = 0;  // launches so far: odd ones run their blocks in reverse order

// The fiber pool of block i of a launch: a hash (splitmix64's finalizer), so no stride of blocks
// always lands on one pool.
inline int emu_pool(long launch, long i) {
  unsigned long long z = (unsigned long long) launch * 0x9e3779b97f4a7c15ull + (unsigned long long) i;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (int) ((z ^ (z >> 31)) % EMU_POOLS);
}

EMU_UNCHECKED inline bool emu_runnable(const EmuFiber& f) {
  return !f.done && (!f.waits_on || *f.waits_on != f.waits_for);
}

// Resumes thread t of the block until it waits at a barrier or ends.
EMU_UNCHECKED inline void emu_resume(int t) {
  EmuBlock& b = emu_block;
  b.current = t;
  threadIdx = {(unsigned) t % blockDim.x, (unsigned) (t / blockDim.x) % blockDim.y,
               (unsigned) t / (blockDim.x * blockDim.y)};
  emu_switch_to(t);
  swapcontext(&b.scheduler, &b.fibers[t].context);
}

// Runs the current block's threads to the end in one of three orders: 0, each runnable thread in
// turn, first to last (so each waits at every barrier, warp or block, before the next goes on);
// 1, the same last to first; 2, each warp alone as far as it can go (to a block barrier), first
// to last, so a warp may write shared memory that another has yet to read from before a barrier.
EMU_UNCHECKED inline void emu_run_block(int order) {
  EmuBlock& b = emu_block;
  int threads = b.threads, warps = threads / 32;
  for (bool any = true; any;) {
    any = false;
    if (order == 2) {
      for (int w = 0; w < warps; w++) {
        for (bool warp_moved = true; warp_moved;) {
          warp_moved = false;
          for (int t = 32 * w; t < 32 * w + 32; t++) {
            if (emu_runnable(b.fibers[t])) emu_resume(t), warp_moved = any = true;
          }
        }
      }
    } else {
      for (int k = 0; k < threads; k++) {
        int t = order == 1 ? threads - 1 - k : k;
        if (emu_runnable(b.fibers[t])) emu_resume(t), any = true;
      }
    }
  }
  for (int t = 0; t < threads; t++) {
    if (!b.fibers[t].done) throw "emu: threads wait at barriers no other thread reaches";
  }
}

// Runs kernel<<<grid, block, shared>>>(args...) to completion. No order is promised on a GPU, so
// the emulator varies it: every other launch runs its blocks last to first (a result that depends
// on which block finishes last, as a split's ticket decides, then changes), and successive blocks
// (and one-block launches) take the orders of emu_run_block in turn, so that a read of another
// thread's write, or a write over what another thread has yet to read, with no barrier between
// them gives another result in one of the orders.
template <typename... P, typename... A>
EMU_UNCHECKED void emu_launch(void (*kernel)(P...), uint3e grid, uint3e block, size_t shared, A... args) {
  int threads = block.x * block.y * block.z;
  if (threads % 32 != 0) throw "emu: blockDim must be a multiple of 32";
  gridDim = grid;
  blockDim = block;
  EmuBlock& b = emu_block;
  b.kernel = [=] { kernel(args...); };
  b.lanes.assign(threads, 0);
  b.mma_slots.assign(6 * threads, 0);
  b.warp_arrived.assign(threads / 32, 0);
  b.warp_epoch.assign(threads / 32, 0);
  // garbage: NaN patterns for floats read before written
#if EMU_TSAN
  if (shared + 16 > sizeof emu_shared_memory) throw "emu: more dynamic shared memory than the emulator has";
  std::memset(emu_shared_memory, 0xff, shared + 16);
#else
  b.shared.assign(shared + 16, 0xff);
#endif
  b.threads = threads;
  emu_release(emu_launch_start);
  long blocks = (long) grid.x * grid.y * grid.z;
  long launch = emu_launches++;
  for (long i = 0; i < blocks; i++) {
    long linear = launch % 2 == 1 ? blocks - 1 - i : i;
    blockIdx = {(unsigned) (linear % grid.x), (unsigned) (linear / grid.x % grid.y),
                (unsigned) (linear / ((long) grid.x * grid.y))};
    const int pool = emu_pool(launch, i);  // with one pool, always the same fibers
    b.fibers.swap(b.pools[pool]);
    if ((int) b.fibers.size() < threads) b.fibers.resize(threads);
    emu_tsan_block_begin();
    for (int t = 0; t < threads; t++) {
      EmuFiber& f = b.fibers[t];
      if (!f.stack) f.stack.reset(new char[EMU_STACK]);
      f.done = false;
      f.waits_on = nullptr;
      f.fenced = false;
      f.atomic_at = nullptr;
      getcontext(&f.context);
      f.context.uc_stack.ss_sp = f.stack.get();
      f.context.uc_stack.ss_size = EMU_STACK;
      f.context.uc_link = &b.scheduler;
      makecontext(&f.context, emu_fiber_main, 0);
    }
    emu_run_block((int) ((i + launch / 2) % 3));
    b.fibers.swap(b.pools[pool]);
  }
  emu_acquire(emu_block_end);
}

#endif  // GPTNEO_EMU_H
