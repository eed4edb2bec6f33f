// Runs the GPU backend's kernels on the host emulator (emu.h) against plain double-precision
// references. Built and run by KernelEmulationTest; prints one PASS/FAIL line per check and exits
// with the number of failures. Attention (attention_checks.h) is checked the way the engine drives it: sequences go
// through prompt chunks and decode steps, several per step, on global and local layers, with
// keys before each step read back from the (ring) cache the store kernel filled.
#include "attention_decode.cu"
#include "attention_prefill.cu"
#include "attention_prefill_mma.cu"
#include "elementwise.cu"
#include "gemm_rows.cu"
#include "sampling.cu"
#include "ranking.cu"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

static int failures = 0;
static std::mt19937 rng(1234);

static void report(const std::string& name, double err, double tol) {
  bool ok = err <= tol;  // false for NaN
  std::printf("%s %s (max err %.3g, tol %.3g)\n", ok ? "PASS" : "FAIL", name.c_str(), err, tol);
  if (!ok) failures++;
}

static std::vector<float> randoms(size_t n, float scale = 1.f) {
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

static float round_to(float v, float*) { return v; }
static float round_to(float v, f16*) { return emu_f16_to_float(emu_float_to_f16(v)); }
static float round_to(float v, bf16*) { return to_float(bf16{emu_float_to_bf16(v)}); }

static void check_conversions() {
  struct { float in; unsigned short f16; } cases[] = {
      {1.f, 0x3c00}, {-2.f, 0xc000}, {65504.f, 0x7bff}, {1e6f, 0x7c00}, {1e-8f, 0x0000},
      {0.1f, 0x2e66}, {2049.f, 0x6800}, {2051.f, 0x6802}, {5.96046448e-8f, 0x0001}};
  double err = 0;
  for (auto& c : cases) {
    err += emu_float_to_f16(c.in) != c.f16;
    if (c.f16 != 0x7c00) err += std::fabs(emu_f16_to_float(c.f16) - c.in) > std::fabs(c.in) * 1e-3 + 6e-8;
  }
  err += emu_float_to_bf16(1.00390625f) != 0x3f80;  // ties to even
  err += emu_float_to_bf16(1.01171875f) != 0x3f82;
  report("emulator 16-bit conversions", err, 0);
}

static double gelu_ref(double v) { return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))); }

// gemm_rows (tensor cores, split k): against double sums of the same 16-bit inputs; with gelu, the
// epilogue adds the bias, applies gelu_new and writes the 16-bit copy.
static void check_gemm_rows(int rows, int out, int in, int splits, int accumulate, int gelu = 0) {
  auto xf = randoms((size_t) rows * in), wf = randoms((size_t) out * in), y0 = randoms((size_t) rows * out);
  auto bias = randoms(out);
  std::vector<f16> x(xf.size()), w(wf.size()), half((size_t) rows * out);
  for (size_t i = 0; i < xf.size(); i++) x[i].bits = emu_float_to_f16(xf[i]);
  for (size_t i = 0; i < wf.size(); i++) w[i].bits = emu_float_to_f16(wf[i]);
  std::vector<float> y = y0, partial((size_t) splits * rows * out);
  float* dst = splits == 1 ? y.data() : partial.data();
  const float* b = gelu ? bias.data() : nullptr;
  f16* h = gelu ? half.data() : nullptr;
  emu_launch(gemm_rows_f16, {(unsigned) ((out + GR_COLS - 1) / GR_COLS * ((rows + GR_ROWS - 1) / GR_ROWS)),
             (unsigned) splits, 1}, {GR_THREADS, 1, 1}, 2 * GR_STAGE * 2, (const f16*) x.data(), rows, in,
             (const f16*) w.data(), out, dst, splits, b, h, accumulate, gelu);
  if (splits > 1)
    emu_launch(sum_slices_f16, {4, 1, 1}, {256, 1, 1}, 0, (const float*) partial.data(), splits, rows, out,
               y.data(), b, h, accumulate, gelu);
  double err = 0;
  for (int r = 0; r < rows; r++)
    for (int o = 0; o < out; o++) {
      double ref = 0.0;
      for (int k = 0; k < in; k++) ref += (double) to_float(x[(size_t) r * in + k]) * to_float(w[(size_t) o * in + k]);
      if (gelu) ref = gelu_ref(ref + bias[o]);
      if (accumulate) ref += y0[(size_t) r * out + o];
      size_t at = (size_t) r * out + o;
      err = std::fmax(err, std::fabs(y[at] - ref));
      if (gelu) err = std::fmax(err, std::fabs(to_float(half[at]) - round_to(y[at], (f16*) nullptr)));
    }
  report("gemm_rows f16 " + std::to_string(rows) + "x" + std::to_string(in) + "x" + std::to_string(out) + " splits " +
             std::to_string(splits) + (accumulate ? " accumulate" : "") + (gelu ? " bias gelu" : ""), err, 1e-6 * in);
}

