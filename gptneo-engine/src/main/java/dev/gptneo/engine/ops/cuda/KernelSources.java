package dev.gptneo.engine.ops.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** The CUDA C sources of the kernels, kept as resources next to this class. */
final class KernelSources {
  /** Compiled one NVRTC program each. */
  static final List<String> FILES = List.of("elementwise.cu", "attention_prefill.cu", "attention_prefill_mma.cu",
      "attention_decode.cu", "sampling.cu", "ranking.cu", "gemm_rows.cu");
  /** Included by the files (common.cuh by every one), handed to NVRTC by name. */
  static final List<String> HEADERS = List.of("common.cuh", "choice.cuh", "candidates.cuh");

  private KernelSources() {}

  static String read(String name) {
    try (InputStream in = KernelSources.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("kernel source " + name + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Map<String, String> headers() {
    Map<String, String> headers = new java.util.TreeMap<>();
    for (String h : HEADERS) {
      headers.put(h, read(h));
    }
    return headers;
  }
}
