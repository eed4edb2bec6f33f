package dev.gptneo.engine.generate;

import dev.gptneo.engine.batching.Head;
import dev.gptneo.engine.batching.Job;
import dev.gptneo.engine.batching.RanksTokens;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.TokenChoice;
import java.util.Arrays;

/**
 * One running beam's row for the next beam-search step: the last position's LM row of its sequence.
 * Where the backend ranks tokens (the GPU) and the search's settings allow it, only the beam's best
 * continuations cross to the host ({@link RanksTokens}); otherwise the logits do.
 */
public final class BeamJob extends Job<BeamRow> implements RanksTokens {
  private final BeamSearch search;
  private final int beam;
  private BeamRow row;

  /** Runs the beam's whole sequence (a backend that does not copy caches). */
  public BeamJob(BeamSearch search, int beam) {
    super(search.sequence(beam), search.sequence(beam).length);
    this.search = search;
    this.beam = beam;
  }

  /** Continues from {@code cache}, which holds the beam's sequence but its last tokens. */
  public BeamJob(BeamSearch search, int beam, SequenceCache cache) {
    super(cache, search.sequence(beam));
    this.search = search;
    this.beam = beam;
  }

  @Override
  public Head head() {
    return Head.LM;
  }

  @Override
  public boolean wantsRow(int position) {
    return isLastKnown(position);
  }

  @Override
  public void accept(int position, float[] out, int off, int width) {
    row = BeamRow.ofLogits(Arrays.copyOfRange(out, off, off + width));
  }

  @Override
  public BeamRow afterStep() {
    return pendingTokens() == 0 ? row : null;
  }

  @Override
  public boolean backendMayRank() {
    return search.ranksOnBackend();
  }

  @Override
  public void describeRanking(int position, TokenChoice choice) {
    search.describeRanking(beam, choice);
  }

  @Override
  public void acceptRanking(int position, float[] scores, int[] ids, int from, int k) {
    row = BeamRow.ofRanked(Arrays.copyOfRange(scores, from, from + k), Arrays.copyOfRange(ids, from, from + k));
  }
}