// The batch-invariant mode's promise for gemm_rows: with the same k slices, a row's output (fp32
// and its 16-bit copy, after bias and gelu) has the same bits alone, among 5 rows and among 130.
static void check_gemm_rows_batch_invariance(int out, int in, int splits) {
  const int all = 130, row = 77;
  auto xf = randoms((size_t) all * in), wf = randoms((size_t) out * in), bias = randoms(out);
  std::vector<f16> x(xf.size()), w(wf.size());
  for (size_t i = 0; i < xf.size(); i++) x[i].bits = emu_float_to_f16(xf[i]);
  for (size_t i = 0; i < wf.size(); i++) w[i].bits = emu_float_to_f16(wf[i]);
  auto run = [&](int first, int rows, std::vector<float>& y, std::vector<f16>& half) {
    y.assign((size_t) rows * out, 0.f);
    half.assign((size_t) rows * out, f16{0});
    std::vector<float> partial((size_t) splits * rows * out);
    emu_launch(gemm_rows_f16, {(unsigned) ((out + GR_COLS - 1) / GR_COLS * ((rows + GR_ROWS - 1) / GR_ROWS)),
               (unsigned) splits, 1}, {GR_THREADS, 1, 1}, 2 * GR_STAGE * 2, (const f16*) x.data() + (size_t) first * in,
               rows, in, (const f16*) w.data(), out, splits == 1 ? y.data() : partial.data(), splits,
               (const float*) bias.data(), half.data(), 0, 1);
    if (splits > 1)
      emu_launch(sum_slices_f16, {4, 1, 1}, {256, 1, 1}, 0, (const float*) partial.data(), splits, rows, out, y.data(),
                 (const float*) bias.data(), half.data(), 0, 1);
  };
  std::vector<float> y_all, y_five, y_one;
  std::vector<f16> h_all, h_five, h_one;
  run(0, all, y_all, h_all);
  run(row - 2, 5, y_five, h_five);
  run(row, 1, y_one, h_one);
  int differ = 0;
  for (int o = 0; o < out; o++) {
    float a = y_all[(size_t) row * out + o];
    differ += a != y_five[(size_t) 2 * out + o] || a != y_one[o];
    differ += h_all[(size_t) row * out + o].bits != h_five[(size_t) 2 * out + o].bits ||
              h_all[(size_t) row * out + o].bits != h_one[o].bits;
  }
  report("gemm_rows f16 " + std::to_string(in) + "x" + std::to_string(out) + " splits " + std::to_string(splits) +
             ": a row alone, among 5 and among 130 (elements that differ)", differ, 0);
}

static void check_layernorm(int rows, int cols) {
  auto x = randoms(rows * cols, 3.f), g = randoms(cols), b = randoms(cols);
  for (int i = 0; i < rows * cols; i++) x[i] += 5.f;  // an offset the two-pass variance must handle
  std::vector<float> out(rows * cols);
  std::vector<f16> half(rows * cols);
  emu_launch(layernorm_f16, {(unsigned) rows, 1, 1}, {256, 1, 1}, 0, x.data(), g.data(), b.data(), 1e-5f,
             out.data(), half.data(), cols, (const float*) nullptr);
  double err = 0, herr = 0;
  for (int r = 0; r < rows; r++) {
    double mean = 0, var = 0;
    for (int i = 0; i < cols; i++) mean += x[r * cols + i];
    mean /= cols;
    for (int i = 0; i < cols; i++) var += (x[r * cols + i] - mean) * (x[r * cols + i] - mean);
    double rstd = 1 / std::sqrt(var / cols + 1e-5);
    for (int i = 0; i < cols; i++) {
      double want = (x[r * cols + i] - mean) * rstd * g[i] + b[i];
      err = std::fmax(err, std::fabs(out[r * cols + i] - want));
      herr = std::fmax(herr, std::fabs(to_float(half[r * cols + i]) - round_to(out[r * cols + i], (f16*) nullptr)));
    }
  }
  report("layernorm " + std::to_string(rows) + "x" + std::to_string(cols), err, 2e-5);
  report("layernorm f16 copy " + std::to_string(cols), herr, 0);
  // without the fp32 output: the same 16-bit copy
  std::vector<f16> alone(rows * cols);
  emu_launch(layernorm_f16, {(unsigned) rows, 1, 1}, {256, 1, 1}, 0, x.data(), g.data(), b.data(), 1e-5f,
             (float*) nullptr, alone.data(), cols, (const float*) nullptr);
  double diff = 0;
  for (int i = 0; i < rows * cols; i++) diff = std::fmax(diff, std::fabs(to_float(alone[i]) - to_float(half[i])));
  report("layernorm f16 copy alone " + std::to_string(cols), diff, 0);
  // a residual's deferred bias: bias_act then layernorm, against layernorm adding it as it reads x
  // (and writing x + bias back), bit for bit
  auto bias = randoms(cols);
  std::vector<float> two = x, one = x, out_two(rows * cols), out_one(rows * cols);
  std::vector<f16> half_two(rows * cols), half_one(rows * cols);
  const bool quads = cols % 4 == 0;
  emu_launch(bias_act_f16, {quads ? (unsigned) (cols / 4 + 63) / 64 : 3u, quads ? 2u : 1u, 1}, {64, 1, 1}, 0,
             two.data(), (const float*) bias.data(), (f16*) nullptr, rows, cols, 0, 0);
  emu_launch(layernorm_f16, {(unsigned) rows, 1, 1}, {256, 1, 1}, 0, two.data(), g.data(), b.data(), 1e-5f,
             out_two.data(), half_two.data(), cols, (const float*) nullptr);
  emu_launch(layernorm_f16, {(unsigned) rows, 1, 1}, {256, 1, 1}, 0, one.data(), g.data(), b.data(), 1e-5f,
             out_one.data(), half_one.data(), cols, (const float*) bias.data());
  double bits = 0;
  for (int i = 0; i < rows * cols; i++) {
    bits = std::fmax(bits, std::fabs(one[i] - two[i]) + std::fabs(out_one[i] - out_two[i]) +
                               std::fabs(to_float(half_one[i]) - to_float(half_two[i])));
  }
  report("layernorm with the residual's bias " + std::to_string(rows) + "x" + std::to_string(cols) +
             " against bias_act then layernorm",
         bits, 0);
}

