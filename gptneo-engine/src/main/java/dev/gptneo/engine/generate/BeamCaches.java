package dev.gptneo.engine.generate;

import dev.gptneo.engine.batching.KeptCaches;
import dev.gptneo.engine.batching.Scheduler;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The KV caches of one beam search's running beams, on a backend that copies caches. After each
 * step a new beam takes over its parent's cache (the first child) or a copy of it (the others),
 * so a beam feeds only its new token, as HF reorders its cache between steps. At most num_beams
 * caches, each as long as the search's longest sequence, reserved from the scheduler's KV budget
 * for the search's life ({@link #reserve}).
 */
public final class BeamCaches implements AutoCloseable {
  private final Ops ops;
  private final Scheduler scheduler;
  private final KeptCaches kept;
  private final int capacity;
  private final long reservedBytes;
  private SequenceCache[] caches;                            // (beams) by running beam; null if none
  private final ArrayDeque<SequenceCache> spare = new ArrayDeque<>(); // caches no beam holds now

  private BeamCaches(Ops ops, Scheduler scheduler, BeamSearch search, long bytes) {
    this.ops = ops;
    this.scheduler = scheduler;
    this.kept = scheduler.keptCaches();
    this.capacity = search.maxLength();
    this.reservedBytes = bytes;
    this.caches = new SequenceCache[search.beams()];
  }

  /** The caches of a search if the KV budget has room for them now, else null (try again later). */
  public static BeamCaches reserve(Ops ops, Scheduler scheduler, BeamSearch search) {
    long bytes = search.beams() * scheduler.cacheBytes(search.maxLength());
    return scheduler.tryReserveCaches(bytes) ? new BeamCaches(ops, scheduler, search, bytes) : null;
  }

  /** Running beam b's cache: the tokens of its sequence that already went through the model. */
  public SequenceCache of(int beam) {
    if (caches[beam] == null) { // beam 0 at the first step
      caches[beam] = kept.create(capacity);
    }
    return caches[beam];
  }

  /** After {@link BeamSearch#step}: each beam to score next gets its parent's cache or a copy. */
  public void follow(BeamSearch search) {
    int[] next = search.beamsToScore();
    boolean[] isParent = new boolean[caches.length];
    for (int b : next) {
      isParent[search.parent(b)] = true;
    }
    for (int q = 0; q < caches.length; q++) {
      if (!isParent[q] && caches[q] != null) {
        spare.push(caches[q]);
      }
    }
    SequenceCache[] followed = new SequenceCache[caches.length];
    boolean[] taken = new boolean[caches.length];
    kept.run(() -> { // the copies in one go: on a GPU the scheduler's thread makes them
      for (int b : next) {
        int p = search.parent(b);
        assert caches[p] != null : "a parent beam that was not scored";
        if (!taken[p]) {
          followed[b] = caches[p];
          taken[p] = true;
        } else {
          if (spare.isEmpty()) {
            spare.push(kept.create(capacity));
          }
          ops.copyCache(caches[p], spare.peek()); // stays a spare (closed with the rest) if this fails
          followed[b] = spare.pop();
        }
      }
      return null;
    });
    caches = followed;
  }

  @Override
  public void close() {
    List<SequenceCache> all = new ArrayList<>(Arrays.asList(caches));
    all.addAll(spare);
    kept.close(all);
    spare.clear();
    caches = new SequenceCache[caches.length];
    scheduler.releaseCaches(reservedBytes);
  }
}
