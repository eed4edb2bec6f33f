package dev.gptneo.engine.batching;

import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.model.GptNeoModel;
import dev.gptneo.engine.model.GptNeoWeights;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching on one thread that owns the model. Callers on any thread {@link #submit} jobs;
 * each step takes one token from every generating sequence, then fills the rest of the token
 * budget with prompt chunks of running and newly admitted sequences. A finished sequence leaves at
 * once and frees its KV cache; a waiting one joins at the next step when the cache budget allows.
 */
public final class Scheduler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

  private final GptNeoModel model;
  private final GptNeoConfig config;
  private final int maxSeqs;
  private final int pieceUnit; // prompt pieces end at its multiples (Ops.promptPieceTokens); 0: anywhere
  private final long kvBudgetBytes;
  private final Step step;
  private final ConcurrentLinkedQueue<Job<?>> incoming = new ConcurrentLinkedQueue<>();
  private final ThreadLocal<List<Job<?>>> held = new ThreadLocal<>(); // a thread's jobs while it holds them
  private final ArrayDeque<Job<?>> waiting = new ArrayDeque<>();
  private final List<Job<?>> active = new ArrayList<>();
  private final Thread thread;
  private volatile boolean closed;
  private final KeptCaches keptCaches;
  private final Object kvLock = new Object();
  private long kvUsedBytes; // guarded by kvLock: the loop's caches and callers' reservations

  // per step, by sequence index in the step
  private final Job<?>[] stepJobs;      // (maxSeqs)
  private final int[] stepBackendKind;  // (maxSeqs) the backendRows kind that takes the job this step, or -1
  private final int[] stepFedBefore;    // (maxSeqs)
  // head rows of one step, by head
  private final int[] headRows;         // (maxTokens) row in the step
  private final int[] headPositions;    // (maxTokens) position in its sequence
  private final Job<?>[] headJobs;      // (maxTokens)
  // mean pooling on the backend (null when the host sums)
  private final boolean summing;
  private final int[] sumRanges;        // (2 * maxSeqs) step rows [from, to) per pooling job
  private final Job<?>[] sumJobs;       // (maxSeqs)
  private final double[] rowSums;       // (maxSeqs, hidden)
  private final int[] chunkRows;        // (maxHeadRows)
  private final int[] runStarts;        // (maxHeadRows + 1) where each job's rows start in a chunk
  private final Throwable[] runFailures; // (maxHeadRows) what a job's accept threw, per run
  private final float[] headOut;        // (maxHeadRows, max(vocab, hidden))
  // LM rows the backend reduces itself: chosen tokens (GPU), target log-probabilities (GPU and CPU)
  private final BackendRows[] backendRows;

  /** Counters for metrics and benchmarks. */
  public final AtomicLong steps = new AtomicLong();
  public final AtomicLong tokensFed = new AtomicLong();
  public final AtomicLong busyNanos = new AtomicLong();

  public Scheduler(GptNeoModel model, int maxSeqs, long kvBudgetBytes) {
    this.model = model;
    this.config = model.config;
    this.maxSeqs = maxSeqs;
    this.kvBudgetBytes = kvBudgetBytes;
    int maxTokens = model.maxTokens();
    this.step = new Step(maxTokens, maxSeqs);
    this.pieceUnit = Math.min(model.ops().promptPieceTokens(), maxTokens);
    this.stepJobs = new Job<?>[maxSeqs];
    this.stepBackendKind = new int[maxSeqs];
    this.stepFedBefore = new int[maxSeqs];
    this.headRows = new int[maxTokens];
    this.headPositions = new int[maxTokens];
    this.headJobs = new Job<?>[maxTokens];
    this.chunkRows = new int[model.maxHeadRows()];
    this.runStarts = new int[model.maxHeadRows() + 1];
    this.runFailures = new Throwable[model.maxHeadRows()];
    this.headOut = new float[model.maxHeadRows() * Math.max(config.vocabSize, config.hiddenSize)];
    this.backendRows = BackendRows.of(model);
    this.summing = model.sumsRows();
    this.sumRanges = summing ? new int[2 * maxSeqs] : null;
    this.sumJobs = summing ? new Job<?>[maxSeqs] : null;
    this.rowSums = summing ? new double[maxSeqs * config.hiddenSize] : null;
    this.thread = new Thread(this::loop, "gptneo-scheduler");
    this.keptCaches = new KeptCaches(model.ops(), config, thread, () -> closed);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /**
   * Queues a job; its future completes with the job's result or its error. While this thread holds
   * its submissions ({@link #hold}), the job waits for the hold to end.
   */
  public <R> CompletableFuture<R> submit(Job<R> job) {
    if (closed) {
      job.future.completeExceptionally(new IllegalStateException("the engine is closed"));
      return job.future;
    }
    List<Job<?>> holding = held.get();
    if (holding != null) {
      holding.add(job);
    } else {
      queue(List.of(job));
    }
    return job.future;
  }

  /**
   * Holds this thread's submissions until the returned hold closes, then queues them at once, so
   * the loop sees all of a call's rows together: the steps they form then depend on the call and
   * on what was already running, not on how fast the caller submitted. (On a GPU a row's bits
   * depend on its step; on the CPU they never do.) A hold inside a hold joins it.
   */
  public Hold hold() {
    boolean outer = held.get() == null;
    if (outer) {
      held.set(new ArrayList<>());
    }
    return new Hold(outer);
  }

  /** See {@link #hold}; close it before waiting for any of its jobs. */
  public final class Hold implements AutoCloseable {
    private final boolean outer;

    private Hold(boolean outer) {
      this.outer = outer;
    }

    @Override
    public void close() {
      if (outer) {
        List<Job<?>> jobs = held.get();
        held.remove();
        queue(jobs);
      }
    }
  }

  private void queue(List<Job<?>> jobs) {
    if (jobs.isEmpty()) {
      return;
    }
    synchronized (incoming) { // the loop takes the whole list or none of it
      incoming.addAll(jobs);
    }
    LockSupport.unpark(thread);
    for (Job<?> job : jobs) {
      if (closed && incoming.remove(job)) {
        // closed while this job was being queued: the loop may already have drained the queue for
        // the last time, so whoever takes the job out of the queue fails it (here, or failAll)
        job.future.completeExceptionally(new IllegalStateException("the engine is closed"));
      }
    }
  }

  /** Bytes of KV cache a sequence of this capacity takes on the backend. */
  public long cacheBytes(int capacity) {
    return model.ops().sequenceCacheBytes(config, capacity);
  }

  /**
   * Reserves KV-cache bytes for caches a caller keeps across its jobs (beam search). False when
   * the budget has no room now, unless nothing else holds any.
   */
  public boolean tryReserveCaches(long bytes) {
    synchronized (kvLock) {
      if (kvUsedBytes > 0 && kvUsedBytes + bytes > kvBudgetBytes) {
        return false;
      }
      kvUsedBytes += bytes;
      return true;
    }
  }

  /** Makes, copies and closes the caches that callers keep across jobs, on the thread the backend allows. */
  public KeptCaches keptCaches() {
    return keptCaches;
  }

  /** Returns what {@link #tryReserveCaches} reserved. */
  public void releaseCaches(long bytes) {
    free(bytes);
    LockSupport.unpark(thread);
  }

  /** Takes the bytes of a sequence's cache from the budget if they fit, or if no sequence runs. */
  private boolean admits(long bytes) {
    synchronized (kvLock) {
      if (bytes > 0 && kvUsedBytes + bytes > kvBudgetBytes && !active.isEmpty()) {
        return false;
      }
      kvUsedBytes += bytes;
      return true;
    }
  }

  private void free(long bytes) {
    synchronized (kvLock) {
      kvUsedBytes -= bytes;
    }
  }

  private void loop() {
    while (!closed) {
      keptCaches.runQueued();
      synchronized (incoming) {
        for (Job<?> j; (j = incoming.poll()) != null; ) {
          waiting.add(j);
        }
      }
      if (active.isEmpty() && waiting.isEmpty()) {
        if (keptCaches.queued()) {
          continue;
        }
        LockSupport.park(this);
        continue;
      }
      long t0 = System.nanoTime();
      int seqs = buildStep();
      if (seqs == 0) {
        LockSupport.parkNanos(this, 1_000_000);
        continue;
      }
      try {
        model.forward(step);
      } catch (Throwable t) {
        LOG.error("forward pass failed; failing the {} sequences of this step", seqs, t);
        for (int s = 0; s < seqs; s++) {
          finish(stepJobs[s], null, t);
        }
        continue;
      }
      steps.incrementAndGet(); // counted before any result is delivered: a caller sees its steps
      tokensFed.addAndGet(step.numTokens);
      for (int s = 0; s < seqs; s++) {
        stepJobs[s].fed += step.newTokens(s);
      }
      for (int s = 0; s < seqs; s++) { // decided once a step: a job's answer may change as it takes a token
        stepBackendKind[s] = backendKindOf(stepJobs[s]);
      }
      for (int k = 0; k < backendRows.length; k++) {
        deliverOnBackend(k, seqs);
      }
      deliverSums(seqs);
      deliverHeads(seqs);
      for (int s = 0; s < seqs; s++) {
        Job<?> job = stepJobs[s];
        if (job.future.isDone()) {
          continue; // failed while receiving its rows
        }
        try {
          Object result = job.afterStep();
          if (result != null) {
            finish(job, result, null);
          }
        } catch (Throwable t) {
          finish(job, null, t);
        }
      }
      busyNanos.addAndGet(System.nanoTime() - t0);
    }
    failAll(new IllegalStateException("the engine was closed before this request finished"));
    keptCaches.runQueued(); // work queued before closed was set; later work sees closed
  }

  /** Fills the step: one token per generating sequence first, then prompt chunks. Returns sequences. */
  private int buildStep() {
    for (int i = active.size() - 1; i >= 0; i--) {
      Job<?> job = active.get(i);
      if (job.future.isDone()) { // cancelled by its caller: free its cache now
        finish(job, null, null);
      }
    }
    step.clear();
    for (int pass = 0; pass < 2; pass++) {
      for (Job<?> job : active) {
        boolean decoding = job.pendingTokens() == 1;
        if ((pass == 0) != decoding || job.pendingTokens() == 0 || stepFull()) {
          continue;
        }
        addPiece(job);
      }
    }
    while (!waiting.isEmpty() && !stepFull() && active.size() < maxSeqs) {
      Job<?> job = waiting.peek();
      long bytes = job.ownsCache ? cacheBytes(job.capacity()) : 0; // else its caller reserved the cache
      if (!admits(bytes)) {
        break; // waits for running sequences to free their caches
      }
      waiting.poll();
      if (job.future.isDone()) {
        free(bytes);
        continue;
      }
      try {
        if (job.ownsCache) {
          job.cache = model.ops().newSequenceCache(config, job.capacity());
        }
      } catch (OutOfMemoryError e) {
        free(bytes);
        if (!active.isEmpty()) {
          waiting.addFirst(job); // the budget guessed wrong (e.g. other users of the GPU): wait for space
          break;
        }
        finish(job, null, new ModelException("not enough memory for the KV cache of a " + job.capacity()
            + "-token sequence (" + e.getMessage() + "); lower max_new_tokens or the batch size, or give it more"
            + " memory (-Xmx on the CPU; on a GPU a larger kv-cache fraction or fewer other users)"));
        continue;
      }
      active.add(job);
      if (job.start != null && !startFromShared(job)) {
        continue;
      }
      if (summing && job instanceof SumsRows) {
        ((SumsRows) job).sumsArrive();
      }
      addPiece(job);
    }
    return step.numSeqs;
  }

  private boolean stepFull() {
    return step.numTokens == step.maxTokens() || step.numSeqs == maxSeqs;
  }

  /** Adds the job's next piece of pending tokens to the step, if one fits the tokens left. */
  private void addPiece(Job<?> job) {
    int n = pieceTokens(job.pendingTokens(), job.fed, step.maxTokens() - step.numTokens, pieceUnit);
    if (n > 0) {
      stepJobs[step.numSeqs] = job;
      stepFedBefore[step.numSeqs] = job.fed;
      step.add(job.cache, job.tokens, job.fed, n);
    }
  }

  /**
   * How many of a sequence's pending tokens (fed already run) go into a step with budget tokens
   * left: as many as fit; with a unit (Ops.promptPieceTokens), the piece up to the next multiple of
   * it (or the end), whole or not at all, so that a prompt is cut the same way whatever shares its steps.
   */
  static int pieceTokens(int pending, int fed, int budget, int unit) {
    if (unit <= 0) {
      return Math.min(pending, budget);
    }
    int piece = Math.min(pending, unit - fed % unit);
    return piece <= budget ? piece : 0;
  }

  /** Copies a job's shared start into its new cache; false (the job failed) if that did not work. */
  private boolean startFromShared(Job<?> job) {
    try {
      model.ops().copyCache(job.start, job.cache);
      job.fed = job.start.length();
      return true;
    } catch (RuntimeException e) {
      finish(job, null, e);
      return false;
    } finally {
      job.start = null;
    }
  }

  /** Appends the rows of step sequence s that its job wants to headRows/headPositions/headJobs; the new count. */
  private int collectRows(int s, Job<?> job, int count) {
    for (int r = step.seqStart[s]; r < step.seqStart[s + 1]; r++) {
      int pos = stepFedBefore[s] + r - step.seqStart[s];
      if (job.wantsRow(pos)) {
        headRows[count] = r;
        headPositions[count] = pos;
        headJobs[count] = job;
        count++;
      }
    }
    return count;
  }

  private void deliverHeads(int seqs) {
    GptNeoWeights w = model.weights;
    for (Head head : Head.values()) {
      int count = 0;
      for (int s = 0; s < seqs; s++) {
        Job<?> job = stepJobs[s];
        if (job.head() != head || job.future.isDone() || stepBackendKind[s] >= 0) {
          continue;
        }
        count = collectRows(s, job, count);
      }
      int chunk = model.maxHeadRows();
      for (int from = 0; from < count; from += chunk) {
        int n = Math.min(chunk, count - from);
        System.arraycopy(headRows, from, chunkRows, 0, n);
        int width;
        switch (head) {
          case LM:
            model.head(w.lmHead, null, chunkRows, n, headOut);
            width = config.vocabSize;
            break;
          case SEQUENCE_CLASSIFIER:
            model.head(w.score, null, chunkRows, n, headOut);
            width = w.score.rows();
            break;
          case TOKEN_CLASSIFIER:
            model.head(w.classifier, w.classifierBias, chunkRows, n, headOut);
            width = w.classifier.rows();
            break;
          case QUESTION_ANSWERING:
            model.head(w.qaOutputs, w.qaBias, chunkRows, n, headOut);
            width = 2;
            break;
          default:
            model.readHidden(chunkRows, n, headOut);
            width = config.hiddenSize;
        }
        acceptRows(from, n, width);
      }
      java.util.Arrays.fill(headJobs, 0, count, null);
    }
  }

  /**
   * Gives the chunk's rows (headOut, width floats a row) to their jobs. Jobs are independent, so
   * they run side by side on the backend's threads (the CPU's pool: sampling, penalties and
   * log-softmaxes over the vocab are host work), each job's rows in order; failures end their
   * jobs afterwards, here.
   */
  private void acceptRows(int from, int n, int width) {
    int runs = 0; // a job's rows are adjacent (collectRows)
    for (int i = 0; i < n; i++) {
      if (i == 0 || headJobs[from + i] != headJobs[from + i - 1]) {
        runStarts[runs++] = i;
      }
    }
    runStarts[runs] = n;
    model.ops().forEachTask(runs, r -> {
      for (int i = runStarts[r]; i < runStarts[r + 1]; i++) {
        Job<?> job = headJobs[from + i];
        if (job.future.isDone()) {
          return;
        }
        try {
          job.accept(headPositions[from + i], headOut, i * width, width);
        } catch (Throwable t) {
          runFailures[r] = t;
          return;
        }
      }
    });
    for (int r = 0; r < runs; r++) {
      if (runFailures[r] != null) {
        finish(headJobs[from + runStarts[r]], null, runFailures[r]);
        runFailures[r] = null;
      }
    }
  }

  /** The index of the first of backendRows that takes the job's LM rows this step, or -1. */
  private int backendKindOf(Job<?> job) {
    for (int k = 0; k < backendRows.length; k++) {
      if (backendRows[k].takes(job)) {
        return k;
      }
    }
    return -1;
  }

  /** Mean pooling on the backend: one call sums every pooling job's rows of the step; only the sums cross. */
  private void deliverSums(int seqs) {
    if (!summing) {
      return;
    }
    int count = 0;
    for (int s = 0; s < seqs; s++) {
      Job<?> job = stepJobs[s];
      if (job instanceof SumsRows && !job.future.isDone()) {
        sumRanges[2 * count] = step.seqStart[s];
        sumRanges[2 * count + 1] = step.seqStart[s + 1];
        sumJobs[count++] = job;
      }
    }
    if (count == 0) {
      return;
    }
    model.sumHidden(sumRanges, count, rowSums);
    int hidden = config.hiddenSize;
    for (int i = 0; i < count; i++) {
      try {
        ((SumsRows) sumJobs[i]).acceptSum(rowSums, i * hidden, hidden);
      } catch (Throwable t) {
        finish(sumJobs[i], null, t);
      }
    }
    java.util.Arrays.fill(sumJobs, 0, count, null);
  }

  /**
   * The LM rows of kind k that the backend reduces itself (generation's chosen tokens, scoring's
   * log-probabilities, beams' continuations; {@link BackendRows}): the jobs describe each row, the
   * backend runs the head and the reduction, and only the small results come back. Every other row
   * goes through deliverHeads.
   */
  private void deliverOnBackend(int k, int seqs) {
    BackendRows kind = backendRows[k];
    int count = 0;
    for (int s = 0; s < seqs; s++) {
      Job<?> job = stepJobs[s];
      if (stepBackendKind[s] != k || job.future.isDone()) {
        continue;
      }
      count = collectRows(s, job, count);
    }
    for (int from = 0; from < count; from += chunkRows.length) {
      int n = Math.min(chunkRows.length, count - from);
      kind.clear();
      for (int i = 0; i < n; i++) {
        chunkRows[i] = headRows[from + i];
        try {
          kind.describe(headJobs[from + i], headPositions[from + i]);
        } catch (Throwable t) {
          kind.placeholder(i); // keeps the rows aligned; the job has failed
          finish(headJobs[from + i], null, t);
        }
      }
      try {
        kind.run(chunkRows, n);
      } catch (Throwable t) {
        LOG.error("the backend's head rows failed; failing the {} sequences of this chunk", n, t);
        for (int i = 0; i < n; i++) {
          finish(headJobs[from + i], null, t);
        }
        continue;
      }
      for (int i = 0; i < n; i++) {
        Job<?> job = headJobs[from + i];
        if (job.future.isDone()) {
          continue;
        }
        try {
          kind.accept(job, headPositions[from + i], i);
        } catch (Throwable t) {
          finish(job, null, t);
        }
      }
    }
    java.util.Arrays.fill(headJobs, 0, count, null);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private void finish(Job job, Object result, Throwable error) {
    if (active.remove(job) && job.ownsCache) {
      free(cacheBytes(job.capacity()));
    }
    if (job.cache != null) {
      if (job.ownsCache) {
        job.cache.close();
      }
      job.cache = null;
    }
    if (error != null) {
      job.future.completeExceptionally(error);
    } else {
      job.future.complete(result);
    }
  }

  private void failAll(Throwable error) {
    for (Job<?> j : new ArrayList<>(active)) {
      finish(j, null, error);
    }
    for (Job<?> j; (j = waiting.poll()) != null || (j = incoming.poll()) != null; ) {
      finish(j, null, error);
    }
  }

  /** Sequences running now and waiting to start (a racy snapshot, for tests and logs). */
  public int queued() {
    return active.size() + waiting.size() + incoming.size();
  }

  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(thread);
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
