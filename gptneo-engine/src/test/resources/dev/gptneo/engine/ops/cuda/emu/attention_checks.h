// Attention checks for emu_test.cpp (included there after report, randoms and round_to): sequences
// go through prompt chunks and decode steps, several per step, on global and local layers, with
// keys before each step read back from the (ring) cache the store kernel filled.
#pragma once

struct Seq {
  int capacity;
  std::vector<int> chunks;  // new tokens per step (0: not in that step)
  std::vector<unsigned char> cache;
  int length = 0;
  int copy_step = -1;  // before this step the cache moves, by kv_copy, into a new block of capacity copy_to
  int copy_to = 0;
};

template <typename T>
struct AttentionCase {
  const char* name;
  void (*prefill)(const float*, float*, T*, const int*, const int*, const int*, const unsigned long long*, const int*,
                  int, int, int, int, int, int, int);
  void (*decode)(const float*, float*, T*, const int*, const int*, const int*, const unsigned long long*, const int*,
                 int, int, int, int, int, int, int, float*, int*);
  void (*store)(const float*, const int*, const int*, const int*, const unsigned long long*, const int*, int, int, int,
                int, int, int);
  int maxd;
  int prefill_threads = THREADS;
  size_t prefill_shared = 0;  // 0: the fp32 kernel's
  double tol = 2e-5;
  bool rounds_operands = false;  // the tensor-core kernel rounds queries and fresh keys and values to T
  bool kv_in_attention = false;  // the attention kernels cache the keys and values where CudaOps lets them
  // the tensor-core kernel reading q|k|v in T (CudaOps: prompt-only steps from position 0 with the KV
  // store in attention); 0: none
  void (*prefill_half)(const T*, float*, T*, const int*, const int*, const int*, const unsigned long long*,
                       const int*, int, int, int, int, int, int, int) = nullptr;
  void (*copy)(unsigned long long, int, unsigned long long, int, int, int, int, int, int, int, int) = nullptr;
};

// Moves a sequence's cache into a new block of capacity copy_to with kv_copy, layer by layer (the
// new block starts as NaN, so a slot the copy misses shows when attention reads it).
template <typename T>
static void move_cache(const AttentionCase<T>& kc, Seq& s, int layers, const bool* local_layer, int hidden,
                       int head_dim, int window) {
  size_t elems = 0;
  for (int l = 0; l < layers; l++) elems += 2ull * (local_layer[l] ? std::min(window, s.copy_to) : s.copy_to) * hidden;
  std::vector<unsigned char> moved(elems * sizeof(T), 0xff);
  int globals = 0, locals = 0;
  for (int l = 0; l < layers; l++) {
    const int local = local_layer[l], kept = std::min(s.length, local ? std::min(window, s.capacity) : s.capacity);
    if (kept > 0)
      emu_launch(kc.copy, {(unsigned) ((kept * head_dim + 63) / 64), (unsigned) (2 * hidden / head_dim), 1},
                 {64, 1, 1}, 0, (unsigned long long) s.cache.data(), s.capacity, (unsigned long long) moved.data(),
                 s.copy_to, s.length, hidden, head_dim, globals, locals, local, window);
    (local ? locals : globals)++;
  }
  s.cache.swap(moved);
  s.capacity = s.copy_to;
}

static float half_of(float v, float*) { return v; }
static f16 half_of(float v, f16*) { return f16{emu_float_to_f16(v)}; }
static bf16 half_of(float v, bf16*) { return bf16{emu_float_to_bf16(v)}; }

static size_t mma_shared(int d) { return ((size_t) MQ * (d + PAD) + (size_t) MK * (d + PAD) + (size_t) d * (MK + PAD)) * 2; }

