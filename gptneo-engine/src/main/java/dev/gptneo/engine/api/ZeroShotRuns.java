package dev.gptneo.engine.api;

import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.batching.KeptCaches;
import dev.gptneo.engine.batching.Scheduler;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.tasks.NextTokenLogprobsJob;
import dev.gptneo.engine.tasks.ScoreJob;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Zero-shot label scores: the summed log-probability of each label's tokens right after a text.
 * Where the backend copies KV caches the text goes through the model once: its last position's
 * logits score every label's first token, and a label of more tokens continues from a copy of the
 * text's cache (the last such label from the cache itself). Elsewhere each label runs text and
 * label whole. Both give the same bits on the CPU: a token's logits do not depend on how its
 * sequence was split into steps, and the sum runs over the label's tokens in order.
 */
final class ZeroShotRuns {
  private final Scheduler scheduler;
  private final KeptCaches kept;
  private final Ops ops;

  ZeroShotRuns(Scheduler scheduler, Ops ops) {
    this.scheduler = scheduler;
    this.kept = scheduler.keptCaches();
    this.ops = ops;
  }

  /** scores[i][label]; null where texts[i] is null or the row failed (its message in errors[i]). */
  float[][] run(int[][] texts, int[][] labels, String[] errors) {
    return ops.copiesCaches() ? sharedText(texts, labels, errors) : wholeSequences(texts, labels, errors);
  }

  private float[][] wholeSequences(int[][] texts, int[][] labels, String[] errors) {
    List<List<CompletableFuture<double[]>>> futures = new ArrayList<>();
    try (Scheduler.Hold hold = scheduler.hold()) { // the rows reach the scheduler together
      for (int[] text : texts) {
        List<CompletableFuture<double[]>> perLabel = null;
        if (text != null) {
          perLabel = new ArrayList<>();
          for (int[] label : labels) {
            perLabel.add(scheduler.submit(new ScoreJob(concat(text, label), text.length)));
          }
        }
        futures.add(perLabel);
      }
    }
    float[][] scores = new float[texts.length][];
    for (int i = 0; i < texts.length; i++) {
      if (futures.get(i) == null) {
        continue;
      }
      try {
        scores[i] = new float[labels.length];
        for (int j = 0; j < labels.length; j++) {
          scores[i][j] = (float) sum(0, RowWait.await(futures.get(i).get(j)));
        }
      } catch (RowWait.RowFailure e) {
        scores[i] = null;
        errors[i] = e.getMessage();
      }
    }
    return scores;
  }

  /** The rows in waves that the KV budget holds: the texts of a wave, then their longer labels. */
  private float[][] sharedText(int[][] texts, int[][] labels, String[] errors) {
    int longest = 0;
    int longer = 0; // labels of more than one token: each needs a cache
    for (int[] label : labels) {
      longest = Math.max(longest, label.length);
      longer += label.length > 1 ? 1 : 0;
    }
    int cachesPerRow = Math.max(1, longer);
    float[][] scores = new float[texts.length][];
    int next = 0;
    while (next < texts.length) {
      List<Integer> wave = new ArrayList<>();
      long reserved = 0;
      for (; next < texts.length; next++) {
        if (texts[next] == null) {
          continue;
        }
        long bytes = cachesPerRow * scheduler.cacheBytes(texts[next].length + longest);
        if (!scheduler.tryReserveCaches(bytes)) {
          break;
        }
        reserved += bytes;
        wave.add(next);
      }
      if (wave.isEmpty()) {
        if (next < texts.length) { // the KV budget is full: wait for others
          try {
            RowWait.pause();
          } catch (RowWait.RowFailure f) {
            for (; next < texts.length; next++) {
              errors[next] = texts[next] == null ? null : f.getMessage();
            }
          }
        }
        continue;
      }
      try {
        runWave(wave, texts, labels, longest, cachesPerRow, scores, errors);
      } finally {
        scheduler.releaseCaches(reserved);
      }
    }
    return scores;
  }

