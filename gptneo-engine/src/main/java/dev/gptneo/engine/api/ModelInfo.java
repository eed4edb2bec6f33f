package dev.gptneo.engine.api;

import dev.gptneo.engine.config.GptNeoConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What a loaded model is and can do. */
public final class ModelInfo {
  public final Path path;
  public final GptNeoConfig config;
  public final String weightDtype;          // F32, F16, BF16 (or "mixed")
  public final long parameters;
  public final long weightBytes;
  public final int kvCacheElementBytes;     // bytes of one cached key or value element: 4 (CPU), 2 (16-bit GPU cache)
  public final boolean hasTokenizer;
  public final boolean lmHeadTied;
  public final List<String> sequenceLabels; // null without a sequence-classification head
  public final List<String> tokenLabels;    // null without a token-classification head
  public final boolean hasQaHead;
  public final String backend;
  public final int threads;
  public final Map<String, String> tasks;   // task -> why it is (un)available

  ModelInfo(Path path, GptNeoConfig config, String weightDtype, long parameters, long weightBytes,
      int kvCacheElementBytes, boolean hasTokenizer, boolean lmHeadTied, List<String> sequenceLabels, List<String> tokenLabels,
      boolean hasQaHead, String backend, int threads, Map<String, String> tasks) {
    this.path = path;
    this.config = config;
    this.weightDtype = weightDtype;
    this.parameters = parameters;
    this.weightBytes = weightBytes;
    this.kvCacheElementBytes = kvCacheElementBytes;
    this.hasTokenizer = hasTokenizer;
    this.lmHeadTied = lmHeadTied;
    this.sequenceLabels = sequenceLabels;
    this.tokenLabels = tokenLabels;
    this.hasQaHead = hasQaHead;
    this.backend = backend;
    this.threads = threads;
    this.tasks = tasks;
  }
}
