package dev.gptneo.engine.api;

import dev.gptneo.engine.ModelException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Waiting for a row's job: its failure becomes the row's error, never the call's. */
final class RowWait {
  private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

  private RowWait() {}

  /** A row's job failed: its message becomes the row's error. */
  static final class RowFailure extends Exception {
    RowFailure(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Waits for a row. If the calling thread is interrupted (a cancelled Spark task), the row's job
   * is cancelled, so the scheduler drops it and frees its cache; rows already done still return.
   */
  static <T> T await(CompletableFuture<T> f) throws RowFailure {
    try {
      return f.get();
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new RowFailure("interrupted while waiting for the engine; the row was cancelled");
    } catch (ExecutionException | CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      String msg = cause.getMessage() == null ? cause.toString() : cause.getMessage();
      if (!(cause instanceof ModelException) && !(cause instanceof IllegalArgumentException)
          && !(cause instanceof IllegalStateException)) { // expected failures (closed engine) are not logged
        LOG.warn("row failed", cause);
      }
      throw new RowFailure(msg);
    }
  }


  /** A short wait for room in the KV budget; an interrupted caller (a cancelled task) stops waiting. */
  static void pause() throws RowFailure {
    LockSupport.parkNanos(1_000_000);
    if (Thread.currentThread().isInterrupted()) {
      throw new RowFailure("interrupted while waiting for the engine; the row was cancelled");
    }
  }
}
