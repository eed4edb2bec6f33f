package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A step's layout on the device, uploaded in one copy when the step starts and read by the
 * kernels of every layer: token ids and positions, which sequence each token belongs to, each
 * sequence's rows, cached length, capacity and cache block, and the work lists of the two
 * attention kernels (decode: sequences with one new token; prefill: blocks of 64 new tokens).
 */
final class StepTables {
  private final Gpu gpu;
  private long device;        // one buffer for all tables
  private long deviceBytes;
  private ByteBuffer host = ByteBuffer.allocateDirect(0).order(ByteOrder.LITTLE_ENDIAN);

  // device addresses of the tables of the uploaded step
  long tokenIds;    // (tokens) int
  long positions;   // (tokens) int
  long tokenSeq;    // (tokens) int: the sequence of each token row
  long seqStart;    // (seqs + 1) int: first row of each sequence
  long past;        // (seqs) int: tokens already cached
  long capacity;    // (seqs) int: cache capacity
  long cacheBase;   // (seqs) u64: cache block address
  long decodeSeqs;  // (decodeCount) int: sequences with one new token
  long tiles;       // (tileCount, 2) int: (sequence, first new token) per prefill block
  int tokens;
  int decodeCount;
  int tileCount;
  boolean promptsFromStart; // every prompt chunk (two or more new tokens) starts at position 0
  int maxDecodePast; // the longest cached length among decode sequences; -1 when none
  int decodeKeyBound; // maxDecodePast + 1 rounded up to KEY_BUCKET: sizes decode attention's shared memory
  int generation;     // bumped when the device buffer moves (recordings hold its addresses)

  /** Decode attention's shared memory is sized for keys in steps of this, so a recording serves many steps. */
  static final int KEY_BUCKET = 256;

  // what was uploaded, to tell whether a step's tables are already on the device
  private int seqs = -1;
  private int[] lastSeqStart = new int[0];
  private int[] lastPast = new int[0];
  private SequenceCache[] lastCaches = new SequenceCache[0];

  StepTables(Gpu gpu) {
    this.gpu = gpu;
  }

  /** Whether the device holds this step's layout (token ids aside, which only embed reads). */
  boolean matches(Step step) {
    int s = step.numSeqs;
    return s == seqs && step.numTokens == tokens
        && Arrays.equals(step.seqStart, 0, s + 1, lastSeqStart, 0, s + 1)
        && Arrays.equals(step.pastLen, 0, s, lastPast, 0, s)
        && Arrays.equals(step.caches, 0, s, lastCaches, 0, s);
  }

  void upload(Step step) {
    int t = step.numTokens;
    int s = step.numSeqs;
    int decode = 0;
    int tileTotal = 0;
    boolean fromStart = true;
    for (int i = 0; i < s; i++) {
      int n = step.newTokens(i);
      if (n == 1) {
        decode++;
      } else {
        tileTotal += (n + CudaKernels.PREFILL_QUERIES - 1) / CudaKernels.PREFILL_QUERIES;
        fromStart &= step.pastLen[i] == 0;
      }
    }
    // int offsets of each table in the buffer; cacheBase 8-byte aligned
    int oIds = 0;
    int oPos = oIds + t;
    int oTokSeq = oPos + t;
    int oStart = oTokSeq + t;
    int oPast = oStart + s + 1;
    int oCap = oPast + s;
    int oDecode = oCap + s;
    int oTiles = oDecode + decode;
    int oBase = (oTiles + 2 * tileTotal + 1) & ~1;
    int ints = oBase + 2 * s;
    ensureCapacity(4L * ints);
    ByteBuffer b = host;
    b.clear();
    int d = 0;
    int tile = 0;
    maxDecodePast = -1;
    decodeKeyBound = 0;
    for (int i = 0; i < s; i++) {
      CudaSequenceCache cache = (CudaSequenceCache) step.caches[i];
      int from = step.seqStart[i];
      int n = step.newTokens(i);
      for (int r = from; r < from + n; r++) {
        b.putInt(4 * (oTokSeq + r), i);
      }
      b.putInt(4 * (oStart + i), from);
      b.putInt(4 * (oPast + i), step.pastLen[i]);
      b.putInt(4 * (oCap + i), cache.capacity);
      b.putLong(4 * (oBase + 2 * i), cache.address);
      if (n == 1) {
        b.putInt(4 * (oDecode + d++), i);
        maxDecodePast = Math.max(maxDecodePast, step.pastLen[i]);
      } else {
        for (int q0 = 0; q0 < n; q0 += CudaKernels.PREFILL_QUERIES) {
          b.putInt(4 * (oTiles + 2 * tile), i);
          b.putInt(4 * (oTiles + 2 * tile + 1), q0);
          tile++;
        }
      }
    }
    if (maxDecodePast >= 0) {
      decodeKeyBound = (maxDecodePast + KEY_BUCKET) / KEY_BUCKET * KEY_BUCKET;
    }
    b.putInt(4 * (oStart + s), t);
    for (int r = 0; r < t; r++) {
      b.putInt(4 * (oIds + r), step.tokenIds[r]);
      b.putInt(4 * (oPos + r), step.positions[r]);
    }
    b.position(0).limit(4 * ints);
    gpu.upload(device, b);

    tokenIds = device + 4L * oIds;
    positions = device + 4L * oPos;
    tokenSeq = device + 4L * oTokSeq;
    seqStart = device + 4L * oStart;
    past = device + 4L * oPast;
    capacity = device + 4L * oCap;
    decodeSeqs = device + 4L * oDecode;
    tiles = device + 4L * oTiles;
    cacheBase = device + 4L * oBase;
    tokens = t;
    decodeCount = decode;
    tileCount = tileTotal;
    promptsFromStart = fromStart;
    seqs = s;
    lastSeqStart = Arrays.copyOf(step.seqStart, s + 1);
    lastPast = Arrays.copyOf(step.pastLen, s);
    lastCaches = Arrays.copyOf(step.caches, s);
  }

  private void ensureCapacity(long bytes) {
    if (bytes > deviceBytes) {
      long size = Math.max(bytes, 2 * deviceBytes);
      if (device != 0) {
        gpu.synchronize(); // earlier kernels may still read the old tables
        gpu.free(device);
        device = 0;
      }
      device = gpu.malloc(size);
      deviceBytes = size;
      generation++;
    }
    if (host.capacity() < bytes) {
      host = ByteBuffer.allocateDirect((int) Math.max(bytes, 2L * host.capacity())).order(ByteOrder.LITTLE_ENDIAN);
    }
  }

  /** Whether every sequence of the step has exactly one new token. */
  static boolean decodeOnly(Step step) {
    return step.numTokens == step.numSeqs;
  }

  void close() {
    if (device != 0) {
      gpu.free(device);
      device = 0;
    }
  }
}