// cols % 4 == 0 takes the 4-wide path: grid (ceil(cols / 4 / 64), 2) strides the rows, as launched
static void check_bias_act(int rows, int cols, int gelu, int half_only = 0) {
  auto y = randoms(rows * cols, 2.f), bias = randoms(cols);
  auto before = y;
  std::vector<bf16> half(rows * cols);
  const bool quads = cols % 4 == 0;
  emu_launch(bias_act_bf16, {quads ? (unsigned) (cols / 4 + 63) / 64 : 3u, quads ? 2u : 1u, 1}, {64, 1, 1}, 0, y.data(),
             bias.data(), half.data(), rows, cols, gelu, half_only);
  double err = 0, herr = 0;
  for (int i = 0; i < rows * cols; i++) {
    double v = before[i] + bias[i % cols];
    if (gelu) v = gelu_ref(v);
    float result = half_only ? (float) v : y[i];
    err = std::fmax(err, half_only ? std::fabs(y[i] - before[i]) : std::fabs(y[i] - v));  // half_only: y untouched
    herr = std::fmax(herr, std::fabs(to_float(half[i]) - round_to(result, (bf16*) nullptr)));
  }
  std::string what = std::string("bias_act ") + std::to_string(rows) + "x" + std::to_string(cols) +
                     (gelu ? " gelu_new" : " identity") + (half_only ? " half only" : "");
  report(what, err, 2e-6);
  // half only: the reference rounds the double result, the kernel its float: one bf16 unit apart at most
  report(what + " bf16 copy", herr, half_only ? 1e-2 : 0);
}

// read_words (the bench's bandwidth kernel): the blocks' xors together are every word's xor
static void check_read_words(int n16, unsigned blocks, unsigned threads) {
  std::vector<uint4> words(n16);
  unsigned want = 0, got = 0;
  for (auto& w : words) {
    w = {(unsigned) rng(), (unsigned) rng(), (unsigned) rng(), (unsigned) rng()};
    want ^= w.x ^ w.y ^ w.z ^ w.w;
  }
  std::vector<unsigned> out(blocks);
  emu_launch(read_words, {blocks, 1, 1}, {threads, 1, 1}, 0, (const uint4*) words.data(), n16, out.data());
  for (unsigned b : out) got ^= b;
  report("read_words " + std::to_string(n16) + " words, " + std::to_string(blocks) + " x " + std::to_string(threads),
         got != want, 0);
}

