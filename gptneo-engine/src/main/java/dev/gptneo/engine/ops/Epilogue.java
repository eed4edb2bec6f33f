package dev.gptneo.engine.ops;

/** What a linear layer does with {@code x W^T + b} before it is stored: fused, so no extra pass. */
public enum Epilogue {
  /** out = x W^T + b */
  STORE,
  /** out = gelu_new(x W^T + b): the MLP's first projection. */
  GELU_NEW,
  /** out += x W^T + b: the residual add after attention and after the MLP. */
  ADD
}
