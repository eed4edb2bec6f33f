package dev.gptneo.spark.distribution;

import dev.gptneo.spark.GptNeoConf;
import java.util.Map;
import org.apache.spark.sql.internal.SQLConf;

/**
 * Names to model folders: {@code spark.gptneo.model} is the default, {@code spark.gptneo.models.NAME}
 * a named model. Folders may be any Hadoop FileSystem URI (file:, hdfs:, s3a:, ...) or a local path.
 */
public final class ModelRegistry {
  private final String defaultModel;
  private final Map<String, String> named;

  private ModelRegistry(String defaultModel, Map<String, String> named) {
    this.defaultModel = defaultModel;
    this.named = named;
  }

  public static ModelRegistry of(GptNeoConf conf) {
    return new ModelRegistry(conf.defaultModel, conf.models);
  }

  public static ModelRegistry fromConf(SQLConf conf) {
    return of(GptNeoConf.from(conf));
  }

  /** A registered name, or something that looks like a folder path or URI. */
  public boolean isKnown(String ref) {
    return named.containsKey(ref) || looksLikePath(ref);
  }

  /** The folder URI for a function's 'model' option (null: the default model). */
  public String resolve(String ref) {
    if (ref == null) {
      if (defaultModel == null) {
        throw new IllegalArgumentException("no model configured: set " + GptNeoConf.MODEL
            + " to a GPT-Neo folder (for example --conf " + GptNeoConf.MODEL
            + "=datasets-sample/models/gpt-neo-demo), or pass 'model' in the function's options");
      }
      return named.getOrDefault(defaultModel, defaultModel);
    }
    String uri = named.get(ref);
    if (uri != null) {
      return uri;
    }
    if (looksLikePath(ref)) {
      return ref;
    }
    throw new IllegalArgumentException("unknown model '" + ref + "'; registered: " + named.keySet()
        + ". Register it with " + GptNeoConf.MODELS_PREFIX + ref + "=<folder or URI>");
  }

  private static boolean looksLikePath(String ref) {
    return ref.contains("/") || ref.contains("\\") || ref.contains(":");
  }
}