static void check_embed_cast_gather() {
  int vocab = 11, positions = 9, hidden = 70, tokens = 5;
  auto te = randoms(vocab * hidden), pe = randoms(positions * hidden);
  std::vector<f16> te16(te.size()), pe16(pe.size());
  emu_launch(cast_f16, {2, 1, 1}, {32, 1, 1}, 0, te.data(), te16.data(), (int) te.size());
  emu_launch(cast_f16, {1, 1, 1}, {64, 1, 1}, 0, pe.data(), pe16.data(), (int) pe.size());
  double cerr = 0;
  for (size_t i = 0; i < te.size(); i++) cerr = std::fmax(cerr, std::fabs(to_float(te16[i]) - round_to(te[i], (f16*) nullptr)));
  report("cast f32 -> f16", cerr, 0);
  int ids[] = {3, 0, 10, 3, 7}, pos[] = {0, 1, 2, 8, 4};
  std::vector<float> out(tokens * hidden);
  emu_launch(embed_f16, {(unsigned) tokens, 1, 1}, {32, 1, 1}, 0, te16.data(), pe16.data(), ids, pos, out.data(), hidden);
  double err = 0;
  for (int t = 0; t < tokens; t++)
    for (int i = 0; i < hidden; i++)
      err = std::fmax(err, std::fabs(out[t * hidden + i] - (to_float(te16[ids[t] * hidden + i]) +
                                                            to_float(pe16[pos[t] * hidden + i]))));
  report("embed f16", err, 0);
  int rows[] = {4, 0, 4};
  std::vector<float> dst(3 * hidden);
  emu_launch(gather_rows, {3, 1, 1}, {64, 1, 1}, 0, out.data(), rows, dst.data(), hidden);
  double gerr = 0;
  for (int r = 0; r < 3; r++)
    for (int i = 0; i < hidden; i++) gerr = std::fmax(gerr, std::fabs(dst[r * hidden + i] - out[rows[r] * hidden + i]));
  report("gather_rows", gerr, 0);
  // sum_rows: double sums in row order, bit for bit the host's
  const int cols = 300, rows_total = 9;
  auto src = randoms((size_t) rows_total * cols);
  int ranges[] = {0, 4, 4, 5, 5, 9};
  std::vector<double> sums(3 * cols);
  emu_launch(sum_rows, {3, 2, 1}, {256, 1, 1}, 0, (const float*) src.data(), (const int*) ranges, sums.data(), cols);
  double serr = 0;
  for (int i = 0; i < 3; i++)
    for (int c = 0; c < cols; c++) {
      double acc = 0;
      for (int r = ranges[2 * i]; r < ranges[2 * i + 1]; r++) acc += src[(size_t) r * cols + c];
      serr += acc != sums[(size_t) i * cols + c];
    }
  report("sum_rows", serr, 0);
  check_gemm_rows(37, 150, 256, 3, 0);
  check_gemm_rows(37, 150, 256, 1, 1);
  check_gemm_rows(140, 20, 128, 2, 1);
  check_gemm_rows(37, 150, 256, 3, 0, 1);
  check_gemm_rows(37, 150, 256, 1, 1, 1);
  check_gemm_rows_batch_invariance(150, 256, 3);
  check_gemm_rows_batch_invariance(40, 128, 1);
  // gemv: rows 1..4 against double sums; fresh, accumulating, with bias and gelu_new, one slice of k
  // or several (partial sums, tickets, the last block's epilogue); out not a multiple of 8
  // (gemv_f16 at 256 threads; gemv1_f16, one row, at 320 and 96: the host's block sizes)
  struct GemvKernel {
    void (*kernel)(const float*, int, int, const f16*, int, float*, const float*, f16*, int, int, int, float*, int*,
                   const float*, const float*, float);
    int rows, threads;
  };
  for (GemvKernel g : {GemvKernel{gemv_f16, 1, 256}, GemvKernel{gemv_f16, 4, 256}, GemvKernel{gemv1_f16, 1, 320},
                       GemvKernel{gemv1_f16, 1, 96}}) {
    const int rows = g.rows, in = 2056, out = 37;  // k wraps the block's 2048 once
    auto gx = randoms((size_t) rows * in), gw = randoms((size_t) out * in), gy = randoms((size_t) rows * out);
    auto gb = randoms(out);
    std::vector<f16> w16(gw.size());
    for (size_t i = 0; i < gw.size(); i++) w16[i].bits = emu_float_to_f16(gw[i]);
    const int groups = (out + 7) / 8;
    std::vector<int> tickets(groups, 0);
    for (int slices : {1, 3}) {
      const int slice_len = slices == 1 ? in : 8 * ((in / 8 + slices - 1) / slices);
      std::vector<float> partial((size_t) slices * rows * out, NAN);
      for (int variant = 0; variant < 3; variant++) {  // plain; + y; bias and gelu with a 16-bit copy
        const int accumulate = variant == 1, gelu = variant == 2;
        std::vector<float> y = gy;
        std::vector<f16> half((size_t) rows * out);
        emu_launch(g.kernel, {(unsigned) groups, (unsigned) slices, 1}, {(unsigned) g.threads, 1, 1}, 0,
                   (const float*) gx.data(),
                   rows, in, (const f16*) w16.data(), out, y.data(), gelu ? (const float*) gb.data() : nullptr,
                   gelu ? half.data() : nullptr, accumulate, gelu, slice_len, partial.data(), tickets.data(),
                   (const float*) nullptr, (const float*) nullptr, 0.f);
        double gerr2 = 0;
        for (int r = 0; r < rows; r++)
          for (int o = 0; o < out; o++) {
            double ref = 0;
            for (int k = 0; k < in; k++) ref += (double) gx[(size_t) r * in + k] * to_float(w16[(size_t) o * in + k]);
            if (gelu) ref = gelu_ref(ref + gb[o]);
            if (accumulate) ref += gy[(size_t) r * out + o];
            size_t at = (size_t) r * out + o;
            gerr2 = std::fmax(gerr2, std::fabs(y[at] - ref));
            if (gelu) gerr2 = std::fmax(gerr2, std::fabs(to_float(half[at]) - round_to(y[at], (f16*) nullptr)));
            if (std::isnan(y[at])) gerr2 = INFINITY;
          }
        for (int t : tickets) gerr2 = t != 0 ? INFINITY : gerr2;  // the last block resets its ticket
        report(std::string(g.kernel == gemv1_f16 ? "gemv1" : "gemv") + " f16 rows " + std::to_string(rows) +
                   " threads " + std::to_string(g.threads) + " slices " + std::to_string(slices) +
                   (accumulate ? " accumulate" : gelu ? " bias gelu" : ""),
               gerr2, 5e-5);
      }
    }
  }
}

