package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.TokenChoice;
import dev.gptneo.engine.ops.TokenTargets;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the device computes from LM-head logits so that they need not cross to the host
 * (sampling.cu, ranking.cu): one chosen token per row, with its log-probability where asked (choose_tokens),
 * beams' best continuations (beam_candidates), and the log-probabilities of listed tokens
 * (token_logprobs). Each is one upload of a table, one launch and one small download. Its buffers
 * are {@link CudaOps}' scratch, freed with it.
 */
final class HeadReductions {
  private final Gpu gpu;
  private final CudaKernels kernels;
  private final ChoiceTable choiceTable = new ChoiceTable();
  private final Scratch choiceDevice;  // the uploaded ChoiceTable: (rows) ChoiceRow, then the ids
  private final Scratch chosenIds;     // (rows) ints, padded to 8 bytes, then (rows) doubles; or
                                       // beam_candidates' (rows, stride) floats, then as many ints
  private final Scratch choiceWork;    // (rows, cols) floats for choose_tokens' larger candidate sets
  private final Scratch targetTable;   // (rows + 1) ints: each row's first target, then (targets) ids
  private final Scratch targetOut;     // (targets) doubles
  private ByteBuffer targetHost = ByteBuffer.allocateDirect(4096).order(ByteOrder.LITTLE_ENDIAN);

  HeadReductions(CudaOps owner, Gpu gpu, CudaKernels kernels) {
    this.gpu = gpu;
    this.kernels = kernels;
    this.choiceDevice = new Scratch(owner);
    this.chosenIds = new Scratch(owner);
    this.choiceWork = new Scratch(owner);
    this.targetTable = new Scratch(owner);
    this.targetOut = new Scratch(owner);
  }

  /** See Ops.chooseTokens: the ids (and logprobs) of choice's rows, from logits (at least rows, vocab). */
  void chooseTokens(CudaActivations l, TokenChoice choice, int[] dst, double[] logprobs) {
    int rows = choice.rows();
    checkShape("chooseTokens", l, rows, choice.vocab());
    if (rows == 0) {
      return;
    }
    long table = uploadChoice(choice);
    long logprobsAt = (4L * rows + 7) & ~7L; // bytes from out
    long out = chosenIds.atLeast(logprobsAt + 8L * rows);
    long work = choiceWork.atLeast(4L * l.rows * l.cols);
    kernels.chooseTokens(l.fp32("choose_tokens"), rows, l.cols, table, table + ChoiceTable.idsOffset(choice), work,
        out, out + logprobsAt);
    l.wrote(0);
    boolean withLogprobs = choice.anyLogprob();
    ByteBuffer got = gpu.download(out, withLogprobs ? logprobsAt + 8L * rows : 4L * rows);
    got.asIntBuffer().get(dst, 0, rows);
    for (int r = 0; r < rows; r++) {
      logprobs[r] = withLogprobs && choice.logprob(r) ? got.getDouble((int) (logprobsAt + 8L * r)) : Double.NaN;
    }
  }

  /** See Ops.rankTokens: each ranked row's continuations, from logits (at least rows, vocab). */
  void rankTokens(CudaActivations l, TokenChoice choice, float[] scores, int[] ids) {
    int rows = choice.rows();
    checkShape("rankTokens", l, rows, choice.vocab());
    if (rows == 0) {
      return;
    }
    int stride = choice.maxTopK();
    long table = uploadChoice(choice);
    long cells = (long) rows * stride;
    long out = chosenIds.atLeast(8L * cells);
    kernels.beamCandidates(l.fp32("beam_candidates"), rows, l.cols, table, table + ChoiceTable.idsOffset(choice),
        stride, out, out + 4L * cells);
    l.wrote(0);
    ByteBuffer got = gpu.download(out, 8L * cells);
    got.asFloatBuffer().get(scores, 0, (int) cells);
    got.position((int) (4L * cells));
    got.slice().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(ids, 0, (int) cells);
  }

  /** See Ops.tokenLogprobs: dst[i] for each target of targets' rows, from logits (at least rows, vocab). */
  void tokenLogprobs(CudaActivations l, TokenTargets targets, double[] dst) {
    int rows = targets.rows();
    checkShape("tokenLogprobs", l, rows, targets.vocab());
    int count = targets.count();
    if (rows == 0 || count == 0) {
      return;
    }
    int ints = rows + 1 + count;
    if (targetHost.capacity() < 4 * ints) {
      targetHost = ByteBuffer.allocateDirect(Math.max(4 * ints, 2 * targetHost.capacity()))
          .order(ByteOrder.LITTLE_ENDIAN);
    }
    ByteBuffer b = targetHost;
    b.clear();
    for (int r = 0; r <= rows; r++) {
      b.putInt(r < rows ? targets.from(r) : count);
    }
    for (int i = 0; i < count; i++) {
      b.putInt(targets.id(i));
    }
    b.flip();
    long table = targetTable.atLeast(4L * ints);
    long out = targetOut.atLeast(8L * count);
    gpu.upload(table, b);
    kernels.tokenLogprobs(l.fp32("token_logprobs"), rows, l.cols, table, table + 4L * (rows + 1), out);
    gpu.download(out, 8L * count).asDoubleBuffer().get(dst, 0, count);
  }

  /** The choice's table on the device (queued, in stream order); its ids start at ChoiceTable.idsOffset. */
  private long uploadChoice(TokenChoice choice) {
    long table = choiceDevice.atLeast(ChoiceTable.bytes(choice) + 4); // + 4: the ids pointer stays inside when there are none
    gpu.upload(table, choiceTable.encode(choice));
    return table;
  }

  private static void checkShape(String what, CudaActivations l, int rows, int vocab) {
    if (rows > l.rows || l.cols != vocab) {
      throw new IllegalArgumentException(what + ": " + rows + " rows of " + vocab + " tokens from logits (" + l.rows
          + ", " + l.cols + ")");
    }
  }
}
