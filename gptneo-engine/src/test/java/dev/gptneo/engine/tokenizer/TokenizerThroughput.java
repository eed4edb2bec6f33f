package dev.gptneo.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Single-thread encode speed on real emails (not a test: timings do not belong in assertions).
 *
 * <pre>
 * java -cp target/classes:target/test-classes:$(deps) dev.gptneo.engine.tokenizer.TokenizerThroughput \
 *     [model dir] [jsonl file] [seconds]
 * </pre>
 *
 * Reports the first pass of a fresh tokenizer (cold JIT, cold word cache), a fresh tokenizer
 * after warm-up (warm JIT, cold word cache) and the steady state.
 */
public final class TokenizerThroughput {
  private TokenizerThroughput() {}

  public static void main(String[] args) throws IOException {
    Path shared = SharedFiles.sharedDir();
    Path modelDir = Path.of(args.length > 0 ? args[0] : shared + "/models/gpt-neo-demo");
    Path data = Path.of(args.length > 1 ? args[1] : shared + "/data/spam_val.jsonl");
    double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 10;
    List<String> texts = readEmails(data);
    long chars = texts.stream().mapToLong(String::length).sum();

    Gpt2Tokenizer cold = Gpt2Tokenizer.load(modelDir).orElseThrow();
    long t0 = System.nanoTime();
    long tokens = encodeAll(cold, texts);
    double coldSeconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf("%d emails, %d chars, %d tokens%n", texts.size(), chars, tokens);
    System.out.printf("cold first pass (fresh tokenizer, JIT cold): %.0f tokens/s%n", tokens / coldSeconds);

    Gpt2Tokenizer tokenizer = Gpt2Tokenizer.load(modelDir).orElseThrow();
    long warmupEnd = System.nanoTime() + 3_000_000_000L;
    while (System.nanoTime() < warmupEnd) {
      encodeAll(tokenizer, texts);
    }
    Gpt2Tokenizer fresh = Gpt2Tokenizer.load(modelDir).orElseThrow();
    long f0 = System.nanoTime();
    encodeAll(fresh, texts);
    System.out.printf("first pass of a fresh tokenizer, JIT warm (empty word cache): %.0f tokens/s%n",
        tokens / ((System.nanoTime() - f0) / 1e9));

    long total = 0;
    int passes = 0;
    long start = System.nanoTime();
    long end = start + (long) (seconds * 1e9);
    while (System.nanoTime() < end) {
      total += encodeAll(tokenizer, texts);
      passes++;
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    System.out.printf("steady state, 1 thread: %.0f tokens/s (%d passes in %.1f s, %.1f MB/s of chars)%n",
        total / elapsed, passes, elapsed, passes * chars / elapsed / 1e6);
  }

  static long encodeAll(Gpt2Tokenizer tokenizer, List<String> texts) {
    long tokens = 0;
    for (String text : texts) {
      tokens += tokenizer.encode(text).length;
    }
    return tokens;
  }

  /** subject + "\n" + body of each JSON line, the model's classification input. */
  static List<String> readEmails(Path jsonl) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<String> texts = new ArrayList<>();
    for (String line : Files.readAllLines(jsonl)) {
      if (!line.isBlank()) {
        JsonNode email = json.readTree(line);
        texts.add(email.path("subject").asText() + "\n" + email.path("body").asText());
      }
    }
    return texts;
  }
}