// Layers: local, global, local (so both offsets of the cache block are exercised).
template <typename T>
static void check_attention(const AttentionCase<T>& kc, int heads, int head_dim, int window, int decode_threads,
                            std::vector<Seq> seqs, int splits = 1) {
  const int layers = 3, hidden = heads * head_dim;
  const bool local_layer[layers] = {true, false, true};
  int steps = 0;
  for (auto& s : seqs) steps = std::max(steps, (int) s.chunks.size());
  // history[seq][layer]: (positions, 2 * hidden) keys and values as the model produced them
  std::vector<std::vector<std::vector<float>>> history(seqs.size(), std::vector<std::vector<float>>(layers));
  for (auto& s : seqs) {
    size_t elems = 0;
    for (int l = 0; l < layers; l++) elems += 2ull * (local_layer[l] ? std::min(window, s.capacity) : s.capacity) * hidden;
    s.cache.assign(elems * sizeof(T), 0xff);  // NaN everywhere: reading an unwritten slot shows
  }
  double err = 0;
  int half_steps = 0;  // steps that ran prefill_half
  for (int step = 0; step < steps; step++) {
    for (auto& s : seqs)
      if (s.copy_step == step) move_cache(kc, s, layers, local_layer, hidden, head_dim, window);
    std::vector<int> seq_start{0}, past, capacity, token_seq, decode_seqs, tiles, members;
    std::vector<unsigned long long> base;
    for (size_t s = 0; s < seqs.size(); s++) {
      int n = step < (int) seqs[s].chunks.size() ? seqs[s].chunks[step] : 0;
      if (n == 0) continue;
      int idx = (int) members.size();
      members.push_back((int) s);
      past.push_back(seqs[s].length);
      capacity.push_back(seqs[s].capacity);
      base.push_back((unsigned long long) seqs[s].cache.data());
      for (int i = 0; i < n; i++) token_seq.push_back(idx);
      if (n == 1) decode_seqs.push_back(idx);
      else
        for (int q0 = 0; q0 < n; q0 += BQ) tiles.insert(tiles.end(), {idx, q0});
      seq_start.push_back(seq_start.back() + n);
    }
    int tokens = seq_start.back();
    int globals = 0, locals = 0;
    for (int l = 0; l < layers; l++) {
      auto qkv = randoms((size_t) tokens * 3 * hidden);
      for (int t = 0; t < tokens; t++)
        for (int c = 0; c < hidden; c++) qkv[(size_t) t * 3 * hidden + c] *= 0.4f;  // keep scores moderate
      std::vector<float> out((size_t) tokens * hidden, NAN);
      std::vector<T> half((size_t) tokens * hidden);
      int local = local_layer[l];
      // CudaOps' rule: the attention kernels cache the step's keys unless a prompt chunk on a local
      // layer's ring reads cached keys (a fresh key could overwrite a slot an earlier query still reads)
      bool from_start = true;
      for (size_t m = 0; m < members.size(); m++) from_start &= seq_start[m + 1] - seq_start[m] == 1 || past[m] == 0;
      const bool in_attention = kc.kv_in_attention && (!local || from_start);
      const bool decode_stores = tiles.empty() || in_attention;
      const bool half_qkv = kc.prefill_half && in_attention && decode_seqs.empty() && from_start;
      if (half_qkv) {
        std::vector<T> qkv_half(qkv.size());
        for (size_t i = 0; i < qkv.size(); i++) qkv_half[i] = half_of(qkv[i], (T*) nullptr);
        emu_launch(kc.prefill_half, {(unsigned) tiles.size() / 2, (unsigned) heads, 1},
                   {(unsigned) kc.prefill_threads, 1, 1}, kc.prefill_shared, (const T*) qkv_half.data(), out.data(),
                   half.data(), (const int*) tiles.data(), (const int*) seq_start.data(), (const int*) past.data(),
                   (const unsigned long long*) base.data(), (const int*) capacity.data(), hidden, head_dim, globals,
                   locals, local, window, 1);
        half_steps++;
      } else if (!tiles.empty()) {
        size_t shared = kc.prefill_shared ? kc.prefill_shared : (kc.maxd * (QS + KS + BK) + BK * PS) * sizeof(float);
        emu_launch(kc.prefill, {(unsigned) tiles.size() / 2, (unsigned) heads, 1},
                   {(unsigned) kc.prefill_threads, 1, 1}, shared,
                   (const float*) qkv.data(), out.data(), half.data(), (const int*) tiles.data(),
                   (const int*) seq_start.data(), (const int*) past.data(), (const unsigned long long*) base.data(),
                   (const int*) capacity.data(), hidden, head_dim, globals, locals, local, window, (int) in_attention);
      }
      if (!decode_seqs.empty()) {
        int keys = 0;
        for (int d : decode_seqs) keys = std::max(keys, past[d] + 1);
        size_t shared = (head_dim + keys + std::max(8 * decode_threads, head_dim)) * sizeof(float);
        const size_t pairs = decode_seqs.size() * heads;
        std::vector<float> partial(pairs * splits * (2 + head_dim), NAN);  // split kernels: the parts' sums
        std::vector<int> tickets(pairs, 0);
        emu_launch(kc.decode, {(unsigned) decode_seqs.size(), (unsigned) (heads * splits), 1},
                   {(unsigned) decode_threads, 1, 1}, shared, (const float*) qkv.data(), out.data(), half.data(),
                   (const int*) decode_seqs.data(), (const int*) seq_start.data(), (const int*) past.data(),
                   (const unsigned long long*) base.data(), (const int*) capacity.data(), hidden, head_dim, globals,
                   locals, local, window, (int) decode_stores, splits > 1 ? partial.data() : (float*) nullptr,
                   splits > 1 ? tickets.data() : (int*) nullptr);
        for (int v : tickets) err = v != 0 ? INFINITY : err;  // each launch leaves its tickets at zero
      }
      if (!decode_stores) emu_launch(kc.store, {(unsigned) tokens, 1, 1}, {32, 1, 1}, 0, (const float*) qkv.data(),
                 (const int*) token_seq.data(), (const int*) seq_start.data(), (const int*) past.data(),
                 (const unsigned long long*) base.data(), (const int*) capacity.data(), hidden, head_dim, globals,
                 locals, local, window);
      // reference: keys before the step as the cache holds them (rounded to T), the step's own exact
      for (size_t m = 0; m < members.size(); m++) {
        auto& hist = history[members[m]][l];
        int p0 = past[m], n = seq_start[m + 1] - seq_start[m];
        for (int i = 0; i < n; i++) {
          const float* row = &qkv[(size_t) (seq_start[m] + i) * 3 * hidden];
          hist.insert(hist.end(), row + hidden, row + 3 * hidden);
        }
        for (int i = 0; i < n; i++) {
          int pos = p0 + i, lo = local ? std::max(0, pos - window + 1) : 0;
          const float* q = &qkv[(size_t) (seq_start[m] + i) * 3 * hidden];
          for (int h = 0; h < heads; h++) {
            std::vector<double> p(pos - lo + 1);
            double top = -INFINITY, sum = 0;
            bool rounded = kc.rounds_operands && n > 1;  // a prompt chunk: the tensor-core kernel's
            auto kv = [&](int j, int which, int d) {
              float v = hist[(size_t) j * 2 * hidden + which * hidden + h * head_dim + d];
              return j < p0 || rounded ? round_to(v, (T*) nullptr) : v;
            };
            for (int j = lo; j <= pos; j++) {
              double s = 0;
              for (int d = 0; d < head_dim; d++) {
                float qd = q[h * head_dim + d];
                s += (double) (rounded ? round_to(qd, (T*) nullptr) : qd) * kv(j, 0, d);
              }
              p[j - lo] = s;
              top = std::fmax(top, s);
            }
            for (auto& v : p) sum += (v = std::exp(v - top));
            for (int d = 0; d < head_dim; d++) {
              double o = 0;
              for (int j = lo; j <= pos; j++) o += p[j - lo] * kv(j, 1, d);
              size_t at = (size_t) (seq_start[m] + i) * hidden + h * head_dim + d;
              err = std::fmax(err, std::fabs(out[at] - o / sum));
              if (sizeof(T) == 2) err = std::fmax(err, std::fabs(to_float(half[at]) - round_to(out[at], (T*) nullptr)));
              if (std::isnan(out[at])) err = INFINITY;
            }
          }
        }
      }
      (local ? locals : globals)++;
    }
    for (size_t m = 0; m < members.size(); m++) seqs[members[m]].length += seq_start[m + 1] - seq_start[m];
  }
  report(std::string("attention ") + kc.name + (kc.kv_in_attention ? " kv in attention" : "") +
             (kc.copy ? " caches moved by kv_copy" : "") +
             (splits > 1 ? " decode in " + std::to_string(splits) + " splits" : "") +
             (half_steps ? " q|k|v in T for " + std::to_string(half_steps) + " layer steps" : "") + " heads " + std::to_string(heads) + " head_dim " +
             std::to_string(head_dim) + " window " + std::to_string(window) + " decode threads " +
             std::to_string(decode_threads),
         err, kc.tol);
}

