package dev.gptneo.engine.tokenizer;

import java.util.Arrays;
import java.util.Map;

/**
 * Byte-level BPE on one pre-token: its UTF-8 bytes start as single-byte tokens, then the
 * adjacent pair with the lowest merge rank is merged (the leftmost on a tie) until no pair
 * merges. That is HF tokenizers' order (a heap on (rank, position)); it equals GPT-2's original
 * "merge every occurrence of the best pair" whenever merges are listed after their parts.
 *
 * <p>Immutable; the per-call working memory lives in {@link Scratch}.
 */
final class BpeModel {
  private final int[] byteToId;
  private final MergeTable merges;
  /** HF's ignore_merges: a pre-token that is itself in the vocab is one token, no merging. */
  private final Map<String, Integer> wholeWords;

  /**
   * @param vocab token string -> id
   * @param wholeWords the vocab when ignore_merges is set, else null
   */
  BpeModel(Map<String, Integer> vocab, MergeTable merges, Map<String, Integer> wholeWords) {
    this.byteToId = new int[256];
    for (int b = 0; b < 256; b++) {
      Integer id = vocab.get(String.valueOf(ByteLevelAlphabet.charOf(b)));
      byteToId[b] = id == null ? -1 : id;
    }
    this.merges = merges;
    this.wholeWords = wholeWords;
  }

  /** Working arrays reused across the pre-tokens of one encode call (not thread-safe). */
  static final class Scratch {
    byte[] bytes = new byte[64];
    int[] symbols = new int[64];
    int[] prev = new int[64];
    int[] next = new int[64];
    long[] heap = new long[64];

    void ensureBytes(int n) {
      if (bytes.length < n) {
        bytes = new byte[Math.max(n, bytes.length * 2)];
      }
    }

    private void ensureSymbols(int n) {
      if (symbols.length < n) {
        int size = Math.max(n, symbols.length * 2);
        symbols = new int[size];
        prev = new int[size];
        next = new int[size];
        heap = new long[size];
      }
    }
  }

  /**
   * Token ids for the pre-token whose UTF-8 bytes are scratch.bytes[0, length). Bytes with no
   * single-byte token are dropped, as HF's BPE does when there is no unk token.
   */
  int[] encodeWord(Scratch scratch, int length) {
    byte[] bytes = scratch.bytes;
    if (wholeWords != null) {
      Integer id = wholeWords.get(ByteLevelAlphabet.encode(Arrays.copyOf(bytes, length)));
      if (id != null) {
        return new int[] {id};
      }
    }
    scratch.ensureSymbols(length);
    int[] symbols = scratch.symbols;
    int n = 0;
    for (int i = 0; i < length; i++) {
      int id = byteToId[bytes[i] & 0xFF];
      if (id >= 0) {
        symbols[n++] = id;
      }
    }
    if (n <= 1) {
      return Arrays.copyOf(symbols, n);
    }
    if (n == 2) {
      int rank = merges.rank(symbols[0], symbols[1]);
      return rank < 0 ? Arrays.copyOf(symbols, 2) : new int[] {merges.mergedId(rank)};
    }
    return mergeAll(scratch, n);
  }

  /**
   * The merge loop over a doubly linked list of symbols; merged-away symbols get -1. Heap
   * entries are (rank << 32 | position), so the smallest long is the lowest rank, leftmost;
   * stale entries (a side already merged into something else) are skipped when popped.
   */
  private int[] mergeAll(Scratch scratch, int n) {
    int[] symbols = scratch.symbols;
    int[] prev = scratch.prev;
    int[] next = scratch.next;
    long[] heap = scratch.heap;
    int heapSize = 0;
    for (int i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    for (int i = 0; i + 1 < n; i++) {
      int rank = merges.rank(symbols[i], symbols[i + 1]);
      if (rank >= 0) {
        heapSize = heapPush(heap, heapSize, entry(rank, i));
      }
    }
    int remaining = n;
    while (heapSize > 0) {
      long top = heap[0];
      heapSize = heapPop(heap, heapSize);
      int rank = (int) (top >>> 32);
      int pos = (int) top;
      int right = next[pos];
      if (symbols[pos] < 0 || right < 0 || merges.rank(symbols[pos], symbols[right]) != rank) {
        continue; // stale
      }
      symbols[pos] = merges.mergedId(rank);
      symbols[right] = -1;
      int after = next[right];
      next[pos] = after;
      if (after >= 0) {
        prev[after] = pos;
      }
      remaining--;
      // Each merge pops one entry and pushes up to two, so the heap can outgrow n.
      if (heapSize + 2 > heap.length) {
        heap = scratch.heap = Arrays.copyOf(heap, heap.length * 2);
      }
      int before = prev[pos];
      if (before >= 0) {
        int r = merges.rank(symbols[before], symbols[pos]);
        if (r >= 0) {
          heapSize = heapPush(heap, heapSize, entry(r, before));
        }
      }
      if (after >= 0) {
        int r = merges.rank(symbols[pos], symbols[after]);
        if (r >= 0) {
          heapSize = heapPush(heap, heapSize, entry(r, pos));
        }
      }
    }
    int[] ids = new int[remaining];
    int k = 0;
    for (int i = 0; i >= 0; i = next[i]) { // symbol 0 is never merged away: merges keep the left
      ids[k++] = symbols[i];
    }
    assert k == remaining;
    return ids;
  }

  private static long entry(int rank, int pos) {
    return ((long) rank << 32) | pos;
  }

  private static int heapPush(long[] heap, int size, long value) {
    int i = size;
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (heap[parent] <= value) {
        break;
      }
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = value;
    return size + 1;
  }

  /** Removes heap[0]; returns the new size. */
  private static int heapPop(long[] heap, int size) {
    int last = size - 1;
    long value = heap[last];
    int i = 0;
    while (true) {
      int child = 2 * i + 1;
      if (child >= last) {
        break;
      }
      if (child + 1 < last && heap[child + 1] < heap[child]) {
        child++;
      }
      if (heap[child] >= value) {
        break;
      }
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = value;
    return last;
  }
}
