package dev.gptneo.engine.generate;

/**
 * What one running beam brings to a beam-search step: its next-token logits, which the search ranks
 * on the host, or its best continuations, ranked where the logits live (Ops.rankTokens, the GPU).
 */
public final class BeamRow {
  final float[] logits; // (vocab), or null
  final float[] scores; // (k) the beam's score + the processed log-probability, best first; or null
  final int[] ids;      // (k) their tokens

  private BeamRow(float[] logits, float[] scores, int[] ids) {
    this.logits = logits;
    this.scores = scores;
    this.ids = ids;
  }

  /** The ranked continuations' scores, best first (null for a row of logits). Not to be changed. */
  public float[] scores() {
    return scores;
  }

  /** Their tokens. Not to be changed. */
  public int[] ids() {
    return ids;
  }

  public static BeamRow ofLogits(float[] logits) {
    return new BeamRow(logits, null, null);
  }

  /** Continuations ranked as BeamSearch ranks them: scores descending, equal scores in id order. */
  public static BeamRow ofRanked(float[] scores, int[] ids) {
    assert scores.length == ids.length;
    return new BeamRow(null, scores, ids);
  }
}
