package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.generate.BeamRow;
import dev.gptneo.engine.generate.HostChoice;
import dev.gptneo.engine.generate.LogitsProcessors;
import dev.gptneo.engine.ops.TokenChoice;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Rows of logits with a ranked {@link TokenChoice} row each (a running beam: continuations kept,
 * beam score, penalty, bans, some renormalized) and the host's continuations for it ({@link HostChoice#rank}, the
 * search's own ranking): what beam_candidates must reproduce, on the emulator (KernelEmulationTest,
 * through a file) and on a GPU (CudaOpsVsCpuTest). ChoiceCases' kinds of logits, k from 1 to past
 * the finite logits of a row, scores from 0 to far below, and sequence biases.
 */
final class BeamCases {
  final int vocab;
  final TokenChoice choice;
  private final HostChoice host;
  private float[] logits = new float[0];

  private BeamCases(int vocab) {
    this.vocab = vocab;
    this.choice = new TokenChoice(vocab, 8);
    this.host = new HostChoice(vocab);
  }

  int rows() {
    return choice.rows();
  }

  float[] logits() {
    return Arrays.copyOf(logits, rows() * vocab);
  }

  /** The host's continuations of row r. */
  BeamRow expected(int r) {
    return host.rank(choice, r, logits, r * vocab);
  }

  /**
   * How far a device score may be from the host's: the two log(sum)s, rounded to float, may differ
   * by one ulp of log(vocab) at most (the sums differ by about vocab * 2^-53), and each of the
   * subtraction, the penalty and the score's add rounds once more, scaled by the penalty: T. A row
   * renormalized after its edits takes its values, each within T, through a second log-softmax: the
   * value and the max may each be off by T, the second log(sum), an average of values less the max,
   * by 2T plus one ulp of log(vocab) (its own sum's order), and its two subtractions round again.
   */
  static float scoreTolerance(int vocab, float penalty, boolean renormalized, float host) {
    float ulpLog = Math.ulp((float) Math.log(vocab));
    float t = (Math.max(1f, penalty) + 1) * (ulpLog + 2 * Math.ulp(host));
    return renormalized ? 4 * t + ulpLog + 2 * Math.ulp(host) : t;
  }

  /**
   * Where a device's continuations (scores and ids, (rows, maxTopK)) are not the host's: a score
   * past {@link #scoreTolerance}, or an id the host has at another place only with a score that far
   * away (a nearer one is a near tie, which the sums' orders may swap), as the emulator's check_beams.
   */
  List<String> differences(float[] scores, int[] ids) {
    List<String> wrong = new ArrayList<>();
    int stride = choice.maxTopK();
    for (int r = 0; r < rows(); r++) {
      BeamRow want = expected(r);
      int k = choice.topK(r);
      for (int j = 0; j < k; j++) {
        float host = want.scores()[j];
        float tol = scoreTolerance(vocab, choice.penalty(r), choice.renormalize(r), host);
        float got = scores[r * stride + j];
        boolean scoreOk = Float.compare(got, host) == 0 || Math.abs(got - host) <= tol;
        boolean idOk = ids[r * stride + j] == want.ids()[j];
        for (int i = 0; i < k && !idOk; i++) {
          idOk = want.ids()[i] == ids[r * stride + j] && Math.abs(want.scores()[i] - host) <= 2 * tol;
        }
        idOk = idOk || j == k - 1 && scoreOk;
        if (!scoreOk || !idOk) {
          wrong.add("row " + r + " place " + j + ": device " + ids[r * stride + j] + " (" + got + "), host "
              + want.ids()[j] + " (" + host + ")");
        }
      }
    }
    return wrong;
  }

  private void add(float[] row, int k, float score, Random random, boolean edits) {
    int r = rows();
    if ((r + 1) * vocab > logits.length) {
      logits = Arrays.copyOf(logits, Math.max(2 * logits.length, (r + 1) * vocab));
    }
    System.arraycopy(row, 0, logits, r * vocab, vocab);
    choice.addRanked(k, score);
    if (edits) {
      int[] seen = random.ints(0, vocab).distinct().limit(12).toArray();
      if (r % 3 != 2) { // a third without biases: the penalty then reads the log-softmax's writes directly
        choice.bias(seen[0], 3.25f); // biased before it is penalized
        choice.bias(random.nextInt(vocab), -2f);
      }
      choice.penalize(r % 2 == 0 ? 1.3f : 0.8f, seen, seen.length);
      int best = LogitsProcessors.argmax(row, 0, vocab);
      choice.ban(best); // the best one banned: the ranking starts below it
      choice.ban(random.nextInt(vocab));
    }
    if (r % 4 >= 2) { // half the edited rows and half the others: the bans' mass goes back to the rest
      choice.renormalize();
    }
  }

  static BeamCases of(int vocab, long seed) {
    BeamCases c = new BeamCases(vocab);
    Random random = new Random(seed);
    int[] ks = {1, 2, 8, 20};
    float[] scores = {0f, -3.7f, -41.25f};
    int n = 0;
    for (String kind : ChoiceCases.KINDS) {
      for (int k : ks) {
        float[] row = ChoiceCases.logits(kind, vocab, random);
        c.add(row, k, scores[n % scores.length], random, n % 2 == 1);
        n++;
      }
    }
    float[] few = new float[vocab]; // three finite logits for eight places: -inf fills in id order
    Arrays.fill(few, Float.NEGATIVE_INFINITY);
    few[vocab / 2] = 1f;
    few[7] = 1f;
    few[vocab - 1] = -2f;
    c.add(few, 8, -1f, random, false);
    return c;
  }

  /**
   * Writes rows, cols, stride, table bytes, ids offset, the logits, the ChoiceTable, then the host's
   * scores and ids, (rows, stride) each (unused places 0 and -1).
   */
  void write(Path file) {
    ByteBuffer table = new ChoiceTable().encode(choice);
    int rows = rows();
    int stride = choice.maxTopK();
    ByteBuffer b = ByteBuffer.allocate(20 + 4 * rows * vocab + table.remaining() + 8 * rows * stride)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(rows).putInt(vocab).putInt(stride).putInt(table.remaining()).putInt((int) ChoiceTable.idsOffset(choice));
    for (int i = 0; i < rows * vocab; i++) {
      b.putFloat(logits[i]);
    }
    b.put(table);
    BeamRow[] want = new BeamRow[rows];
    for (int r = 0; r < rows; r++) {
      want[r] = expected(r);
    }
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < stride; j++) {
        b.putFloat(j < choice.topK(r) ? want[r].scores()[j] : 0f);
      }
    }
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < stride; j++) {
        b.putInt(j < choice.topK(r) ? want[r].ids()[j] : -1);
      }
    }
    ChoiceCases.writeFile(file, b);
  }
}
