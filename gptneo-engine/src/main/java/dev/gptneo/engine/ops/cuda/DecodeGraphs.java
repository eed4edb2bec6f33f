package dev.gptneo.engine.ops.cuda;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Recordings (CUDA graphs) of decode steps, by shape: the number of sequences, the bound on their
 * keys that sizes decode attention's shared memory, and the generation of the buffers the kernels
 * were given (a moved buffer makes every recording stale). A shape runs eagerly the first time, so
 * lazy allocations happen outside a recording; it is recorded the second time and replayed from
 * then on. A failed recording turns recording off for good; the step then runs eagerly.
 */
final class DecodeGraphs {
  private static final int MAX_RECORDINGS = 64;

  private final Gpu gpu;
  private final Map<Long, Long> recordings = new HashMap<>(); // shape -> recording handle
  private final Set<Long> seen = new HashSet<>();
  private int generation = Integer.MIN_VALUE;
  private String failure;

  DecodeGraphs(Gpu gpu) {
    this.gpu = gpu;
  }

  /** Runs body for this shape: eagerly, recorded then replayed, or replayed. False when recording just failed. */
  boolean run(int sequences, int keyBound, int bufferGeneration, Runnable body) {
    if (failure != null) {
      body.run();
      return true;
    }
    if (bufferGeneration != generation) {
      discardAll();
      generation = bufferGeneration;
    }
    long shape = (long) sequences << 32 | keyBound;
    Long recording = recordings.get(shape);
    if (recording == null && seen.add(shape)) {
      body.run();
      return true;
    }
    if (recording == null) {
      if (recordings.size() >= MAX_RECORDINGS) {
        discardAll();
      }
      try {
        gpu.beginRecording();
        body.run();
        recording = gpu.endRecording();
      } catch (RuntimeException e) {
        gpu.abortRecording();
        failure = e.toString();
        body.run();
        return false;
      }
      recordings.put(shape, recording);
    }
    gpu.replay(recording);
    return true;
  }

  String failure() {
    return failure;
  }

  private void discardAll() {
    recordings.values().forEach(gpu::discard);
    recordings.clear();
    seen.clear();
  }

  void close() {
    discardAll();
  }
}