// gemv1_ln_f16 (the layer norm fused into the one-row gemv) gives the bits of layernorm_f16 (256
// threads) then gemv1_f16 at blockDim >= 256, over one slice and several; at fewer threads it
// sums in another order: within rounding of the same.
static void check_gemv_norm(int threads, int in, int out, int slices) {
  auto x = randoms(in, 3.f), g = randoms(in), b = randoms(in), wf = randoms((size_t) out * in), bias = randoms(out);
  for (auto& v : x) v += 2.f;
  std::vector<f16> w(wf.size());
  for (size_t i = 0; i < wf.size(); i++) w[i].bits = emu_float_to_f16(wf[i]);
  const int groups = (out + 7) / 8;
  const int slice_len = slices == 1 ? in : 8 * threads * ((in / (8 * threads) + slices - 1) / slices);
  std::vector<int> tickets(groups, 0);
  std::vector<float> partial((size_t) slices * out), normed(in), y_two(out), y_one(out);
  std::vector<f16> half(in), h_two(out), h_one(out);
  emu_launch(layernorm_f16, {1, 1, 1}, {256, 1, 1}, 0, x.data(), (const float*) g.data(),
             (const float*) b.data(), 1e-5f, normed.data(), half.data(), in, (const float*) nullptr);
  emu_launch(gemv1_f16, {(unsigned) groups, (unsigned) slices, 1}, {(unsigned) threads, 1, 1}, 0,
             (const float*) normed.data(), 1, in, (const f16*) w.data(), out, y_two.data(), (const float*) bias.data(),
             h_two.data(), 0, 1, slice_len, partial.data(), tickets.data(), (const float*) nullptr,
             (const float*) nullptr, 0.f);
  emu_launch(gemv1_ln_f16, {(unsigned) groups, (unsigned) slices, 1}, {(unsigned) threads, 1, 1}, 0,
             (const float*) x.data(), 1, in, (const f16*) w.data(), out, y_one.data(), (const float*) bias.data(),
             h_one.data(), 0, 1, slice_len, partial.data(), tickets.data(), (const float*) g.data(),
             (const float*) b.data(), 1e-5f);
  double err = 0;
  for (int o = 0; o < out; o++) {
    err = std::fmax(err, std::fabs(y_one[o] - y_two[o]));
    err = std::fmax(err, std::fabs(to_float(h_one[o]) - to_float(h_two[o])));
    if (std::isnan(y_one[o])) err = INFINITY;
  }
  for (int t : tickets) err = t != 0 ? INFINITY : err;
  report("gemv1_ln f16 " + std::to_string(in) + "->" + std::to_string(out) + " threads " + std::to_string(threads) +
             " slices " + std::to_string(slices) + " against layernorm then gemv1",
         err, threads >= 256 ? 0 : 1e-4);
}

#include "attention_checks.h"

// ---- choose_tokens ---------------------------------------------------------------------------

