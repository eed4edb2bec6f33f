package dev.gptneo.engine.generate;

import dev.gptneo.engine.batching.Head;
import dev.gptneo.engine.batching.Job;
import java.util.Arrays;
import java.util.function.IntFunction;

/** Generates a completion for one prompt: processes the next-token logits and picks a token. */
public final class GenerateJob extends Job<GenerateJob.Output> {
  /** The generated ids and why generation stopped. */
  public static final class Output {
    public final int[] completionIds;
    public final FinishReason finishReason;

    Output(int[] completionIds, FinishReason finishReason) {
      this.completionIds = completionIds;
      this.finishReason = finishReason;
    }
  }

  /** Scratch shared by all jobs: they run on the one scheduler thread. */
  private static final class Scratch {
    final float[] logits;
    final float[] probs;
    final float[] select;
    final long[] keys;
    final boolean[] seen;

    Scratch(int vocab) {
      logits = new float[vocab];
      probs = new float[vocab];
      select = new float[vocab];
      keys = new long[vocab];
      seen = new boolean[vocab];
    }
  }

  private static final ThreadLocal<Scratch> SCRATCH = new ThreadLocal<>();

  private final GenerationParams params;
  private final int promptLength;
  private final int[] eosIds;
  private final StopStrings stopStrings;
  private final IntFunction<byte[]> tokenBytes; // null without a tokenizer
  private byte[] text = new byte[64];           // completion bytes, for stop strings
  private int textLength;
  private FinishReason finish;

  /**
   * @param capacity prompt plus the most tokens to generate (already capped at the model's
   *     max_position_embeddings)
   */
  public GenerateJob(int[] prompt, int capacity, GenerationParams params, int[] eosIds,
      IntFunction<byte[]> tokenBytes) {
    super(prompt, capacity);
    this.params = params;
    this.promptLength = prompt.length;
    this.eosIds = eosIds;
    this.stopStrings = new StopStrings(params.stopStrings);
    this.tokenBytes = tokenBytes;
    if (!stopStrings.isEmpty() && tokenBytes == null) {
      throw new IllegalArgumentException("stop strings need a tokenizer, and this model folder has none");
    }
  }

  @Override
  public Head head() {
    return Head.LM;
  }

  @Override
  public boolean wantsRow(int position) {
    return isLastKnown(position);
  }

  @Override
  public void accept(int position, float[] out, int off, int width) {
    Scratch s = SCRATCH.get();
    if (s == null || s.logits.length != width) {
      s = new Scratch(width);
      SCRATCH.set(s);
    }
    float[] logits = s.logits;
    System.arraycopy(out, off, logits, 0, width);
    int generated = length - promptLength;
    if (params.repetitionPenalty != 1.0) {
      LogitsProcessors.repetitionPenalty(logits, tokens, length, (float) params.repetitionPenalty, s.seen);
    }
    if (params.noRepeatNgramSize > 0) {
      LogitsProcessors.noRepeatNgram(logits, tokens, length, params.noRepeatNgramSize);
    }
    if (generated < params.minNewTokens) {
      LogitsProcessors.suppressEos(logits, eosIds);
    }
    int token;
    if (params.doSample) {
      LogitsProcessors.temperature(logits, (float) params.temperature);
      LogitsProcessors.topK(logits, params.topK, s.select);
      LogitsProcessors.topP(logits, params.topP, s.keys, s.probs);
      token = Sampler.sample(logits, s.probs, Sampler.uniform(params.seed, generated));
    } else {
      token = LogitsProcessors.argmax(logits, 0, width);
    }
    append(token);
    finish = finishReason(token, generated + 1);
  }

  private FinishReason finishReason(int token, int generated) {
    for (int e : eosIds) {
      if (e == token) {
        return FinishReason.EOS;
      }
    }
    for (int t : params.stopTokenIds) {
      if (t == token) {
        return FinishReason.STOP;
      }
    }
    if (!stopStrings.isEmpty()) {
      byte[] b = tokenBytes.apply(token);
      int from = textLength;
      if (textLength + b.length > text.length) {
        text = Arrays.copyOf(text, Math.max(2 * text.length, textLength + b.length));
      }
      System.arraycopy(b, 0, text, textLength, b.length);
      textLength += b.length;
      if (stopStrings.endsIn(text, textLength, from)) {
        return FinishReason.STOP;
      }
    }
    if (generated >= params.maxNewTokens || length == capacity()) {
      return FinishReason.LENGTH;
    }
    return null;
  }

  @Override
  public Output afterStep() {
    if (finish == null) {
      return null;
    }
    return new Output(Arrays.copyOfRange(tokens, promptLength, length), finish);
  }
}
