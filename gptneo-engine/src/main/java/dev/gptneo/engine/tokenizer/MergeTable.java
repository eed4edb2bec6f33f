package dev.gptneo.engine.tokenizer;

import java.util.Arrays;

/**
 * The BPE merges: (left id, right id) -> rank and merged id. An open-addressing hash table on
 * the pair packed into a long, because this lookup is the inner loop of BPE and a
 * {@code HashMap<Pair, Integer>} would box and chase pointers on every probe.
 *
 * <p>Immutable after {@link #put} calls during loading; safe to read from many threads once
 * published through a final field.
 */
final class MergeTable {
  private static final long EMPTY = -1L; // no pair of non-negative ids packs to -1

  private final long[] keys;
  private final int[] ranks;
  private final int mask;
  /** Merged token id per rank; -1 for ranks whose pair was redefined by a later line. */
  private final int[] mergedIdByRank;
  private int size;

  MergeTable(int mergeCount) {
    int capacity = Integer.highestOneBit(Math.max(4, mergeCount) * 2) * 2; // load factor <= 0.5
    keys = new long[capacity];
    Arrays.fill(keys, EMPTY);
    ranks = new int[capacity];
    mask = capacity - 1;
    mergedIdByRank = new int[mergeCount];
    Arrays.fill(mergedIdByRank, -1);
  }

  /**
   * Records merge number {@code rank}. A pair listed twice keeps its last rank, as HF's (and
   * GPT-2's original) dict building does; the earlier rank then never matches.
   */
  void put(int left, int right, int rank, int mergedId) {
    assert left >= 0 && right >= 0 && mergedId >= 0;
    long key = pack(left, right);
    int slot = slotOf(key);
    while (keys[slot] != EMPTY && keys[slot] != key) {
      slot = (slot + 1) & mask;
    }
    if (keys[slot] == EMPTY) {
      keys[slot] = key;
      size++;
    } else {
      mergedIdByRank[ranks[slot]] = -1;
    }
    ranks[slot] = rank;
    mergedIdByRank[rank] = mergedId;
  }

  /** Rank of merging left then right, or -1 when they do not merge. */
  int rank(int left, int right) {
    long key = pack(left, right);
    int slot = slotOf(key);
    while (true) {
      long k = keys[slot];
      if (k == key) {
        return ranks[slot];
      }
      if (k == EMPTY) {
        return -1;
      }
      slot = (slot + 1) & mask;
    }
  }

  int mergedId(int rank) {
    return mergedIdByRank[rank];
  }

  int size() {
    return size;
  }

  private int slotOf(long key) {
    long h = key * 0x9E3779B97F4A7C15L; // Fibonacci hashing: the high bits are well mixed
    return (int) (h >>> 40) & mask;
  }

  private static long pack(int left, int right) {
    return ((long) left << 32) | (right & 0xFFFFFFFFL);
  }
}
