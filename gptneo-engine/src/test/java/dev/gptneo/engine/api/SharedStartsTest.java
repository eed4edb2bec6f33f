package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Engines;
import dev.gptneo.engine.testing.Goldens;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Prompts that begin alike run their shared start once; every row keeps the bits it gets alone. */
class SharedStartsTest {
  static final String TEMPLATE = "You label emails. Answer with one word, spam or ham, and nothing else."
      + " Here is the email to label:\n";

  static Engine demo() {
    return Engines.get(Goldens.demoModel(), EngineOptions.Kernels.AUTO);
  }

  @Test
  void groupsNeighboursThatShareEnoughTokens() {
    int[] base = new int[40];
    Arrays.setAll(base, i -> 100 + i);
    int[] sameStart = base.clone();
    sameStart[30] = 7;                             // shares 30 tokens with base
    int[] shortShare = base.clone();
    shortShare[10] = 7;                            // shares 10 < MIN_TOKENS
    int[] tiny = Arrays.copyOf(base, 12);          // too short to share anything
    List<int[]> prompts = Arrays.asList(base, null, sameStart, shortShare, base.clone(), tiny);
    List<int[]> groups = SharedStarts.groups(prompts);
    assertEquals(1, groups.size());
    int[] g = groups.get(0);
    assertEquals(30, g[0]);
    assertEquals(List.of(0, 2, 4), sortedRows(g));
    // identical prompts share all but their last token
    List<int[]> same = SharedStarts.groups(List.of(base, base.clone()));
    assertEquals(39, same.get(0)[0]);
  }

  private static List<Integer> sortedRows(int[] group) {
    List<Integer> rows = new ArrayList<>();
    for (int i = 1; i < group.length; i++) {
      rows.add(group[i]);
    }
    rows.sort(null);
    return rows;
  }

  @Test
  void rowsWithASharedStartGetTheirOwnBits() {
    List<String> texts = List.of(TEMPLATE + "WIN a FREE cruise, click now!!!",
        TEMPLATE + "Lunch at noon tomorrow? The usual place.",
        "Something else entirely, a prompt of its own that shares nothing with the others",
        TEMPLATE + "WIN a FREE cruise, click now!!!",
        TEMPLATE + "WIN a FREE cruise, click now!!!");
    List<Input> rows = new ArrayList<>();
    texts.forEach(t -> rows.add(Input.text(t)));
    List<GenerationParams> params = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) { // sampled, a seed per row: the same prompt, other texts
      params.add(GenerationParams.builder().maxNewTokens(8).doSample(true).temperature(0.9).seed(11 + i).build());
    }
    Engine e = demo();
    int promptTokens = 0;
    for (String t : texts) {
      promptTokens += e.tokenizer().orElseThrow().encode(t).length;
    }
    long fedBefore = e.scheduler().tokensFed.get();
    List<GenerateResult> together = e.generate(rows, params, InputPolicy.DEFAULT);
    long fed = e.scheduler().tokensFed.get() - fedBefore;
    int shared = e.tokenizer().orElseThrow().encode(TEMPLATE).length;
    // four rows share the template: it runs once, not four times
    assertTrue(fed <= promptTokens - 3L * (shared - 1) + rows.size() * 8L, "the template ran once: " + fed);
    for (int i = 0; i < rows.size(); i++) {
      GenerateResult alone = e.generate(List.of(rows.get(i)), List.of(params.get(i)), InputPolicy.DEFAULT).get(0);
      assertNull(together.get(i).error);
      assertArrayEquals(alone.completionIds, together.get(i).completionIds, "row " + i);
    }
  }
}
