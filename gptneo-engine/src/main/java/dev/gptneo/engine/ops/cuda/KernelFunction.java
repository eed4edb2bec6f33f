package dev.gptneo.engine.ops.cuda;

import java.util.Arrays;

/** A kernel loaded on the device: its name, the device's handle, and its parameters from the PTX. */
final class KernelFunction {
  /** How a parameter is passed: an 8-byte pointer, a 4-byte int or a 4-byte float. */
  enum Param { PTR, I32, F32 }

  final String name;
  final int handle;       // the Gpu's index of the loaded function
  final Param[] params;
  final boolean waitsFirst; // waits for the previous kernel before touching memory: may launch early (gptneo.cuda.pdl)
  int sharedLimit = 48 * 1024; // dynamic shared memory allowed so far (raised on demand)

  KernelFunction(String name, int handle, Param[] params) {
    this(name, handle, params, false);
  }

  KernelFunction(String name, int handle, Param[] params, boolean waitsFirst) {
    this.name = name;
    this.handle = handle;
    this.params = params;
    this.waitsFirst = waitsFirst;
  }

  /**
   * Encodes arguments as 8-byte slots, checking them against the parameters: Long for a pointer,
   * Integer for an int, Float for a float. A mismatch would crash the kernel, so it fails here.
   */
  long[] encode(Object... args) {
    if (args.length != params.length) {
      throw new IllegalArgumentException(name + " takes " + params.length + " arguments " + Arrays.toString(params)
          + ", got " + args.length);
    }
    long[] slots = new long[args.length];
    for (int i = 0; i < args.length; i++) {
      Object a = args[i];
      Param p = params[i];
      if (p == Param.PTR && a instanceof Long) {
        slots[i] = (Long) a;
      } else if (p == Param.I32 && a instanceof Integer) {
        slots[i] = (Integer) a;
      } else if (p == Param.F32 && a instanceof Float) {
        slots[i] = Float.floatToRawIntBits((Float) a) & 0xffffffffL;
      } else {
        throw new IllegalArgumentException(name + " argument " + i + " must be " + p + ", got "
            + (a == null ? "null" : a.getClass().getSimpleName() + " " + a));
      }
    }
    return slots;
  }

  @Override
  public String toString() {
    return name + Arrays.toString(params);
  }
}
