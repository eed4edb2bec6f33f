package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.generate.HostChoice;
import dev.gptneo.engine.generate.Sampler;
import dev.gptneo.engine.ops.TokenChoice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Rows of logits with a {@link TokenChoice} row each and the host's token for it ({@link
 * HostChoice}, i.e. GenerateJob's processors and sampler): what choose_tokens must reproduce, on
 * the emulator (KernelEmulationTest, through a file) and on a GPU (CudaOpsVsCpuTest). Logits of
 * several kinds (continuous, few distinct values, all equal, -inf entries, signed zeros) meet
 * greedy rows and sampled ones with temperatures, top-k on both sides of the shared-memory cap
 * and of the vocab, top-p from tiny to almost 1, the min-p, typical-p, epsilon and eta filters,
 * sequence biases, penalties and bans. Two rows in three also ask
 * for the token's log-probability ({@link #expectedLogprobs}).
 */
final class ChoiceCases {
  final String label;
  final int vocab;
  final TokenChoice choice;
  final List<String> names = new ArrayList<>();
  private float[] logits = new float[0];
  private int[] expected;
  private double[] expectedLogprobs;

  ChoiceCases(String label, int vocab) {
    this.label = label;
    this.vocab = vocab;
    this.choice = new TokenChoice(vocab, 8);
  }

  int rows() {
    return names.size();
  }

  float[] logits() {
    return Arrays.copyOf(logits, rows() * vocab);
  }

  /** The host's tokens. */
  int[] expected() {
    if (expected == null) {
      HostChoice host = new HostChoice(vocab);
      expected = new int[rows()];
      expectedLogprobs = new double[rows()];
      for (int r = 0; r < rows(); r++) {
        expected[r] = host.choose(choice, r, logits, r * vocab);
        expectedLogprobs[r] = choice.logprob(r) ? host.logprob() : Double.NaN;
      }
    }
    return expected;
  }

  /** The host's log-probabilities of its tokens, for the rows that ask (NaN for the others). */
  double[] expectedLogprobs() {
    expected();
    return expectedLogprobs;
  }

  /**
   * How far the device's log-probability may be from the host's: the softmax sum's order differs
   * (each order is within (n - 1) 2^-53 of the exact sum, relative, so the two within twice that),
   * and exp and log may each differ in their last bit. In log space a relative error of the sum is
   * an absolute one.
   */
  static double logprobTolerance(int vocab, double logprob) {
    return (2.0 * vocab + 4) * 0x1p-53 * Math.max(1, Math.abs(logprob));
  }

  /** The device's log-probability against the host's: equal (-inf, NaN), or within the tolerance. */
  static boolean logprobsAgree(int vocab, double host, double device) {
    return Double.compare(host, device) == 0 || Math.abs(device - host) <= logprobTolerance(vocab, host);
  }

  /** A row: its logits and its choice (describe adds exactly one row). */
  void add(String name, float[] row, Consumer<TokenChoice> describe) {
    int r = rows();
    if ((r + 1) * vocab > logits.length) {
      logits = Arrays.copyOf(logits, Math.max(2 * logits.length, (r + 1) * vocab));
    }
    System.arraycopy(row, 0, logits, r * vocab, vocab);
    describe.accept(choice);
    if (choice.rows() != r + 1) {
      throw new IllegalStateException(name + " added " + (choice.rows() - r) + " rows");
    }
    if (r % 3 != 2) {
      choice.wantLogprob();
    }
    names.add(name);
    expected = null;
  }

