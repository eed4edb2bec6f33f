package dev.gptneo.spark;

import dev.gptneo.engine.api.EngineOptions;
import java.io.Serializable;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.network.util.JavaUtils;

/**
 * Every {@code spark.gptneo.*} setting, read in one place into an immutable snapshot. The driver
 * takes the snapshot when it plans a query, so session settings (SET / spark.conf.set) apply to
 * that query and travel to the executors with it.
 */
public final class GptNeoConf implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final String PREFIX = "spark.gptneo.";
  public static final String MODEL = PREFIX + "model";
  public static final String MODELS_PREFIX = PREFIX + "models.";
  public static final String DISTRIBUTION = PREFIX + "distribution";
  public static final String BROADCAST_CHUNK = PREFIX + "broadcast.chunkSize";
  public static final String BATCH_ROWS = PREFIX + "batch.rows";
  public static final String BATCH_TOKENS = PREFIX + "batch.tokens";
  public static final String BATCHES_IN_FLIGHT = PREFIX + "batch.inFlight";
  public static final String THREADS = PREFIX + "threads";
  public static final String DEVICE = PREFIX + "device";
  public static final String KERNELS = PREFIX + "kernels";
  public static final String WEIGHTS = PREFIX + "weights";
  public static final String ENGINE_BATCH_TOKENS = PREFIX + "engine.maxBatchTokens";
  public static final String ENGINE_BATCH_SEQUENCES = PREFIX + "engine.maxBatchSequences";
  public static final String ENGINE_KV_CACHE = PREFIX + "engine.kvCacheSize";
  public static final String ENGINE_KV_CACHE_FRACTION = PREFIX + "engine.kvCacheFraction";
  public static final String LOCAL_DIR = PREFIX + "localDir";
  public static final String VERIFY_PATH = PREFIX + "path.verifyHash";
  public static final String PROGRESS_INTERVAL = PREFIX + "progress.interval";
  public static final String HUB_CACHE = PREFIX + "hubCache";

  /** How executors get a model's files. */
  public enum Distribution {
    /** The driver reads the files once and ships them in chunks through Spark broadcasts. */
    BROADCAST,
    /** Each executor reads (or maps) the folder itself; every executor must see the path. */
    PATH,
    /** PATH for URIs every node can read (hdfs:, s3a:, ...) and for local masters; else BROADCAST. */
    AUTO
  }

  public final String defaultModel;          // null when unset
  public final Map<String, String> models;   // name -> folder URI
  public final Distribution distribution;
  public final long broadcastChunkBytes;
  public final int batchRows;
  public final int batchTokens;
  public final int batchesInFlight;
  public final int engineThreads;            // 0: the executor's available processors
  public final String device;
  public final String kernels;
  public final String weights;               // CPU: auto, packed (on the heap) or mapped (read from the files)
  public final int engineMaxBatchTokens;     // 0: the engine's default
  public final int engineMaxBatchSequences;  // 0: the engine's default
  public final long engineKvCacheBytes;      // 0: the engine's default
  public final double engineKvCacheFraction; // GPU: share of free device memory for the KV cache; 0: default
  public final String localDir;              // null: the executor's Spark work folder
  public final boolean verifyPath;
  public final long progressIntervalMs;
  public final String hubCache;              // null: HF's own rules (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/...)
  public final boolean localMaster;

  private GptNeoConf(Function<String, String> conf, Map<String, String> all) {
    defaultModel = blankToNull(conf.apply(MODEL));
    Map<String, String> named = new TreeMap<>();
    all.forEach((k, v) -> {
      if (k.startsWith(MODELS_PREFIX) && k.length() > MODELS_PREFIX.length()) {
        named.put(k.substring(MODELS_PREFIX.length()), v.trim());
      }
    });
    models = Collections.unmodifiableMap(named);
    distribution = distribution(conf.apply(DISTRIBUTION));
    broadcastChunkBytes = bytes(conf.apply(BROADCAST_CHUNK), 64L << 20, BROADCAST_CHUNK, 1, 1L << 30);
    batchRows = integer(conf.apply(BATCH_ROWS), 128, BATCH_ROWS, 1);
    batchTokens = integer(conf.apply(BATCH_TOKENS), 32768, BATCH_TOKENS, 1);
    batchesInFlight = integer(conf.apply(BATCHES_IN_FLIGHT), 2, BATCHES_IN_FLIGHT, 1);
    String master = conf.apply("spark.master");
    localMaster = master == null || master.startsWith("local");
    engineThreads = threads(conf, master);
    device = engineSetting(conf, DEVICE, (b, v) -> b.device(v).build());
    kernels = engineSetting(conf, KERNELS, EngineOptions.Builder::kernels);
    weights = engineSetting(conf, WEIGHTS, EngineOptions.Builder::weights);
    engineMaxBatchTokens = integer(conf.apply(ENGINE_BATCH_TOKENS), 0, ENGINE_BATCH_TOKENS, 0);
    engineMaxBatchSequences = integer(conf.apply(ENGINE_BATCH_SEQUENCES), 0, ENGINE_BATCH_SEQUENCES, 0);
    engineKvCacheBytes = bytes(conf.apply(ENGINE_KV_CACHE), 0, ENGINE_KV_CACHE, 0, Long.MAX_VALUE);
    engineKvCacheFraction = fraction(conf.apply(ENGINE_KV_CACHE_FRACTION), ENGINE_KV_CACHE_FRACTION);
    localDir = blankToNull(conf.apply(LOCAL_DIR));
    verifyPath = Boolean.parseBoolean(String.valueOf(conf.apply(VERIFY_PATH)));
    progressIntervalMs = JavaUtils.timeStringAsMs(orDefault(conf.apply(PROGRESS_INTERVAL), "5s"));
    hubCache = blankToNull(conf.apply(HUB_CACHE));
  }

  /** The value of key (null when unset), checked now by the engine's own option parser; errors name the key. */
  private static String engineSetting(Function<String, String> conf, String key,
      java.util.function.BiConsumer<EngineOptions.Builder, String> apply) {
    String value = blankToNull(conf.apply(key));
    if (value != null) {
      try {
        apply.accept(EngineOptions.builder(), value);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(key + ": " + e.getMessage());
      }
    }
    return value;
  }

  /** Reads a session's settings (SQLConf holds the SparkConf entries too). */
  public static GptNeoConf from(org.apache.spark.sql.internal.SQLConf sqlConf) {
    Map<String, String> all = scala.jdk.javaapi.CollectionConverters.asJava(sqlConf.getAllConfs());
    return new GptNeoConf(key -> all.get(key), all);
  }

  public static GptNeoConf from(Map<String, String> all) {
    return new GptNeoConf(all::get, all);
  }

  /** The engine options for a model loaded under these settings. */
  public EngineOptions engineOptions() {
    EngineOptions.Builder b = EngineOptions.builder()
        .threads(engineThreads > 0 ? engineThreads : Runtime.getRuntime().availableProcessors());
    if (device != null) {
      b.device(device);
    }
    if (kernels != null) {
      b.kernels(kernels);
    }
    if (weights != null) {
      b.weights(weights);
    }
    if (engineMaxBatchTokens > 0) {
      b.maxBatchTokens(engineMaxBatchTokens);
    }
    if (engineMaxBatchSequences > 0) {
      b.maxBatchSequences(engineMaxBatchSequences);
    }
    if (engineKvCacheBytes > 0) {
      b.kvCacheBytes(engineKvCacheBytes);
    }
    if (engineKvCacheFraction > 0) {
      b.kvCacheFraction(engineKvCacheFraction);
    }
    return b.build();
  }

  private static final Pattern LOCAL_N = Pattern.compile("local\\[(\\d+|\\*)(,\\d+)?]");
  private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[\\s*\\d+\\s*,\\s*(\\d+)\\s*,.*]");

  /**
   * The engine serves every task of its executor, so it gets the executor's cores: spark.gptneo.threads
   * if set, else spark.executor.cores, else the cores of a local master, else 0 (the executor's
   * available processors); never fewer than spark.task.cpus.
   */
  private static int threads(Function<String, String> conf, String master) {
    int explicit = integer(conf.apply(THREADS), 0, THREADS, 0);
    if (explicit > 0) {
      return explicit;
    }
    int cores = integer(conf.apply("spark.executor.cores"), 0, "spark.executor.cores", 0);
    if (cores == 0 && master != null) {
      Matcher m = LOCAL_N.matcher(master.trim());
      Matcher c = LOCAL_CLUSTER.matcher(master.trim());
      if (m.matches() && !m.group(1).equals("*")) {
        cores = Integer.parseInt(m.group(1));
      } else if (c.matches()) {
        cores = Integer.parseInt(c.group(1));
      }
    }
    int taskCpus = integer(conf.apply("spark.task.cpus"), 1, "spark.task.cpus", 1);
    return cores == 0 ? 0 : Math.max(cores, taskCpus);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static String orDefault(String s, String dflt) {
    return s == null || s.isBlank() ? dflt : s.trim();
  }

  private static int integer(String v, int dflt, String key, int min) {
    if (v == null || v.isBlank()) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n < min) {
        throw new IllegalArgumentException(key + " must be >= " + min + ", got " + n);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be an integer, got '" + v + "'");
    }
  }

  /** A fraction in (0, 1]; 0 when unset. */
  private static double fraction(String v, String key) {
    if (v == null || v.isBlank()) {
      return 0;
    }
    double d;
    try {
      d = Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      d = Double.NaN;
    }
    if (!(d > 0 && d <= 1)) {
      throw new IllegalArgumentException(key + " must be a fraction in (0, 1], e.g. 0.8; got '" + v + "'");
    }
    return d;
  }

  private static long bytes(String v, long dflt, String key, long min, long max) {
    if (v == null || v.isBlank()) {
      return dflt;
    }
    long n;
    try {
      n = JavaUtils.byteStringAsBytes(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a size such as 64m, got '" + v + "'");
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException(key + " must be between " + min + " and " + max + " bytes, got " + v);
    }
    return n;
  }

  private static Distribution distribution(String v) {
    if (v == null || v.isBlank()) {
      return Distribution.AUTO;
    }
    try {
      return Distribution.valueOf(v.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(DISTRIBUTION + " must be one of broadcast, path, auto; got '" + v + "'");
    }
  }
}
