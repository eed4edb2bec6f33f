package dev.gptneo.spark.distribution;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loaded models of this JVM: one engine per content hash, shared by every task thread (their
 * rows meet in the engine's batches). The first task that needs a model loads it while the others
 * wait; later tasks reuse it. {@link #unloadAll} closes engines as soon as no task uses them.
 */
public final class LocalModels {
  private static final Logger LOG = LoggerFactory.getLogger(LocalModels.class);

  /** One load, for tests and logs: which model, how it arrived, how long it took. */
  public static final class LoadRecord {
    public final String hash;
    public final String source;
    public final long nanos;

    LoadRecord(String hash, String source, long nanos) {
      this.hash = hash;
      this.source = source;
      this.nanos = nanos;
    }

    @Override
    public String toString() {
      return hash.substring(0, 12) + " by " + source + " in " + nanos / 1_000_000 + " ms";
    }
  }

  private static final class Loaded {
    final Engine engine;
    final LocalCopy copy;
    int users;
    boolean unloading;

    Loaded(Engine engine, LocalCopy copy) {
      this.engine = engine;
      this.copy = copy;
    }
  }

  /** A task's use of a model; close it when the task ends. */
  public static final class Lease implements AutoCloseable {
    private final String hash;
    private final Loaded loaded;
    /** Time this acquire spent loading or waiting for another task's load (0 if it was ready). */
    public final long loadNanos;
    /** Whether this acquire did the load. */
    public final boolean loadedHere;
    private boolean closed;

    Lease(String hash, Loaded loaded, long loadNanos, boolean loadedHere) {
      this.hash = hash;
      this.loaded = loaded;
      this.loadNanos = loadNanos;
      this.loadedHere = loadedHere;
    }

    public Engine engine() {
      return loaded.engine;
    }

    @Override
    public void close() {
      synchronized (LocalModels.class) {
        if (closed) {
          return;
        }
        closed = true;
        loaded.users--;
        if (loaded.unloading && loaded.users == 0) {
          closeQuietly(hash, loaded);
        }
      }
    }
  }

  private static final Map<String, Loaded> MODELS = new ConcurrentHashMap<>();
  private static final Map<String, Object> LOAD_LOCKS = new ConcurrentHashMap<>();
  private static final List<LoadRecord> LOADS = Collections.synchronizedList(new ArrayList<>());

  private LocalModels() {}

  /** The engine for this model, loading it if this JVM has not yet. */
  public static Lease acquire(ModelHandle handle, EngineOptions options, String localDir, boolean verifyPath) {
    long t0 = System.nanoTime();
    String hash = handle.hash();
    Lease lease = tryLease(hash, t0);
    if (lease != null) {
      return lease;
    }
    synchronized (LOAD_LOCKS.computeIfAbsent(hash, h -> new Object())) {
      lease = tryLease(hash, t0);
      if (lease != null) {
        return lease;
      }
      LocalCopy copy = LocalCopy.obtain(handle, localDir, verifyPath);
      Engine engine;
      try {
        engine = Engine.open(copy.dir(), options);
      } catch (RuntimeException e) {
        copy.delete();
        throw new IllegalStateException("cannot load model " + handle + ": " + e.getMessage(), e);
      }
      long nanos = System.nanoTime() - t0;
      LOADS.add(new LoadRecord(hash, copy.source(), nanos));
      LOG.info("loaded model {} by {} with {} threads in {} ms", handle, copy.source(), options.threads,
          nanos / 1_000_000);
      Loaded loaded = new Loaded(engine, copy);
      synchronized (LocalModels.class) {
        loaded.users++;
        MODELS.put(hash, loaded);
      }
      return new Lease(hash, loaded, nanos, true);
    }
  }

  private static Lease tryLease(String hash, long t0) {
    synchronized (LocalModels.class) {
      Loaded loaded = MODELS.get(hash);
      if (loaded == null || loaded.unloading) {
        return null;
      }
      loaded.users++;
      return new Lease(hash, loaded, System.nanoTime() - t0, false);
    }
  }

  /** Unloads every model of this JVM (each closes when its last task releases it); returns how many. */
  public static int unloadAll() {
    int n = 0;
    synchronized (LocalModels.class) {
      for (Map.Entry<String, Loaded> e : new ArrayList<>(MODELS.entrySet())) {
        Loaded loaded = e.getValue();
        MODELS.remove(e.getKey());
        loaded.unloading = true;
        if (loaded.users == 0) {
          closeQuietly(e.getKey(), loaded);
        }
        n++;
      }
    }
    return n;
  }

  /** How many times this JVM loaded the model with this content hash. */
  public static int loadCount(String hash) {
    synchronized (LOADS) {
      return (int) LOADS.stream().filter(r -> r.hash.equals(hash)).count();
    }
  }

  /** Loads per content hash in this JVM. */
  public static Map<String, Integer> loadCounts() {
    Map<String, Integer> out = new TreeMap<>();
    synchronized (LOADS) {
      LOADS.forEach(r -> out.merge(r.hash, 1, Integer::sum));
    }
    return out;
  }

  public static List<LoadRecord> loads() {
    synchronized (LOADS) {
      return new ArrayList<>(LOADS);
    }
  }

  /** The engine of a loaded model, or null; for tests and diagnostics. */
  public static Engine loadedEngine(String hash) {
    Loaded loaded = MODELS.get(hash);
    return loaded == null ? null : loaded.engine;
  }

  private static void closeQuietly(String hash, Loaded loaded) {
    try {
      loaded.engine.close();
    } catch (RuntimeException e) {
      LOG.warn("closing model {} failed", hash, e);
    }
    loaded.copy.delete();
    LOG.info("unloaded model {}", hash.substring(0, 12));
  }
}
