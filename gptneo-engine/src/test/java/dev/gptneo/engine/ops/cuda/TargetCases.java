package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.generate.LogitsProcessors;
import dev.gptneo.engine.ops.TokenTargets;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * Rows of logits with the tokens each row scores and the host's log-probabilities for them
 * (LogitsProcessors.logProb): what token_logprobs must reproduce within
 * ChoiceCases.logprobTolerance, on the emulator (KernelEmulationTest, through a file) and on a GPU
 * (CudaOpsVsCpuTest). ChoiceCases' kinds of logits, an all -inf row, rows of one, several, repeated
 * and no targets.
 */
final class TargetCases {
  final int vocab;
  final TokenTargets targets;
  private float[] logits = new float[0];

  private TargetCases(int vocab) {
    this.vocab = vocab;
    this.targets = new TokenTargets(vocab);
  }

  int rows() {
    return targets.rows();
  }

  float[] logits() {
    return Arrays.copyOf(logits, rows() * vocab);
  }

  /** The host's log-probabilities, one per target. */
  double[] expected() {
    double[] want = new double[targets.count()];
    for (int r = 0; r < rows(); r++) {
      for (int i = targets.from(r); i < targets.to(r); i++) {
        want[i] = LogitsProcessors.logProb(logits, r * vocab, vocab, targets.id(i));
      }
    }
    return want;
  }

  private void add(float[] row, int... ids) {
    int r = targets.addRow();
    if ((r + 1) * vocab > logits.length) {
      logits = Arrays.copyOf(logits, Math.max(2 * logits.length, (r + 1) * vocab));
    }
    System.arraycopy(row, 0, logits, r * vocab, vocab);
    for (int id : ids) {
      targets.add(id);
    }
  }

  static TargetCases of(int vocab, long seed) {
    TargetCases c = new TargetCases(vocab);
    Random random = new Random(seed);
    for (String kind : ChoiceCases.KINDS) {
      float[] row = ChoiceCases.logits(kind, vocab, random);
      int best = LogitsProcessors.argmax(row, 0, vocab);
      c.add(row, random.nextInt(vocab));
      c.add(row, best, 0, vocab - 1, best, random.nextInt(vocab)); // the max, the ends, a repeat
      c.add(row); // no targets
    }
    float[] banned = new float[vocab];
    Arrays.fill(banned, Float.NEGATIVE_INFINITY);
    c.add(banned, 3); // NaN on both sides
    return c;
  }

  /** Writes rows, cols, targets, logits, the row starts (rows + 1), the ids, the host's log-probabilities. */
  void write(Path file) {
    int rows = rows();
    int count = targets.count();
    ByteBuffer b = ByteBuffer.allocate(12 + 4 * rows * vocab + 4 * (rows + 1) + 4 * count + 8 * count)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(rows).putInt(vocab).putInt(count);
    for (int i = 0; i < rows * vocab; i++) {
      b.putFloat(logits[i]);
    }
    for (int r = 0; r <= rows; r++) {
      b.putInt(r < rows ? targets.from(r) : count);
    }
    for (int i = 0; i < count; i++) {
      b.putInt(targets.id(i));
    }
    for (double lp : expected()) {
      b.putDouble(lp);
    }
    ChoiceCases.writeFile(file, b);
  }
}
