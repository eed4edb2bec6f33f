package dev.gptneo.engine.api;

import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.batching.Scheduler;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.generate.BeamCaches;
import dev.gptneo.engine.generate.BeamJob;
import dev.gptneo.engine.generate.BeamRow;
import dev.gptneo.engine.generate.BeamSearch;
import dev.gptneo.engine.generate.FinishReason;
import dev.gptneo.engine.ops.Ops;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;

/** The beam-search rows of one generate call, run together step by step. */
final class BeamRuns {
  private final Scheduler scheduler;
  private final Ops ops;
  private final GptNeoConfig config;
  private final BiFunction<int[], Boolean, String> decode; // (ids, skip special tokens) -> text

  BeamRuns(Scheduler scheduler, Ops ops, GptNeoConfig config, BiFunction<int[], Boolean, String> decode) {
    this.scheduler = scheduler;
    this.ops = ops;
    this.config = config;
    this.decode = decode;
  }

  /**
   * Runs the beam searches step by step together: each step's running beams of every row go to the
   * scheduler as one batch of last-position LM-head jobs ({@link BeamJob}). Where the backend copies
   * KV caches each beam keeps one ({@link BeamCaches}) and feeds only its new token; elsewhere each
   * job runs its beam's whole sequence. A GPU ranks greedy beams' continuations itself, so only they
   * cross to the host.
   */
  void run(Map<Integer, BeamSearch> searches, List<int[]> prompts,
      List<GenerateResult> out) {
    Map<Integer, BeamSearch> notStarted = new TreeMap<>(searches);
    Map<Integer, BeamSearch> active = new TreeMap<>();
    Map<Integer, BeamCaches> caches = new TreeMap<>();
    try {
      while (!notStarted.isEmpty() || !active.isEmpty()) {
        if (!Thread.currentThread().isInterrupted()) { // a cancelled caller starts nothing new
          startBeamSearches(notStarted, active, caches);
        }
        if (active.isEmpty()) { // the KV budget is full: wait
          try {
            RowWait.pause();
          } catch (RowWait.RowFailure f) {
            notStarted.keySet().forEach(row -> out.set(row, GenerateResult.failed(f.getMessage())));
            notStarted.clear();
          }
          continue;
        }
        Map<Integer, List<CompletableFuture<BeamRow>>> pending = new TreeMap<>();
        try (Scheduler.Hold hold = scheduler.hold()) { // the rows reach the scheduler together
          for (Map.Entry<Integer, BeamSearch> e : active.entrySet()) {
            BeamSearch search = e.getValue();
            BeamCaches beamCaches = caches.get(e.getKey());
            List<CompletableFuture<BeamRow>> fs = new ArrayList<>();
            for (int b : search.beamsToScore()) {
              try {
                fs.add(scheduler.submit(beamCaches == null ? new BeamJob(search, b)
                    : new BeamJob(search, b, beamCaches.of(b))));
              } catch (ModelException noMemory) { // its cache: the row fails when its jobs are awaited
                fs.add(CompletableFuture.failedFuture(noMemory));
              }
            }
            pending.put(e.getKey(), fs);
          }
        }
        Map<Integer, RowWait.RowFailure> failed = stepAll(pending, active);
        for (Map.Entry<Integer, List<CompletableFuture<BeamRow>>> e : pending.entrySet()) {
          int row = e.getKey();
          BeamSearch search = active.get(row);
          try {
            if (failed.containsKey(row)) {
              throw failed.get(row);
            }
            if (search.done()) {
              List<GenerateResult> best = new ArrayList<>(); // HF's num_return_sequences, best first
              for (int rank = 0; rank < search.params().numReturnSequences; rank++) {
                int[] ids = search.completion(rank);
                boolean eos = ids.length > 0
                    && Arrays.stream(search.params().eosOr(config.eosTokenIds)).anyMatch(t -> t == ids[ids.length - 1]);
                best.add(new GenerateResult(decode.apply(ids, search.params().skipSpecialTokens), ids,
                    eos ? FinishReason.EOS : FinishReason.LENGTH, prompts.get(row).length));
              }
              out.set(row, GenerateResult.of(best));
            } else if (caches.containsKey(row)) {
              caches.get(row).follow(search);
            }
          } catch (RowWait.RowFailure failure) {
            e.getValue().forEach(f -> f.exceptionally(t -> null).join()); // none still uses the caches
            out.set(row, GenerateResult.failed(failure.getMessage()));
          } catch (ModelException noMemory) { // a copy for a new beam
            out.set(row, GenerateResult.failed(noMemory.getMessage()));
          }
          if (out.get(row) != null) {
            active.remove(row);
            BeamCaches done = caches.remove(row);
            if (done != null) {
              done.close();
            }
          }
        }
      }
    } finally {
      caches.values().forEach(BeamCaches::close);
    }
  }

  /**
   * Waits for each search's beam rows (logits, or the continuations a GPU ranked), then runs the
   * searches' steps (on logits a log-softmax, the processors and a top-k each) side by side on the
   * backend's threads. Returns the rows whose beam rows failed; their searches did not step.
   */
  private Map<Integer, RowWait.RowFailure> stepAll(Map<Integer, List<CompletableFuture<BeamRow>>> pending,
      Map<Integer, BeamSearch> active) {
    Map<Integer, RowWait.RowFailure> failed = new TreeMap<>();
    List<BeamSearch> stepping = new ArrayList<>();
    List<List<BeamRow>> beamRows = new ArrayList<>();
    for (Map.Entry<Integer, List<CompletableFuture<BeamRow>>> e : pending.entrySet()) {
      try {
        List<BeamRow> rows = new ArrayList<>();
        for (CompletableFuture<BeamRow> f : e.getValue()) {
          rows.add(RowWait.await(f));
        }
        stepping.add(active.get(e.getKey()));
        beamRows.add(rows);
      } catch (RowWait.RowFailure failure) {
        failed.put(e.getKey(), failure);
      }
    }
    RuntimeException[] thrown = new RuntimeException[stepping.size()];
    ops.forEachTask(stepping.size(), i -> {
      try {
        stepping.get(i).stepRows(beamRows.get(i));
      } catch (RuntimeException ex) {
        thrown[i] = ex;
      }
    });
    for (RuntimeException ex : thrown) {
      if (ex != null) {
        throw ex;
      }
    }
    return failed;
  }

  /**
   * Starts the searches whose KV caches fit the budget now, in row order (all of them where the
   * backend does not copy caches: there each step runs whole sequences).
   */
  private void startBeamSearches(Map<Integer, BeamSearch> notStarted, Map<Integer, BeamSearch> active,
      Map<Integer, BeamCaches> caches) {
    for (Iterator<Map.Entry<Integer, BeamSearch>> it = notStarted.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Integer, BeamSearch> e = it.next();
      if (ops.copiesCaches()) {
        BeamCaches reserved = BeamCaches.reserve(ops, scheduler, e.getValue());
        if (reserved == null) {
          return;
        }
        caches.put(e.getKey(), reserved);
      }
      active.put(e.getKey(), e.getValue());
      it.remove();
    }
  }
}
