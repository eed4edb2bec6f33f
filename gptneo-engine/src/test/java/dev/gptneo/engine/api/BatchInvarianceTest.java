package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.gptneo.engine.testing.Goldens;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A row's classification logits, embedding and scores are bit-identical alone, in a batch, and on
 * an engine that cuts prompts into small steps (a fresh engine, so some of it runs before the JIT
 * has compiled the kernels: the results must not depend on that either).
 */
class BatchInvarianceTest {
  static List<Input> emails(int n) throws IOException {
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    List<Input> in = new ArrayList<>();
    Path file = Goldens.demoModel().resolve("../../emails.jsonl").normalize();
    for (String line : Files.readAllLines(file)) {
      var node = json.readTree(line);
      in.add(Input.text(node.get("subject").asText() + "\n" + node.get("body").asText()));
      if (in.size() == n) {
        break;
      }
    }
    return in;
  }

  @Test
  void classifyEmbedAndScoreAreBatchInvariant() throws IOException {
    List<Input> in = emails(24);
    InputPolicy policy = new InputPolicy(256, Truncation.RIGHT);
    try (Engine fresh = Engine.open(Goldens.demoModel(), EngineOptions.builder().threads(2).build());
        Engine small = Engine.open(Goldens.demoModel(),
            EngineOptions.builder().threads(2).maxBatchTokens(37).maxBatchSequences(5).build())) {
      List<ClassifyResult> batch = fresh.classify(in, policy);
      List<ClassifyResult> chunked = small.classify(in, policy);
      List<EmbedResult> embedBatch = fresh.embed(in, policy);
      List<ScoreResult> scoreBatch = fresh.score(in.subList(0, 6), policy);
      for (int i = 0; i < in.size(); i++) {
        List<Input> one = List.of(in.get(i));
        assertArrayEquals(batch.get(i).logits, fresh.classify(one, policy).get(0).logits, "classify alone, row " + i);
        assertArrayEquals(batch.get(i).logits, chunked.get(i).logits, "classify in small steps, row " + i);
        EmbedResult e = fresh.embed(one, policy).get(0);
        assertArrayEquals(embedBatch.get(i).mean, e.mean, "embed mean, row " + i);
        assertArrayEquals(embedBatch.get(i).lastToken, e.lastToken, "embed last, row " + i);
        if (i < 6) {
          assertArrayEquals(scoreBatch.get(i).tokenLogprobs, fresh.score(one, policy).get(0).tokenLogprobs, "score " + i);
        }
      }
    }
  }
}
