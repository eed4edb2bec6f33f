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
 * The loaded models of this JVM: one engine per content hash and device (cpu, or each GPU), shared
 * by every task thread on that device (their rows meet in the engine's batches). The first task that
 * needs one loads it while the others wait; later tasks reuse it. Engines of one model on several
 * GPUs share the local copy of its files. {@link #unloadAll} closes engines as soon as no task uses them.
 */
public final class LocalModels {
  private static final Logger LOG = LoggerFactory.getLogger(LocalModels.class);

  /** One load, for tests and logs: which model, on which device, how it arrived, how long it took, which task. */
  public static final class LoadRecord {
    public final String hash;
    public final String device; // cpu, or cuda:N / auto:N as asked (auto may have fallen back to the CPU)
    public final String source;
    public final long nanos;
    public final long taskId;   // the task attempt that loaded it; -1 outside a task

    LoadRecord(String hash, String device, String source, long nanos, long taskId) {
      this.hash = hash;
      this.device = device;
      this.source = source;
      this.nanos = nanos;
      this.taskId = taskId;
    }

    @Override
    public String toString() {
      return hash.substring(0, 12) + " on " + device + " by " + source + " in " + nanos / 1_000_000 + " ms (task "
          + taskId + ")";
    }
  }

  /** The files of a model on this machine, shared by its engines on every device. */
  private static final class SharedCopy {
    final LocalCopy copy;
    int engines;

    SharedCopy(LocalCopy copy) {
      this.copy = copy;
    }
  }

  private static final class Loaded {
    final Engine engine;
    final String hash;
    final SharedCopy copy;
    int users;
    boolean unloading;

    Loaded(Engine engine, String hash, SharedCopy copy) {
      this.engine = engine;
      this.hash = hash;
      this.copy = copy;
    }
  }

  /** A task's use of a model; close it when the task ends. */
  public static final class Lease implements AutoCloseable {
    private final String key;
    private final Loaded loaded;
    /** Time this acquire spent loading or waiting for another task's load (0 if it was ready). */
    public final long loadNanos;
    /** Whether this acquire did the load. */
    public final boolean loadedHere;
    private boolean closed;

    Lease(String key, Loaded loaded, long loadNanos, boolean loadedHere) {
      this.key = key;
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
          closeQuietly(key, loaded);
        }
      }
    }
  }

  private static final Map<String, Loaded> MODELS = new ConcurrentHashMap<>();      // by key(hash, device)
  private static final Map<String, Object> LOAD_LOCKS = new ConcurrentHashMap<>();  // by key
  private static final Map<String, SharedCopy> COPIES = new ConcurrentHashMap<>();  // by hash
  private static final Map<String, Object> COPY_LOCKS = new ConcurrentHashMap<>();  // by hash
  private static final List<LoadRecord> LOADS = Collections.synchronizedList(new ArrayList<>());

  private LocalModels() {}

  /**
   * The engine for this model on the device of {@code options} (cpu, or cuda/auto and a GPU
   * ordinal), loading it if this JVM has not yet.
   *
   * @param taskId the task attempt asking, for the load record; -1 outside a task
   */
  public static Lease acquire(ModelHandle handle, EngineOptions options, String localDir, boolean verifyPath,
      long taskId) {
    long t0 = System.nanoTime();
    String hash = handle.hash();
    String device = GpuAssignment.key(options.device, options.deviceIndex);
    String key = hash + "@" + device;
    Lease lease = tryLease(key, t0);
    if (lease != null) {
      return lease;
    }
    synchronized (LOAD_LOCKS.computeIfAbsent(key, h -> new Object())) {
      lease = tryLease(key, t0);
      if (lease != null) {
        return lease;
      }
      SharedCopy copy = copyOf(handle, localDir, verifyPath);
      Engine engine;
      try {
        engine = Engine.open(copy.copy.dir(), options);
      } catch (RuntimeException e) {
        release(hash, copy);
        throw new IllegalStateException("cannot load model " + handle + " on " + device + ": " + e.getMessage(), e);
      }
      long nanos = System.nanoTime() - t0;
      LOADS.add(new LoadRecord(hash, device, copy.copy.source(), nanos, taskId));
      LOG.info("loaded model {} on {} ({}) by {} with {} threads in {} ms", handle, device, engine.info().backend,
          copy.copy.source(), options.threads, nanos / 1_000_000);
      Loaded loaded = new Loaded(engine, hash, copy);
      synchronized (LocalModels.class) {
        loaded.users++;
        MODELS.put(key, loaded);
      }
      return new Lease(key, loaded, nanos, true);
    }
  }

  private static Lease tryLease(String key, long t0) {
    synchronized (LocalModels.class) {
      Loaded loaded = MODELS.get(key);
      if (loaded == null || loaded.unloading) {
        return null;
      }
      loaded.users++;
      return new Lease(key, loaded, System.nanoTime() - t0, false);
    }
  }

  /** The model's files on this machine, obtained once while any engine of it is loaded. */
  private static SharedCopy copyOf(ModelHandle handle, String localDir, boolean verifyPath) {
    String hash = handle.hash();
    synchronized (COPY_LOCKS.computeIfAbsent(hash, h -> new Object())) {
      synchronized (LocalModels.class) {
        SharedCopy copy = COPIES.get(hash);
        if (copy != null) {
          copy.engines++;
          return copy;
        }
      }
      SharedCopy copy = new SharedCopy(LocalCopy.obtain(handle, localDir, verifyPath));
      synchronized (LocalModels.class) {
        copy.engines++;
        COPIES.put(hash, copy);
      }
      return copy;
    }
  }

  /** An engine no longer uses the copy; the last one deletes it (if it is a copy we made). */
  private static void release(String hash, SharedCopy copy) {
    synchronized (LocalModels.class) {
      if (--copy.engines == 0) {
        COPIES.remove(hash, copy);
        copy.copy.delete();
      }
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

  /** An engine of a loaded model (on any device), or null; for tests and diagnostics. */
  public static Engine loadedEngine(String hash) {
    for (Loaded loaded : MODELS.values()) {
      if (loaded.hash.equals(hash)) {
        return loaded.engine;
      }
    }
    return null;
  }

  private static void closeQuietly(String key, Loaded loaded) {
    try {
      loaded.engine.close();
    } catch (RuntimeException e) {
      LOG.warn("closing model {} failed", key, e);
    }
    release(loaded.hash, loaded.copy);
    LOG.info("unloaded model {}", key.substring(0, 12) + key.substring(key.indexOf('@')));
  }
}
