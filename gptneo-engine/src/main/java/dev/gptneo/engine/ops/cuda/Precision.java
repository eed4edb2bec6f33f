package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.weights.DType;
import java.util.Locale;

/**
 * The element type of the GPU's weights, KV cache and GEMM inputs. GEMMs always accumulate in
 * fp32 and write fp32 activations; F16 and BF16 run on the tensor cores.
 */
enum Precision {
  F32(4, "f32"),
  F16(2, "f16"),
  BF16(2, "bf16");

  final int bytes;
  /** The kernels' name suffix for this type, e.g. {@code layernorm_bf16}. */
  final String suffix;

  Precision(int bytes, String suffix) {
    this.bytes = bytes;
    this.suffix = suffix;
  }

  boolean isHalf() {
    return this != F32;
  }

  /** The checkpoint's 16-bit type is kept; fp32 checkpoints run in bf16 (the same range as fp32). */
  static Precision forCheckpoint(DType dtype) {
    switch (dtype) {
      case F16:
        return F16;
      case BF16:
      case F32:
        return BF16;
      default:
        throw new IllegalArgumentException("weights of dtype " + dtype + " cannot run on the GPU");
    }
  }

  /** Parses auto|f32|f16|bf16; null for auto (decided by the checkpoint). */
  static Precision parse(String s) {
    String v = s == null ? "auto" : s.trim().toLowerCase(Locale.ROOT);
    switch (v) {
      case "auto":
      case "":
        return null;
      case "f32":
      case "fp32":
        return F32;
      case "f16":
      case "fp16":
        return F16;
      case "bf16":
        return BF16;
      default:
        throw new IllegalArgumentException("CUDA precision must be auto, f32, f16 or bf16; got '" + s + "'");
    }
  }

  boolean matches(DType dtype) {
    return this == F32 ? dtype == DType.F32 : this == F16 ? dtype == DType.F16 : dtype == DType.BF16;
  }
}
