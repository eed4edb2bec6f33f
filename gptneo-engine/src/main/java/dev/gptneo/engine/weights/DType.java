package dev.gptneo.engine.weights;

/** Safetensors element types. Model weights may be F32, F16 or BF16; the rest appear in golden files. */
public enum DType {
  F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

  public final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  public boolean isFloatWeight() {
    return this == F32 || this == F16 || this == BF16;
  }

  /** Parses a safetensors dtype string; null when unknown. */
  static DType fromSafetensors(String s) {
    for (DType d : values()) {
      if (d.name().equals(s)) {
        return d;
      }
    }
    return null;
  }
}
