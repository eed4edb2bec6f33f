package dev.gptneo.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** One tokenizer shared by many threads gives every thread the single-threaded answers. */
class ConcurrencyTest {
  @Test
  void concurrentEncodeAndDecodeAgreeWithSingleThreaded() throws Exception {
    Random random = new Random(99);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      texts.add(RandomText.next(random, 60, false));
    }
    Gpt2Tokenizer reference = Gpt2Tokenizer.load(SharedFiles.demoModel()).orElseThrow();
    List<int[]> expected = new ArrayList<>();
    for (String text : texts) {
      expected.add(reference.encode(text));
    }
    Gpt2Tokenizer shared = Gpt2Tokenizer.load(SharedFiles.demoModel()).orElseThrow(); // empty cache
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int offset = t * 37;
        futures.add(pool.submit(() -> {
          for (int round = 0; round < 5; round++) {
            for (int k = 0; k < texts.size(); k++) {
              int i = (k + offset) % texts.size();
              int[] ids = shared.encode(texts.get(i));
              assertArrayEquals(expected.get(i), ids, texts.get(i));
              assertEquals(reference.decode(ids), shared.decode(ids));
            }
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