// Runs choose_tokens on the rows of a file written by ChoiceCases (Java): logits, the choice table
// and the host's tokens, which the kernel must reproduce (GenerateJob's processors and sampler),
// and for the rows that ask, their log-probabilities (within ChoiceCases.logprobTolerance).
static void check_choices(const char* path, int threads) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) {
    std::printf("FAIL cannot open %s\n", path);
    failures++;
    return;
  }
  int head[5];
  bool ok = std::fread(head, 4, 5, f) == 5;
  int rows = head[0], cols = head[1], table_bytes = head[2], ids_offset = head[3], label_bytes = head[4];
  std::vector<float> logits((size_t) rows * cols);
  std::vector<unsigned long long> table((table_bytes + 7) / 8);  // 8-byte aligned, as on the device
  std::vector<int> want(rows), got(rows, -2);
  const double unwritten = 12345.0;
  std::vector<double> want_lp(rows), got_lp(rows, unwritten);
  std::string labels(label_bytes, ' ');
  ok = ok && std::fread(logits.data(), 4, logits.size(), f) == logits.size() &&
       std::fread(table.data(), 1, table_bytes, f) == (size_t) table_bytes &&
       std::fread(want.data(), 4, rows, f) == (size_t) rows && std::fread(want_lp.data(), 8, rows, f) == (size_t) rows &&
       std::fread(labels.data(), 1, label_bytes, f) == (size_t) label_bytes;
  std::fclose(f);
  if (!ok) {
    std::printf("FAIL %s is truncated\n", path);
    failures++;
    return;
  }
  std::vector<std::string> names;
  for (size_t at = 0; at <= labels.size();) {
    size_t end = labels.find('\n', at);
    if (end == std::string::npos) end = labels.size();
    names.push_back(labels.substr(at, end - at));
    at = end + 1;
  }
  std::vector<float> scratch((size_t) rows * cols);
  const unsigned char* base = reinterpret_cast<const unsigned char*>(table.data());
  emu_launch(choose_tokens, {(unsigned) rows, 1, 1}, {(unsigned) threads, 1, 1}, 28 * CHOICE_CAP, logits.data(), cols,
             reinterpret_cast<const ChoiceRow*>(base), reinterpret_cast<const int*>(base + ids_offset),
             scratch.data(), got.data(), got_lp.data());
  int wrong = 0, wrong_lp = 0;
  double worst = 0;
  const ChoiceRow* table_rows = reinterpret_cast<const ChoiceRow*>(base);
  for (int r = 0; r < rows; r++) {
    const char* name = r < (int) names.size() ? names[r].c_str() : "?";
    if (got[r] != want[r]) {
      wrong++;
      std::printf("  row %d (%s): device %d, host %d\n", r, name, got[r], want[r]);
    }
    bool ok_lp;
    if (!table_rows[r].want_logprob) {
      ok_lp = got_lp[r] == unwritten;  // rows that do not ask are left alone
    } else if (std::isnan(want_lp[r])) {
      ok_lp = std::isnan(got_lp[r]);
    } else {
      double tol = (2.0 * cols + 4) * 0x1p-53 * std::max(1.0, std::fabs(want_lp[r]));  // ChoiceCases.logprobTolerance
      double d = std::fabs(got_lp[r] - want_lp[r]);
      ok_lp = got_lp[r] == want_lp[r] || d <= tol;
      if (ok_lp && got_lp[r] != want_lp[r]) worst = std::max(worst, d / tol);
    }
    if (!ok_lp) {
      wrong_lp++;
      std::printf("  row %d (%s): logprob device %.17g, host %.17g\n", r, name, got_lp[r], want_lp[r]);
    }
  }
  std::string what = "choose_tokens " + std::to_string(rows) + " rows of " + std::to_string(cols) + ", " +
                     std::to_string(threads) + " threads: ";
  report(what + "tokens unlike the host's", wrong, 0);
  std::printf("  logprobs: worst difference %.3g of the tolerance\n", worst);
  report(what + "logprobs unlike the host's", wrong_lp, 0);
}

