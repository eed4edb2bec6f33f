package dev.gptneo.engine.api;

import static dev.gptneo.engine.api.GenerationTest.FREE;
import static dev.gptneo.engine.api.GenerationTest.ONCE;
import static dev.gptneo.engine.api.GenerationTest.demo;
import static dev.gptneo.engine.api.GenerationTest.one;
import static dev.gptneo.engine.api.GenerationTest.sampling;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.generate.Sampler;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** num_return_sequences: samples with their own seeds, or the best beams; the first is the single result. */
class NumReturnSequencesTest {

  @Test
  void samplesAreRowsWithTheirOwnSeedsAndTheFirstIsTheSingleSample() {
    GenerationParams single = sampling(11, 10);
    GenerationParams three = single.toBuilder().numReturnSequences(3).build();
    GenerateResult r = one(demo(), Input.text(ONCE), three);
    assertEquals(3, r.sequences.size());
    GenerateResult alone = one(demo(), Input.text(ONCE), single);
    assertArrayEquals(alone.completionIds, r.completionIds, "the row's own fields are its first sample");
    Set<String> distinct = new HashSet<>();
    for (int j = 0; j < 3; j++) {
      GenerateResult s = r.sequences.get(j);
      GenerationParams seeded = single.toBuilder().seed(Sampler.sequenceSeed(11, j)).build();
      assertArrayEquals(one(demo(), Input.text(ONCE), seeded).completionIds, s.completionIds, "sample " + j);
      assertEquals(r.promptTokens, s.promptTokens);
      assertTrue(s.sequences.isEmpty());
      distinct.add(Arrays.toString(s.completionIds));
    }
    assertEquals(3, distinct.size(), "three seeds, three samples");
    assertEquals(11, Sampler.sequenceSeed(11, 0));
  }

  @Test
  void aRowsSamplesDoNotDependOnItsNeighbours() {
    GenerationParams three = sampling(5, 8).toBuilder().numReturnSequences(3).build();
    List<GenerateResult> batch = demo().generate(List.of(Input.text("Hi"), Input.text(FREE), Input.text(null)),
        List.of(sampling(1, 8), three, three), InputPolicy.DEFAULT);
    assertTrue(batch.get(0).sequences.isEmpty());
    assertNull(batch.get(2), "a null row stays null");
    GenerateResult alone = one(demo(), Input.text(FREE), three);
    for (int j = 0; j < 3; j++) {
      assertArrayEquals(alone.sequences.get(j).completionIds, batch.get(1).sequences.get(j).completionIds);
    }
  }

  @Test
  void beamSearchReturnsItsBestHypothesesBestFirst() {
    GenerationParams beams = GenerationParams.builder().numBeams(3).maxNewTokens(12).build();
    GenerateResult best = one(demo(), Input.text(ONCE), beams);
    GenerateResult two = one(demo(), Input.text(ONCE), beams.toBuilder().numReturnSequences(2).build());
    assertEquals(2, two.sequences.size());
    assertArrayEquals(best.completionIds, two.completionIds);
    assertArrayEquals(best.completionIds, two.sequences.get(0).completionIds);
    assertFalse(Arrays.equals(two.sequences.get(0).completionIds, two.sequences.get(1).completionIds));
    GenerateResult three = one(demo(), Input.text(ONCE), beams.toBuilder().numReturnSequences(3).build());
    for (int j = 0; j < 2; j++) {
      assertArrayEquals(two.sequences.get(j).completionIds, three.sequences.get(j).completionIds, "rank " + j);
    }
  }

  @Test
  void aFailingRowFailsWithItsErrorAndBadSettingsNameTheFix() {
    GenerateResult tooLong = demo().generate(List.of(Input.text("one two three four")),
        sampling(1, 4).toBuilder().numReturnSequences(2).build(), new InputPolicy(2, Truncation.ERROR)).get(0);
    assertTrue(tooLong.error.contains("more than the limit of 2"), tooLong.error);
    assertTrue(tooLong.sequences.isEmpty());
    IllegalArgumentException greedy = assertThrows(IllegalArgumentException.class,
        () -> GenerationParams.builder().numReturnSequences(2).build());
    assertTrue(greedy.getMessage().contains("needs sampling"), greedy.getMessage());
    IllegalArgumentException beams = assertThrows(IllegalArgumentException.class,
        () -> GenerationParams.builder().numBeams(2).numReturnSequences(3).build());
    assertTrue(beams.getMessage().contains("must be <= num_beams (2)"), beams.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GenerationParams.builder().numReturnSequences(0).build());
  }
}