  private void runWave(List<Integer> wave, int[][] texts, int[][] labels, int longest, int cachesPerRow,
      float[][] scores, String[] errors) {
    SequenceCache[][] caches = new SequenceCache[wave.size()][cachesPerRow]; // (rows of the wave, caches)
    try {
      ModelException[] cacheFailed = new ModelException[wave.size()]; // the row fails when awaited
      kept.run(() -> { // the wave's caches in one go: on a GPU the scheduler's thread makes them
        for (int w = 0; w < wave.size(); w++) {
          try {
            caches[w][0] = kept.create(texts[wave.get(w)].length + longest);
          } catch (ModelException e) {
            cacheFailed[w] = e;
          }
        }
        return null;
      });
      int[] firstTokens = new int[labels.length]; // (labels)
      for (int j = 0; j < labels.length; j++) {
        firstTokens[j] = labels[j][0];
      }
      List<CompletableFuture<double[]>> textRuns = new ArrayList<>();
      try (Scheduler.Hold hold = scheduler.hold()) {
        for (int w = 0; w < wave.size(); w++) {
          textRuns.add(cacheFailed[w] != null ? CompletableFuture.failedFuture(cacheFailed[w])
              : scheduler.submit(new NextTokenLogprobsJob(caches[w][0], texts[wave.get(w)], firstTokens)));
        }
      }
      double[][] first = new double[wave.size()][];  // (rows, labels) log-prob of each label's first token
      List<List<CompletableFuture<double[]>>> rest = new ArrayList<>();
      try (Scheduler.Hold hold = scheduler.hold()) {
        for (int w = 0; w < wave.size(); w++) {
          int row = wave.get(w);
          rest.add(null);
          try {
            first[w] = RowWait.await(textRuns.get(w));
          } catch (RowWait.RowFailure e) {
            errors[row] = e.getMessage();
            continue;
          }
          try {
            rest.set(w, continueLabels(texts[row], labels, caches[w]));
          } catch (ModelException noMemory) { // a label's copy
            errors[row] = noMemory.getMessage();
          }
        }
      }
      for (int w = 0; w < wave.size(); w++) {
        int row = wave.get(w);
        if (rest.get(w) == null) {
          continue;
        }
        try {
          float[] s = new float[labels.length];
          for (int j = 0; j < labels.length; j++) {
            CompletableFuture<double[]> more = rest.get(w).get(j);
            s[j] = (float) (more == null ? first[w][j] : sum(first[w][j], RowWait.await(more)));
          }
          scores[row] = s;
        } catch (RowWait.RowFailure e) {
          errors[row] = e.getMessage();
        }
      }
    } finally {
      List<SequenceCache> all = new ArrayList<>();
      for (SequenceCache[] row : caches) {
        all.addAll(Arrays.asList(row));
      }
      kept.close(all);
    }
  }

  /** Per label: null for one token, else its later tokens' log-probs, continued from the text's cache. */
  private List<CompletableFuture<double[]>> continueLabels(int[] text, int[][] labels, SequenceCache[] caches) {
    int last = -1;
    for (int j = 0; j < labels.length; j++) {
      last = labels[j].length > 1 ? j : last;
    }
    SequenceCache[] of = new SequenceCache[labels.length]; // (labels) the cache each longer label continues
    int lastLonger = last;
    kept.run(() -> {
      int copies = 0;
      for (int j = 0; j < labels.length; j++) {
        if (labels[j].length > 1) { // the last longer label takes the text's cache itself
          of[j] = j == lastLonger ? caches[0] : (caches[++copies] = kept.copyOf(caches[0]));
        }
      }
      return null;
    });
    List<CompletableFuture<double[]>> out = new ArrayList<>();
    for (int j = 0; j < labels.length; j++) {
      out.add(of[j] == null ? null : scheduler.submit(new ScoreJob(of[j], concat(text, labels[j]), text.length + 1)));
    }
    return out;
  }

  private static double sum(double first, double[] logProbs) {
    double s = first;
    for (double lp : logProbs) {
      s += lp;
    }
    return s;
  }

  private static int[] concat(int[] text, int[] label) {
    int[] seq = Arrays.copyOf(text, text.length + label.length);
    System.arraycopy(label, 0, seq, text.length, label.length);
    return seq;
  }
}