// Runs beam_candidates on the rows of a file written by BeamCases (Java): logits, the ranked rows'
// table and the host's continuations (HostChoice.rank). Scores within BeamCases.scoreTolerance
// place by place; a different id only where the host's scores of the two are that close (a near tie).
static void check_beams(const char* path, int threads) {
  std::FILE* f = std::fopen(path, "rb");
  int head[5] = {0, 0, 0, 0, 0};
  bool ok = f && std::fread(head, 4, 5, f) == 5;
  int rows = head[0], cols = head[1], stride = head[2], table_bytes = head[3], ids_offset = head[4];
  std::vector<float> logits((size_t) rows * cols), want((size_t) rows * stride), got(want.size(), 12345.f);
  std::vector<unsigned long long> table((table_bytes + 7) / 8);  // 8-byte aligned, as on the device
  std::vector<int> want_ids(want.size()), got_ids(want.size(), -2);
  ok = ok && std::fread(logits.data(), 4, logits.size(), f) == logits.size() &&
       std::fread(table.data(), 1, table_bytes, f) == (size_t) table_bytes &&
       std::fread(want.data(), 4, want.size(), f) == want.size() &&
       std::fread(want_ids.data(), 4, want_ids.size(), f) == want_ids.size();
  if (f) std::fclose(f);
  if (!ok) {
    std::printf("FAIL cannot read %s\n", path);
    failures++;
    return;
  }
  const unsigned char* base = reinterpret_cast<const unsigned char*>(table.data());
  const ChoiceRow* table_rows = reinterpret_cast<const ChoiceRow*>(base);
  emu_launch(beam_candidates, {(unsigned) rows, 1, 1}, {(unsigned) threads, 1, 1}, 0, logits.data(), cols, table_rows,
             reinterpret_cast<const int*>(base + ids_offset), stride, got.data(), got_ids.data());
  int wrong = 0, near_ties = 0, inexact = 0;
  for (int r = 0; r < rows; r++) {
    const ChoiceRow& c = table_rows[r];
    for (int j = 0; j < stride; j++) {
      size_t at = (size_t) r * stride + j;
      if (j >= c.top_k) {
        if (got[at] != 12345.f || got_ids[at] != -2) wrong++;  // places past top_k stay unwritten
        continue;
      }
      auto tol = [&](float host) {  // BeamCases.scoreTolerance
        float ulp_log = std::nextafter(std::log((float) cols), INFINITY) - std::log((float) cols);
        float ulp_host = std::isinf(host) ? 0.f : std::nextafter(std::fabs(host), INFINITY) - std::fabs(host);
        float t = (std::max(1.f, c.penalty) + 1) * (ulp_log + 2 * ulp_host);
        return c.renormalize ? 4 * t + ulp_log + 2 * ulp_host : t;
      };
      bool score_ok = got[at] == want[at] || std::fabs(got[at] - want[at]) <= tol(want[at]);
      if (got[at] != want[at]) inexact++;
      bool id_ok = got_ids[at] == want_ids[at];
      if (!id_ok) {  // a near tie: the device's id is the host's at a nearby place with a score that close
        for (int i = 0; i < c.top_k && !id_ok; i++) {
          size_t other = (size_t) r * stride + i;
          id_ok = want_ids[other] == got_ids[at] && std::fabs(want[other] - want[at]) <= 2 * tol(want[at]);
        }
        id_ok = id_ok || (j == c.top_k - 1 && score_ok);  // the last place, against one the host left out
        if (id_ok) near_ties++;
      }
      if (!score_ok || !id_ok) {
        wrong++;
        std::printf("  row %d place %d: device %d (%.9g), host %d (%.9g)\n", r, j, got_ids[at], got[at],
                    want_ids[at], want[at]);
      }
    }
  }
  std::printf("  beam_candidates: %d scores not bit-equal, %d near-tie swaps\n", inexact, near_ties);
  report("beam_candidates " + std::to_string(rows) + " rows of " + std::to_string(cols) + ", " +
             std::to_string(threads) + " threads: continuations unlike the host's",
         wrong, 0);
}

