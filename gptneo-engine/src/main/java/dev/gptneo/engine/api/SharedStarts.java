package dev.gptneo.engine.api;

import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.batching.Scheduler;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.tasks.PrefillJob;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prompts of one call that begin with the same tokens (one prompt for every row of the gptneo
 * data source, a template's instructions or few-shot examples): on a backend that copies KV caches
 * each shared start runs through the model once, and each row's job begins from a copy of its
 * cache. A row's bits do not change: on the CPU a token's result does not depend on how its
 * sequence was split into steps; a batch-invariant GPU (Ops.promptPieceTokens) cuts prompts at fixed
 * multiples, so starts are shortened to one. The starts' caches come out of the KV budget until closed.
 */
final class SharedStarts implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SharedStarts.class);
  /** Shorter shared starts are not worth a cache of their own. */
  static final int MIN_TOKENS = 16;

  private final Scheduler scheduler;
  private final Ops ops;
  private final List<SequenceCache> caches = new ArrayList<>();
  private long reserved;

  SharedStarts(Scheduler scheduler, Ops ops) {
    this.scheduler = scheduler;
    this.ops = ops;
  }

  /**
   * Runs the starts that two or more of these prompts share (null entries take no part) and
   * returns, per row, the cache to start from, or null.
   */
  SequenceCache[] run(List<int[]> prompts) {
    SequenceCache[] starts = new SequenceCache[prompts.size()];
    if (!ops.copiesCaches()) {
      return starts;
    }
    List<int[]> groups = groups(prompts); // {start length, row, row, ...}
    List<CompletableFuture<Boolean>> runs = new ArrayList<>();
    List<int[]> running = new ArrayList<>();
    int unit = ops.promptPieceTokens(); // the rows' pieces then end where whole runs end them
    try (Scheduler.Hold hold = scheduler.hold()) {
      for (int[] group : groups) {
        int length = unit > 0 ? group[0] / unit * unit : group[0];
        group[0] = length;
        if (length < MIN_TOKENS) {
          continue;
        }
        long bytes = scheduler.cacheBytes(length);
        if (!scheduler.tryReserveCaches(bytes)) {
          break; // the KV budget is full: the rest run whole
        }
        reserved += bytes;
        SequenceCache cache;
        try {
          cache = scheduler.keptCaches().create(length);
        } catch (ModelException noMemory) {
          break; // the rest run whole
        }
        caches.add(cache);
        int[] start = Arrays.copyOf(prompts.get(group[1]), length);
        runs.add(scheduler.submit(new PrefillJob(cache, start)));
        running.add(group);
      }
    }
    long saved = 0;
    for (int g = 0; g < running.size(); g++) {
      try {
        RowWait.await(runs.get(g));
      } catch (RowWait.RowFailure e) {
        continue; // its rows run whole, and meet the problem themselves
      }
      int[] group = running.get(g);
      for (int i = 1; i < group.length; i++) {
        starts[group[i]] = caches.get(g);
      }
      saved += (long) (group.length - 2) * group[0];
    }
    if (!running.isEmpty()) {
      LOG.debug("shared prompt starts: {} of {} groups ran once; {} prompt tokens not run again", running.size(),
          groups.size(), saved);
    }
    return starts;
  }

  /**
   * Rows in lexicographic order of their tokens; neighbours join a group while they share at least
   * MIN_TOKENS and at least half of the group's start so far. Each start leaves its rows a token.
   */
  static List<int[]> groups(List<int[]> prompts) {
    List<Integer> rows = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      if (prompts.get(i) != null && prompts.get(i).length > MIN_TOKENS) {
        rows.add(i);
      }
    }
    rows.sort((a, b) -> Arrays.compare(prompts.get(a), prompts.get(b)));
    List<int[]> groups = new ArrayList<>();
    int from = 0;
    while (from < rows.size()) {
      int[] first = prompts.get(rows.get(from));
      int length = first.length - 1;
      int to = from + 1;
      for (; to < rows.size(); to++) {
        int[] next = prompts.get(rows.get(to));
        int mismatch = Arrays.mismatch(first, next); // -1: equal
        int shared = Math.min(Math.min(length, next.length - 1), mismatch < 0 ? first.length : mismatch);
        if (shared < MIN_TOKENS || 2 * shared < length) {
          break;
        }
        length = shared;
      }
      if (to - from >= 2) {
        int[] group = new int[1 + to - from];
        group[0] = length;
        for (int i = from; i < to; i++) {
          group[1 + i - from] = rows.get(i);
        }
        groups.add(group);
      }
      from = to;
    }
    return groups;
  }

  @Override
  public void close() {
    scheduler.keptCaches().close(caches);
    caches.clear();
    scheduler.releaseCaches(reserved);
    reserved = 0;
  }
}
