package dev.gptneo.engine.batching;

import dev.gptneo.engine.ops.SequenceCache;
import java.util.concurrent.CompletableFuture;

/**
 * One sequence in the scheduler: its tokens go through the model in chunks (prompt) and then one
 * at a time (generation); after each step it receives the head outputs of the rows it wants.
 *
 * @param <R> what the job produces
 */
public abstract class Job<R> {
  protected int[] tokens;   // (capacity) tokens known so far; generation appends
  protected int length;     // valid entries of tokens
  int fed;                  // tokens already run through the model (== cache length)
  SequenceCache cache;
  SequenceCache start;      // copied into the cache at admission: tokens already run (a shared prompt start)
  final boolean ownsCache;  // the scheduler allocates the cache at admission and frees it at the end
  final CompletableFuture<R> future = new CompletableFuture<>();

  protected Job(int[] prompt, int capacity) {
    assert prompt.length > 0 && capacity >= prompt.length;
    tokens = new int[capacity];
    System.arraycopy(prompt, 0, tokens, 0, prompt.length);
    length = prompt.length;
    ownsCache = true;
  }

  /**
   * Continues {@code sequence}, whose first {@code cache.length()} tokens are already in the
   * cache: only the rest goes through the model. The caller owns the cache (beam search).
   */
  protected Job(SequenceCache cache, int[] sequence) {
    assert cache.length() < sequence.length && sequence.length <= cache.capacity();
    tokens = sequence;
    length = sequence.length;
    fed = cache.length();
    this.cache = cache;
    ownsCache = false;
  }

  /**
   * Starts from a copy of {@code start}, which holds this sequence's first start.length() tokens
   * (the start it shares with other rows): only the rest goes through the model. Before submitting;
   * the caller keeps {@code start} unchanged until the job has begun (or for its whole life).
   */
  public final void startFrom(SequenceCache start) {
    if (!ownsCache || start.length() >= length || fed > 0) {
      throw new IllegalStateException("a shared start must leave this job a token to run");
    }
    this.start = start;
  }

  /** Most tokens this sequence will hold: the KV cache size. */
  public final int capacity() {
    return tokens.length;
  }

  public final CompletableFuture<R> future() {
    return future;
  }

  /** Tokens not yet run through the model; 0 once a prompt-only job has seen all of its rows. */
  protected final int pendingTokens() {
    return length - fed;
  }

  public abstract Head head();

  /** Whether the head output at {@code position} is wanted; called for each row of a step. */
  public abstract boolean wantsRow(int position);

  /** Head output for the token at {@code position}: out[off..off+width). */
  public abstract void accept(int position, float[] out, int off, int width);

  /**
   * Called after each step this job took part in, once its rows were delivered. Returns the
   * result when the job is finished, else null (it may have appended tokens to feed next).
   */
  public abstract R afterStep();

  /** Appends a token to feed in the next step (generation). */
  protected final void append(int token) {
    tokens[length++] = token;
  }

  /** True when every known token has been fed: the last row of this step is the newest position. */
  protected final boolean isLastKnown(int position) {
    return position == length - 1;
  }
}