  /**
   * Writes rows, cols, table bytes, ids offset, logits, the ChoiceTable, the host's tokens and
   * log-probabilities, the names.
   */
  void write(Path file) {
    ByteBuffer table = new ChoiceTable().encode(choice);
    int[] want = expected();
    byte[] labels = String.join("\n", names).getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(20 + 4 * rows() * vocab + table.remaining() + 12 * rows() + labels.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(rows()).putInt(vocab).putInt(table.remaining()).putInt((int) ChoiceTable.idsOffset(choice))
        .putInt(labels.length);
    for (int i = 0; i < rows() * vocab; i++) {
      b.putFloat(logits[i]);
    }
    b.put(table);
    for (int t : want) {
      b.putInt(t);
    }
    for (double lp : expectedLogprobs) {
      b.putDouble(lp);
    }
    b.put(labels);
    writeFile(file, b);
  }

  /** Writes b's contents from 0 to its position to file (the emulator's inputs). */
  static void writeFile(Path file, ByteBuffer b) {
    b.flip();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      while (b.hasRemaining()) {
        ch.write(b);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- the cases -------------------------------------------------------------------------------

  /** Logits of each kind. */
  static float[] logits(String kind, int vocab, Random random) {
    float[] l = new float[vocab];
    for (int i = 0; i < vocab; i++) {
      switch (kind) {
        case "gauss":
          l[i] = (float) (3 * random.nextGaussian());
          break;
        case "discrete": // few values: ties everywhere, top-k and top-p cut inside groups
          l[i] = (random.nextInt(33) - 16) / 4f;
          break;
        case "flat":
          l[i] = 1.5f;
          break;
        case "neginf": // banned and masked tokens
          l[i] = random.nextInt(5) < 2 ? Float.NEGATIVE_INFINITY : (float) random.nextGaussian();
          break;
        case "peaked":
          l[i] = (float) random.nextGaussian() + (i == vocab / 3 ? 25f : 0f);
          break;
        case "zeros": // -0 and +0: equal for argmax and top-k, ordered for top-p's sort
          l[i] = random.nextBoolean() ? (random.nextBoolean() ? -0f : 0f) : -(float) Math.abs(random.nextGaussian());
          break;
        default:
          throw new IllegalArgumentException(kind);
      }
    }
    return l;
  }

  static final String[] KINDS = {"gauss", "discrete", "flat", "neginf", "peaked", "zeros"};

  /** Every kind against every setting, at a vocab above the cap (so top-k off takes the parallel paths). */
  static ChoiceCases broad(int vocab, long seed) {
    ChoiceCases c = new ChoiceCases("broad vocab " + vocab, vocab);
    Random random = new Random(seed);
    int[] ids = new int[40];
    int step = 0;
    for (String kind : KINDS) {
      float[] row = logits(kind, vocab, random);
      for (int i = 0; i < ids.length; i++) {
        ids[i] = i * 7 + random.nextInt(7); // distinct
      }
      int[] some = ids.clone();
      c.add(kind + " greedy", row, t -> t.addGreedy());
      c.add(kind + " greedy penalty bans", row, t -> {
        t.addGreedy();
        t.penalize(1.3f, some, some.length);
        t.ban(some[3]);
        t.ban(some[3]);
        t.ban(vocab - 1);
      });
      Object[][] settings = {
          {1f, 50, 1.0}, {0.7f, 50, 0.9}, {1.3f, 0, 1.0}, {1f, 0, 0.9}, {1f, 1, 1.0}, {1f, vocab - 1, 1.0},
          {1f, vocab, 0.95}, {1f, vocab + 7, 0.5}, {1f, CudaKernels.CHOICE_CAP, 0.95},
          {1f, CudaKernels.CHOICE_CAP + 1, 0.95}, {1f, 5, 1e-9}, {1f, 0, 1e-9}, {1f, 0, 0.999999},
          {0.5f, 100, 0.3}, {2.5f, 300, 0.8}};
      for (Object[] s : settings) {
        float temperature = (Float) s[0];
        int k = (Integer) s[1];
        double p = (Double) s[2];
        double u = Sampler.uniform(seed, step++);
        c.add(String.format("%s T=%s k=%d p=%s u=%.4f", kind, temperature, k, p, u), row,
            t -> t.addSampled(temperature, k, p, u));
      }
      // sequence biases before the penalty: a biased, penalized and banned id; a large bias that wins
      c.add(kind + " greedy biases", row, t -> {
        t.addGreedy();
        t.bias(some[0], 2.5f);
        t.bias(some[1], -1.25f);
        t.bias(some[3], 4f);
        t.bias(vocab / 2, 30f);
        t.penalize(1.3f, some, 3);
        t.ban(some[3]);
      });
      // each of 12 ids biased by one thread and penalized by another (the penalty's ids in reverse
      // order): every bias must be in before any penalty, or ids some[6..11] come out 1.85 higher
      int[] reversed = new int[12];
      for (int i = 0; i < reversed.length; i++) {
        reversed[i] = some[reversed.length - 1 - i];
      }
      c.add(kind + " greedy biases, penalty in another order", row, t -> {
        t.addGreedy();
        for (int i = 0; i < reversed.length; i++) {
          t.bias(some[i], 8f);
        }
        t.penalize(1.3f, reversed, reversed.length);
      });
      double ub = Sampler.uniform(seed, step++);
      c.add(kind + " sampled biases", row, t -> {
        t.addSampled(0.8f, 60, 0.9, ub);
        for (int i = 0; i < 12; i++) {
          t.bias(some[i], i % 2 == 0 ? 1.5f : -0.75f);
        }
        t.penalize(0.7f, some, 6);
      });
      double u = Sampler.uniform(seed, step++);
      c.add(kind + " sampled with penalty and bans", row, t -> {
        t.addSampled(0.9f, 40, 0.9, u);
        t.penalize(0.7f, some, some.length);
        for (int i = 0; i < 10; i++) {
          t.ban(some[i]);
        }
      });
      Object[][] minPs = { // min_p after top-k and top-p: exact path, and more candidates than the cap
          {1f, 50, 1.0, 0.05f}, {0.8f, 0, 1.0, 0.1f}, {1f, 0, 0.95, 1e-7f}, {1.5f, 3000, 0.9, 0.01f}, {1f, 0, 1.0, 1f}};
      for (Object[] s : minPs) {
        double um = Sampler.uniform(seed, step++);
        c.add(String.format("%s T=%s k=%s p=%s min_p=%s", kind, s[0], s[1], s[2], s[3]), row, t -> {
          t.addSampled((Float) s[0], (Integer) s[1], (Double) s[2], um);
          t.filters((Float) s[3], 0f, 0f, 0f);
        });
      }
      Object[][] cuts = { // epsilon and eta alone and with min_p: exact path, and more candidates than the cap
          {1f, 50, 1.0, 0f, 3e-3f, 0f}, {1f, 0, 1.0, 0f, 2e-4f, 0f}, {1f, 0, 1.0, 0f, 0.999f, 0f},
          {0.8f, 0, 0.95, 0f, 0f, 2e-3f}, {1f, 0, 1.0, 0f, 0f, 5e-4f}, {1.2f, 200, 1.0, 0f, 0f, 0.2f},
          {1f, 100, 0.9, 0.05f, 1e-3f, 1e-3f}, {1f, 0, 1.0, 1e-6f, 1e-5f, 1e-4f}};
      for (Object[] s : cuts) {
        double ue = Sampler.uniform(seed, step++);
        c.add(String.format("%s T=%s k=%s p=%s min_p=%s epsilon=%s eta=%s", kind, s[0], s[1], s[2], s[3], s[4], s[5]),
            row, t -> {
              t.addSampled((Float) s[0], (Integer) s[1], (Double) s[2], ue);
              t.filters((Float) s[3], 0f, (Float) s[4], (Float) s[5]);
            });
      }
      Object[][] typicals = { // typical_p alone and with the others: exact path, and more candidates than the cap
          {1f, 0, 1.0, 0f, 0.9f, 0f}, {1f, 0, 1.0, 0f, 0.2f, 0f}, {0.7f, 100, 1.0, 0f, 0.5f, 0f},
          {1f, 50, 0.9, 0f, 0.95f, 0f}, {1.5f, 0, 0.98, 0.001f, 0.8f, 5e-4f}, {1f, 2500, 1.0, 0f, 1e-6f, 0f},
          {1f, 0, 1.0, 0f, 0.9999f, 0f}};
      for (Object[] s : typicals) {
        double ut = Sampler.uniform(seed, step++);
        c.add(String.format("%s T=%s k=%s p=%s min_p=%s typical=%s eta=%s", kind, s[0], s[1], s[2], s[3], s[4], s[5]),
            row, t -> {
              t.addSampled((Float) s[0], (Integer) s[1], (Double) s[2], ut);
              t.filters((Float) s[3], (Float) s[4], 0f, (Float) s[5]);
            });
      }
      Object[][] topHs = { // top_h (before top-k): its 100 largest, ties by id; with top-k, top-p and the filters
          {1f, 0.5, 0, 1.0}, {0.8f, 0.9, 50, 1.0}, {1.2f, 0.3, 0, 0.9}, {1f, 1.0, 0, 1.0}, {1f, 1e-3, 0, 1.0}};
      for (Object[] s : topHs) {
        double uh = Sampler.uniform(seed, step++);
        c.add(String.format("%s T=%s top_h=%s k=%s p=%s", kind, s[0], s[1], s[2], s[3]), row, t -> {
          t.addSampled((Float) s[0], (Integer) s[2], (Double) s[3], uh);
          t.topH((Double) s[1]);
          t.filters(0.02f, 0f, 0f, 0f);
        });
      }
      c.add(kind + " u=0", row, t -> t.addSampled(1f, 0, 0.95, 0.0));
      c.add(kind + " u=1-2^-53", row, t -> t.addSampled(1f, 20, 1.0, 1.0 - 0x1.0p-53));
    }
    // top-p's sum against 1 - top_p in float, as the host: sums that pass the threshold in double but
    // round to it in float (six equal logits at 0.5; three at 0.9), on the exact and the parallel path
    float[] few = new float[vocab];
    Arrays.fill(few, Float.NEGATIVE_INFINITY);
    Arrays.fill(few, 10, 16, 0f);
    c.add("six equal p=0.5 u=0.6", few, t -> t.addSampled(1f, 0, 0.5, 0.6));
    float[] three = new float[vocab];
    Arrays.fill(three, Float.NEGATIVE_INFINITY);
    three[0] = 0f;
    three[1] = -2.1972246f;
    three[2] = -18.6f;
    c.add("three p=0.9 u=0.95", three, t -> t.addSampled(1f, 0, 0.9, 0.95));
    float[] tied = new float[vocab];
    for (int i = 0; i < vocab; i++) {
      tied[i] = i % 7 == 0 ? Float.NEGATIVE_INFINITY : (i % 2 == 0 ? 0f : -0f);
    }
    for (double u : new double[] {0.3, 0.999}) {
      c.add("tied +-0 p=0.5 u=" + u, tied, t -> t.addSampled(1f, 0, 0.5, u));
    }
    return c;
  }

  /** GPT-Neo's vocab: the parallel top-p and draw at full size, ties resolved by id. */
  static ChoiceCases fullVocab(long seed) {
    int vocab = 50257;
    ChoiceCases c = new ChoiceCases("vocab 50257", vocab);
    Random random = new Random(seed);
    float[] gauss = logits("gauss", vocab, random);
    float[] discrete = logits("discrete", vocab, random);
    float[] flat = logits("flat", vocab, random);
    int step = 0;
    c.add("gauss greedy", gauss, t -> t.addGreedy());
    for (double p : new double[] {0.9, 1.0, 0.5}) {
      double u = Sampler.uniform(seed, step++);
      c.add("gauss k=0 p=" + p, gauss, t -> t.addSampled(1f, 0, p, u));
    }
    double u1 = Sampler.uniform(seed, step++);
    c.add("gauss T=0.8 k=3000 p=0.95", gauss, t -> t.addSampled(0.8f, 3000, 0.95, u1));
    double u2 = Sampler.uniform(seed, step++);
    c.add("gauss k=50", gauss, t -> t.addSampled(1f, 50, 1.0, u2));
    double u3 = Sampler.uniform(seed, step++);
    c.add("discrete k=0 p=0.9", discrete, t -> t.addSampled(1f, 0, 0.9, u3));
    double u4 = Sampler.uniform(seed, step++);
    c.add("discrete T=3 k=0 p=0.5", discrete, t -> t.addSampled(3f, 0, 0.5, u4));
    double u5 = Sampler.uniform(seed, step++);
    c.add("flat k=0 p=0.9", flat, t -> t.addSampled(1f, 0, 0.9, u5));
    double u6 = Sampler.uniform(seed, step++);
    c.add("flat k=0 p=1", flat, t -> t.addSampled(1f, 0, 1.0, u6));
    for (float minP : new float[] {1e-5f, 0.02f}) { // min_p with every token a candidate: the parallel path, then
      double u = Sampler.uniform(seed, step++); // the exact one
      c.add("gauss k=0 min_p=" + minP, gauss, t -> {
        t.addSampled(1f, 0, 1.0, u);
        t.filters(minP, 0f, 0f, 0f);
      });
    }
    double ue = Sampler.uniform(seed, step++); // epsilon and eta with every token a candidate: the parallel path
    c.add("gauss k=0 epsilon=1e-6", gauss, t -> {
      t.addSampled(1f, 0, 1.0, ue);
      t.filters(0f, 0f, 1e-6f, 0f);
    });
    double ua = Sampler.uniform(seed, step++);
    c.add("gauss T=0.9 k=0 eta=2e-4", gauss, t -> {
      t.addSampled(0.9f, 0, 1.0, ua);
      t.filters(0f, 0f, 0f, 2e-4f);
    });
    for (float mass : new float[] {0.95f, 0.3f}) { // typical_p's descent at full size, then the exact path
      double ut = Sampler.uniform(seed, step++);
      c.add("gauss k=0 typical=" + mass, gauss, t -> {
        t.addSampled(1f, 0, 1.0, ut);
        t.filters(0f, mass, 0f, 0f);
      });
    }
    double ud = Sampler.uniform(seed, step++);
    c.add("discrete k=0 typical=0.9", discrete, t -> {
      t.addSampled(1f, 0, 1.0, ud);
      t.filters(0f, 0.9f, 0f, 0f);
    });
    float[] sparse = new float[vocab]; // fewer than 100 finite logits: top_h's 100 take -inf ones, lowest ids first
    Arrays.fill(sparse, Float.NEGATIVE_INFINITY);
    for (int i = 0; i < 60; i++) {
      sparse[random.nextInt(vocab)] = (float) random.nextGaussian();
    }
    for (double topH : new double[] {0.7, 1.0}) {
      double uh = Sampler.uniform(seed, step++);
      c.add("sparse k=0 top_h=" + topH, sparse, t -> {
        t.addSampled(1f, 0, 1.0, uh);
        t.topH(topH);
      });
    }
    double uf = Sampler.uniform(seed, step++);
    c.add("flat top_h=0.6", flat, t -> {
      t.addSampled(1f, 0, 1.0, uf);
      t.topH(0.6);
    });
    double ub = Sampler.uniform(seed, step++);
    c.add("discrete k=0 p=0.98 min_p=1e-3 eta=1e-3", discrete, t -> {
      t.addSampled(1f, 0, 0.98, ub);
      t.filters(1e-3f, 0f, 0f, 1e-3f);
    });
    return c;
  }
}