template <typename T>
static void attention_suite(const AttentionCase<T>& kc, int head_dim, std::vector<int> windows, int splits = 1) {
  // Sequences: a long prompt in chunks then decode; decode from the first token; a prompt whose
  // chunk is longer than the local ring; a late joiner. Windows below, at and above their lengths.
  std::vector<Seq> seqs = {{90, {13, 1, 1, 70, 1}}, {12, {1, 1, 1, 1, 1}}, {100, {0, 0, 75, 1, 1}},
                           {8, {0, 0, 0, 7, 1}}};
  for (int window : windows) check_attention(kc, 2, head_dim, window, 256, seqs, splits);
  check_attention(kc, 1, head_dim, 5, 32, {{40, {3, 33, 1, 1}}}, splits);
}

// Prompts from position 0 alone in their step (q|k|v in T for the tensor-core kernel, where the case
// has one), then decode steps that read what that step cached.
template <typename T>
static void half_qkv_suite(AttentionCase<T> kc, void (*prefill_half)(const T*, float*, T*, const int*, const int*,
                                                                      const int*, const unsigned long long*,
                                                                      const int*, int, int, int, int, int, int, int),
                           int head_dim) {
  kc.kv_in_attention = true;
  kc.prefill_half = prefill_half;
  for (int window : {8, 200}) check_attention(kc, 2, head_dim, window, 256, {{100, {37, 1, 1}}, {80, {70, 1, 1}}});
  // the same prompt with q|k|v in fp32 and in T: the kernel rounds to T anyway, so the same bits
  // (output, its 16-bit copy and the cached keys and values), on a global and a local layer
  const int heads = 2, hidden = heads * head_dim, n = 70, capacity = 80, window = 32;
  auto qkv = randoms((size_t) n * 3 * hidden);
  std::vector<T> qkv_half(qkv.size());
  for (size_t i = 0; i < qkv.size(); i++) qkv_half[i] = half_of(qkv[i], (T*) nullptr);
  std::vector<int> tiles, seq_start{0, n}, past{0}, capacities{capacity};
  for (int q0 = 0; q0 < n; q0 += BQ) tiles.insert(tiles.end(), {0, q0});
  double diff = 0;
  for (int local : {0, 1}) {
    const size_t cache_elems = 2ull * (capacity + std::min(window, capacity)) * hidden;
    std::vector<T> cache_a(cache_elems), cache_b(cache_elems);
    std::vector<float> out_a((size_t) n * hidden), out_b((size_t) n * hidden);
    std::vector<T> half_a(out_a.size()), half_b(out_b.size());
    for (int which = 0; which < 2; which++) {
      std::vector<unsigned long long> base{(unsigned long long) (which ? cache_b.data() : cache_a.data())};
      const int globals = local, locals = 0;  // the local layer after the global one
      if (which == 0)
        emu_launch(kc.prefill, {(unsigned) tiles.size() / 2, (unsigned) heads, 1}, {(unsigned) kc.prefill_threads, 1, 1},
                   kc.prefill_shared, (const float*) qkv.data(), out_a.data(), half_a.data(), (const int*) tiles.data(),
                   (const int*) seq_start.data(), (const int*) past.data(), (const unsigned long long*) base.data(),
                   (const int*) capacities.data(), hidden, head_dim, globals, locals, local, window, 1);
      else
        emu_launch(prefill_half, {(unsigned) tiles.size() / 2, (unsigned) heads, 1}, {(unsigned) kc.prefill_threads, 1, 1},
                   kc.prefill_shared, (const T*) qkv_half.data(), out_b.data(), half_b.data(), (const int*) tiles.data(),
                   (const int*) seq_start.data(), (const int*) past.data(), (const unsigned long long*) base.data(),
                   (const int*) capacities.data(), hidden, head_dim, globals, locals, local, window, 1);
    }
    for (size_t i = 0; i < out_a.size(); i++) {
      diff = std::fmax(diff, std::fabs(out_a[i] - out_b[i]) + std::fabs(to_float(half_a[i]) - to_float(half_b[i])));
    }
    for (size_t i = 0; i < cache_elems; i++) diff = std::fmax(diff, cache_a[i].bits != cache_b[i].bits ? 1.0 : 0.0);
  }
  report(std::string("attention ") + kc.name + " q|k|v in T against fp32, head_dim " + std::to_string(head_dim), diff, 0);
}

