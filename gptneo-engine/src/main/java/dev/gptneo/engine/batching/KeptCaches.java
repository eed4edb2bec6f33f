package dev.gptneo.engine.batching;

import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;

/**
 * The KV caches that callers keep across their jobs (beam search, zero-shot labels, shared prompt
 * starts): made, copied and closed where the backend allows. On the CPU that is the caller's own
 * thread. The GPU is driven by one thread, the scheduler's, so there the work is queued and the
 * scheduler runs it between two steps, while the caller waits. Bytes come from
 * {@link Scheduler#tryReserveCaches}.
 */
public final class KeptCaches {
  private final Ops ops;
  private final GptNeoConfig config;
  private final Thread loop;
  private final BooleanSupplier closed;
  private final boolean onCallers; // the backend lets any thread make, copy and close caches
  private final ConcurrentLinkedQueue<Runnable> queued = new ConcurrentLinkedQueue<>(); // for the loop

  KeptCaches(Ops ops, GptNeoConfig config, Thread loop, BooleanSupplier closed) {
    this.ops = ops;
    this.config = config;
    this.loop = loop;
    this.closed = closed;
    this.onCallers = ops.cachesFromAnyThread();
  }

  /** A cache of this capacity; a {@link ModelException} naming the fix when memory runs out. */
  public SequenceCache create(int capacity) {
    return run(() -> {
      try {
        return ops.newSequenceCache(config, capacity);
      } catch (OutOfMemoryError e) {
        throw new ModelException("not enough memory for a " + capacity + "-token KV cache (" + e.getMessage()
            + "); lower max_new_tokens, num_beams or the batch size, or give it more memory (-Xmx on the CPU;"
            + " on a GPU a larger kv-cache fraction)");
      }
    });
  }

  /** A new cache of from's capacity holding a copy of from. */
  public SequenceCache copyOf(SequenceCache from) {
    return run(() -> {
      SequenceCache copy = create(from.capacity());
      try {
        ops.copyCache(from, copy);
      } catch (RuntimeException e) {
        copy.close();
        throw e;
      }
      return copy;
    });
  }

  /**
   * Runs work on kept caches (making and copying them through this class, {@link Ops#copyCache}) on
   * the thread the backend allows, with no step running meanwhile. Returns its result or rethrows
   * its error. On the loop's thread it waits for at most the step running now.
   */
  public <T> T run(Supplier<T> work) {
    if (onCallers || Thread.currentThread() == loop) {
      return work.get();
    }
    CompletableFuture<T> done = new CompletableFuture<>();
    Runnable task = () -> {
      try {
        done.complete(work.get());
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    };
    queued.add(task);
    LockSupport.unpark(loop);
    if (closed.getAsBoolean() && queued.remove(task)) { // the loop may have run its last work already
      throw new IllegalStateException("the engine is closed");
    }
    try {
      return done.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException) {
        throw (RuntimeException) cause;
      }
      if (cause instanceof Error) {
        throw (Error) cause;
      }
      throw e;
    }
  }

  /** Closes caches (null entries skipped) without waiting; after the engine closed, its backend freed them. */
  public void close(List<SequenceCache> caches) {
    List<SequenceCache> open = new ArrayList<>(caches);
    Runnable task = () -> {
      for (SequenceCache c : open) {
        try {
          if (c != null) {
            c.close();
          }
        } catch (RuntimeException e) { // on the loop's thread nothing may escape
          LoggerFactory.getLogger(KeptCaches.class).warn("closing a KV cache failed", e);
        }
      }
    };
    if (onCallers || Thread.currentThread() == loop) {
      task.run();
    } else {
      queued.add(task);
      LockSupport.unpark(loop);
    }
  }

  /** Whether work waits for the loop. */
  boolean queued() {
    return !queued.isEmpty();
  }

  /** The loop runs what callers queued, between steps. */
  void runQueued() {
    for (Runnable work; (work = queued.poll()) != null; ) {
      work.run();
    }
  }
}
