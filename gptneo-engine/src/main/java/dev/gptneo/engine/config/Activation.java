package dev.gptneo.engine.config;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The MLP activations the engine runs, named as in HF's ACT2FN: GPT-Neo's gelu_new and its alias.
 * Others (relu, the erf gelu, ...) are refused at load rather than run with the wrong function.
 */
public enum Activation {
  /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): GPT-Neo's own. */
  GELU_NEW("gelu_new"),
  /** Same tanh formula as gelu_new. */
  GELU_PYTORCH_TANH("gelu_pytorch_tanh");

  public final String hfName;

  Activation(String hfName) {
    this.hfName = hfName;
  }

  public boolean isTanhGelu() {
    return this == GELU_NEW || this == GELU_PYTORCH_TANH;
  }

  static Activation parse(String name) {
    for (Activation a : values()) {
      if (a.hfName.equals(name)) {
        return a;
      }
    }
    throw new IllegalArgumentException("activation_function '" + name + "' is not supported: the engine's kernels"
        + " run GPT-Neo's tanh gelu only (" + Arrays.stream(values()).map(a -> a.hfName)
        .collect(Collectors.joining(", ")) + "); use a checkpoint trained with one of those");
  }
}
