package dev.gptneo.engine.ops;

/**
 * The KV cache of one sequence, for all layers. Global layers keep every position; local layers
 * keep only the last {@code window_size} (a ring buffer). Owned by a backend.
 */
public interface SequenceCache extends AutoCloseable {
  /** Tokens written so far (the next token's position). */
  int length();

  /** Most tokens this sequence may hold. */
  int capacity();

  @Override
  void close();
}
