package dev.gptneo.engine.ops.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The engine's compute threads: {@code threads - 1} workers plus the calling thread. One job at a
 * time; a job is {@code n} independent tasks, taken in order from a shared counter. Workers spin
 * briefly between jobs (a forward pass issues many small jobs back to back), then park.
 */
public final class ComputePool implements AutoCloseable {
  private static final long SPIN_NANOS = 200_000;

  private final int threads;
  private final Thread[] workers;
  private final Object submitLock = new Object();
  private volatile Job job;
  private volatile boolean closed;

  private static final class Job {
    final IntConsumer body;
    final int tasks;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger finished = new AtomicInteger();
    final Thread caller;
    volatile Throwable error;

    Job(IntConsumer body, int tasks, Thread caller) {
      this.body = body;
      this.tasks = tasks;
      this.caller = caller;
    }

    /** Runs tasks until none are left; true if this thread finished the last one. */
    boolean work() {
      int done = 0;
      for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
        try {
          if (error == null) {
            body.accept(i);
          }
        } catch (Throwable t) {
          error = t;
        }
        done++;
      }
      return done > 0 && finished.addAndGet(done) == tasks;
    }
  }

  private static final java.util.Map<Integer, ComputePool> SHARED = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The JVM's pool with this many threads, created on first use and kept for the JVM's life: every
   * engine of the JVM with the same thread count shares it, so engines never multiply threads.
   */
  public static ComputePool shared(int threads) {
    return SHARED.computeIfAbsent(threads, t -> new ComputePool(t, "gptneo-compute-" + t + "-"));
  }

  public ComputePool(int threads) {
    this(threads, "gptneo-compute-");
  }

  private ComputePool(int threads, String namePrefix) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    this.threads = threads;
    this.workers = new Thread[threads - 1];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Thread(this::workerLoop, namePrefix + (i + 1));
      workers[i].setDaemon(true);
      workers[i].start();
    }
  }

  public int threads() {
    return threads;
  }

  /** Runs body(0..tasks-1) on all threads and returns when every task is done. */
  public void parallelFor(int tasks, IntConsumer body) {
    if (tasks <= 0) {
      return;
    }
    if (tasks == 1 || workers.length == 0) {
      for (int i = 0; i < tasks; i++) {
        body.accept(i);
      }
      return;
    }
    synchronized (submitLock) {
      if (closed) {
        throw new IllegalStateException("compute pool is closed");
      }
      Job j = new Job(body, tasks, Thread.currentThread());
      job = j;
      for (Thread w : workers) {
        LockSupport.unpark(w);
      }
      j.work();
      long spinUntil = System.nanoTime() + SPIN_NANOS;
      while (j.finished.get() < tasks) {
        if (System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
        } else {
          LockSupport.parkNanos(this, 50_000);
        }
      }
      job = null;
      Throwable err = j.error;
      if (err instanceof RuntimeException) {
        throw (RuntimeException) err;
      }
      if (err instanceof Error) {
        throw (Error) err;
      }
      if (err != null) {
        throw new RuntimeException(err);
      }
    }
  }

  private void workerLoop() {
    Job last = null;
    while (!closed) {
      Job j = job;
      if (j != null && j != last) {
        last = j;
        if (j.work()) {
          LockSupport.unpark(j.caller);
        }
        continue;
      }
      long spinUntil = System.nanoTime() + SPIN_NANOS;
      while ((j = job) == null || j == last) {
        if (closed) {
          return;
        }
        if (System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
        } else {
          LockSupport.park(this);
        }
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
  }
}
