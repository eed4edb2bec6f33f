package dev.gptneo.engine.tokenizer;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Pre-token -> BPE ids, shared by all threads. Real text repeats a small set of words, so most
 * pre-tokens skip BPE entirely. Bounded: when full it is emptied and refills with what is
 * frequent now (cheaper than LRU bookkeeping on every hit, and the values are deterministic, so
 * a racing clear only costs a recomputation). Stored arrays are never written after insertion.
 */
final class WordCache {
  private final ConcurrentHashMap<String, int[]> map;
  private final int capacity;

  WordCache(int capacity) {
    this.capacity = capacity;
    this.map = new ConcurrentHashMap<>(Math.min(capacity, 1 << 12));
  }

  int[] get(String word) {
    return map.get(word);
  }

  void put(String word, int[] ids) {
    if (map.size() >= capacity) {
      map.clear();
    }
    map.put(word, ids);
  }

  int size() {
    return map.size();
  }
}