// Runs token_logprobs on the rows of a file written by TargetCases (Java): logits, each row's
// targets and the host's log-probabilities (LogitsProcessors.logProb), within the tolerance of
// ChoiceCases.logprobTolerance.
static void check_targets(const char* path, int threads) {
  std::FILE* f = std::fopen(path, "rb");
  int head[3] = {0, 0, 0};
  bool ok = f && std::fread(head, 4, 3, f) == 3;
  int rows = head[0], cols = head[1], count = head[2];
  std::vector<float> logits((size_t) rows * cols);
  std::vector<int> row_from(rows + 1), ids(count);
  std::vector<double> want(count), got(count, 12345.0);
  ok = ok && std::fread(logits.data(), 4, logits.size(), f) == logits.size() &&
       std::fread(row_from.data(), 4, rows + 1, f) == (size_t) rows + 1 && std::fread(ids.data(), 4, count, f) == (size_t) count &&
       std::fread(want.data(), 8, count, f) == (size_t) count;
  if (f) std::fclose(f);
  if (!ok) {
    std::printf("FAIL cannot read %s\n", path);
    failures++;
    return;
  }
  emu_launch(token_logprobs, {(unsigned) rows, 1, 1}, {(unsigned) threads, 1, 1}, 0, logits.data(), cols,
             row_from.data(), ids.data(), got.data());
  int wrong = 0;
  double worst = 0;
  for (int j = 0; j < count; j++) {
    bool same;
    if (std::isnan(want[j])) {
      same = std::isnan(got[j]);
    } else {
      double tol = (2.0 * cols + 4) * 0x1p-53 * std::max(1.0, std::fabs(want[j]));
      if (got[j] != want[j]) worst = std::max(worst, std::fabs(got[j] - want[j]) / tol);
      same = got[j] == want[j] || std::fabs(got[j] - want[j]) <= tol;  // -inf for a -inf logit
    }
    if (!same) {
      wrong++;
      std::printf("  target %d (id %d): device %.17g, host %.17g\n", j, ids[j], got[j], want[j]);
    }
  }
  std::printf("  token_logprobs: worst difference %.3g of the tolerance\n", worst);
  report("token_logprobs " + std::to_string(rows) + " rows of " + std::to_string(cols) + ", " + std::to_string(threads) +
             " threads: log-probabilities unlike the host's",
         wrong, 0);
}

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "--targets") {  // --targets THREADS FILE...
    for (int i = 3; i < argc; i++) check_targets(argv[i], std::atoi(argv[2]));
    std::printf("%d failures\n", failures);
    return failures;
  }
  if (argc > 2 && std::string(argv[1]) == "--beams") {  // --beams THREADS FILE...
    for (int i = 3; i < argc; i++) check_beams(argv[i], std::atoi(argv[2]));
    std::printf("%d failures\n", failures);
    return failures;
  }
  if (argc > 2 && std::string(argv[1]) == "--choices") {  // --choices THREADS FILE...
    for (int i = 3; i < argc; i++) check_choices(argv[i], std::atoi(argv[2]));
    std::printf("%d failures\n", failures);
    return failures;
  }
  check_conversions();
  check_layernorm(3, 67);
  check_layernorm(2, 2560);
  check_layernorm(2, 68);
  for (int cols : {37, 300}) {  // one element a thread; four (16-byte loads), two column blocks
    check_bias_act(5, cols, 1);
    check_bias_act(5, cols, 0);
    check_bias_act(5, cols, 1, 1);
  }
  check_embed_cast_gather();
  check_read_words(1, 2, 32);
  check_read_words(1000, 3, 64);
  check_read_words(4099, 5, 96);
  check_gemv_norm(320, 2560, 45, 1);
  check_gemv_norm(256, 4096, 37, 2);
  check_gemv_norm(96, 768, 19, 1);
  attention_suite(AttentionCase<float>{"f32 d64", attention_prefill_f32_d64, attention_decode_f32, kv_store_f32, 64}, 20, {4, 8, 200});
  const AttentionCase<f16> f16_d64{"f16 d64", attention_prefill_f16_d64, attention_decode_f16, kv_store_f16, 64};
  attention_suite(f16_d64, 64, {8});
  attention_suite(caching_kv(f16_d64), 64, {8, 200});
  attention_suite(f16_d64, 64, {8, 200}, 3);  // decode over 3 blocks a (sequence, head): some parts empty
  attention_suite(f16_d64, 32, {8, 200}, 2);  // one-pass decode with 4 lanes a key (the demo model's head size)
  attention_suite(AttentionCase<bf16>{"bf16 d64", attention_prefill_bf16_d64, attention_decode_bf16, kv_store_bf16, 64},
                  16, {4, 200}, 3);  // 2 lanes a key (tiny-neo's head size)
  attention_suite(AttentionCase<bf16>{"bf16 d128", attention_prefill_bf16_d128, attention_decode_bf16, kv_store_bf16, 128}, 96, {4, 200});
  const AttentionCase<f16> f16_d256{"f16 d256", attention_prefill_f16_d256, attention_decode_f16, kv_store_f16, 256};
  attention_suite(f16_d256, 130, {});
  attention_suite(caching_kv(f16_d256), 130, {});  // head_dim % 4 != 0: one dim a thread
  attention_suite(f16_d256, 256, {});
  attention_suite(f16_d256, 256, {}, 2);
  attention_suite(AttentionCase<bf16>{"bf16 d128", attention_prefill_bf16_d128, attention_decode_bf16, kv_store_bf16, 128}, 128, {200});
  // tensor cores: P is rounded to T too, which the reference does not model: tolerances allow that
  const AttentionCase<f16> mma_f16_d64{"mma f16 d64", attention_prefill_mma_f16_d64, attention_decode_f16,
                                       kv_store_f16, 64, MTHREADS, mma_shared(64), 1e-3, true};
  const AttentionCase<bf16> mma_bf16_d128{"mma bf16 d128", attention_prefill_mma_bf16_d128, attention_decode_bf16,
                                          kv_store_bf16, 128, MTHREADS, mma_shared(128), 8e-3, true};
  attention_suite(mma_f16_d64, 64, {8, 200});
  attention_suite(caching_kv(mma_f16_d64), 64, {8, 200});
  attention_suite(mma_bf16_d128, 128, {4, 200});
  attention_suite(caching_kv(mma_bf16_d128), 128, {4});
  attention_suite(caching_kv(mma_bf16_d128), 128, {200}, 4);
  half_qkv_suite(mma_f16_d64, attention_prefill_mma_f16_d64_h, 64);
  half_qkv_suite(mma_bf16_d128, attention_prefill_mma_bf16_d128_h, 128);
  attention_suite(AttentionCase<f16>{"mma f16 d128", attention_prefill_mma_f16_d128, attention_decode_f16,
                                     kv_store_f16, 128, MTHREADS, mma_shared(128), 1e-3, true}, 128, {256});
  copy_suite(AttentionCase<float>{"f32 d64", attention_prefill_f32_d64, attention_decode_f32, kv_store_f32, 64},
             kv_copy_f32, 20);
  copy_suite(caching_kv(f16_d64), kv_copy_f16, 64);
  copy_suite(caching_kv(mma_bf16_d128), kv_copy_bf16, 128);
  std::printf("%d failures\n", failures);
  return failures;
}