// The same kernels, with the attention kernels caching keys and values where CudaOps lets them.
template <typename T>
static AttentionCase<T> caching_kv(AttentionCase<T> c) {
  c.kv_in_attention = true;
  return c;
}

// Caches moved mid-run into blocks of other capacities (kv_copy), then read by prompt chunks and
// decode steps: a wrapped ring into one of the same size, rings and global layers into larger and
// exactly fitting blocks, a cache before any token.
template <typename T>
static void copy_suite(AttentionCase<T> kc, void (*copy)(unsigned long long, int, unsigned long long, int, int, int,
                                                          int, int, int, int, int),
                       int head_dim) {
  kc.copy = copy;
  std::vector<Seq> seqs = {{90, {13, 1, 1, 70, 1}}, {12, {1, 1, 1, 1, 1}}, {100, {0, 0, 75, 1, 1}},
                           {8, {0, 0, 0, 7, 1}}};
  seqs[0].copy_step = 3, seqs[0].copy_to = 97;  // 15 positions; then a 70-token chunk
  seqs[1].copy_step = 4, seqs[1].copy_to = 5;   // 4 positions into a block that just fits
  seqs[2].copy_step = 4, seqs[2].copy_to = 76;  // 76 positions into 76
  seqs[3].copy_step = 2, seqs[3].copy_to = 8;   // before its first token
  for (int window : {8, 80, 200}) check_attention(kc, 2, head_dim, window, 256, seqs);
}
