package dev.gptneo.engine.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** How much of a sequence's pending tokens a step takes: all that fit, or whole pieces at fixed multiples. */
class PromptPiecesTest {
  @Test
  void withoutAUnitAStepTakesWhatFits() {
    assertEquals(600, Scheduler.pieceTokens(600, 0, 1024, 0));
    assertEquals(100, Scheduler.pieceTokens(600, 0, 100, 0), "the budget cuts the prompt anywhere");
    assertEquals(1, Scheduler.pieceTokens(1, 37, 1, 0));
  }

  @Test
  void withAUnitPiecesEndAtItsMultiplesWholeOrNotAtAll() {
    assertEquals(256, Scheduler.pieceTokens(600, 0, 1024, 256), "up to the first multiple");
    assertEquals(56, Scheduler.pieceTokens(400, 200, 1024, 256), "from a shared start or a label run: to the next");
    assertEquals(88, Scheduler.pieceTokens(88, 512, 1024, 256), "the rest");
    assertEquals(0, Scheduler.pieceTokens(600, 0, 255, 256), "a piece that does not fit waits for the next step");
    assertEquals(1, Scheduler.pieceTokens(1, 300, 1, 256), "a decode token always fits");
    int fed = 0;
    int[] steps = {256, 100, 512}; // budgets left: a piece never splits at a budget
    StringBuilder cuts = new StringBuilder();
    for (int budget : steps) {
      int n = Scheduler.pieceTokens(600 - fed, fed, budget, 256);
      fed += n;
      cuts.append(fed).append(' ');
    }
    assertEquals("256 256 512 ", cuts.toString());
  }
}
