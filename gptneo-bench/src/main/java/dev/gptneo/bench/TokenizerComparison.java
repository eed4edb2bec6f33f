package dev.gptneo.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gptneo.engine.bench.BenchFiles;
import dev.gptneo.engine.tokenizer.Gpt2Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToIntFunction;

/**
 * Our {@link Gpt2Tokenizer} against Hugging Face's Rust tokenizers (through DJL,
 * {@code ai.djl.huggingface:tokenizers}) on the same texts, one thread each: checks that every
 * text gets identical ids, then measures tokens/s the same way for both.
 *
 * <pre>
 * gptneo-bench/run-tokenizers.sh [--tokenizer DIR] [--data FILE.jsonl] [--seconds S]
 * </pre>
 *
 * Defaults: the demo model's tokenizer (datasets-sample/models/gpt-neo-demo/tokenizer.json) and the
 * validation emails (../shared/data/spam_val.jsonl), subject + "\n" + body. Protocol, identical for
 * both: a fresh tokenizer's first pass (JIT warm from the other instance, word cache empty), then
 * alternating rounds of passes over all texts for S seconds each, three rounds per tokenizer; the
 * best round counts. Progress on stderr, one JSON line on stdout; exit status 1 when ids differ.
 */
public final class TokenizerComparison {
  private TokenizerComparison() {}

  public static void main(String[] args) throws IOException {
    Path tokDir = BenchFiles.demoTokenizerDir();
    Path data = BenchFiles.sampleEmails();
    double seconds = 3;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--tokenizer":
          tokDir = Path.of(args[++i]);
          break;
        case "--data":
          data = Path.of(args[++i]);
          break;
        case "--seconds":
          seconds = Double.parseDouble(args[++i]);
          break;
        default:
          System.err.println("usage: TokenizerComparison [--tokenizer DIR] [--data FILE.jsonl] [--seconds S]");
          System.exit(2);
      }
    }
    if (tokDir == null || data == null) {
      System.err.println("cannot find the tokenizer or the emails; pass --tokenizer DIR and --data FILE.jsonl");
      System.exit(2);
    }
    List<String> texts = readTexts(data);
    Path json = tokDir.resolve("tokenizer.json");
    Gpt2Tokenizer ours = Gpt2Tokenizer.load(tokDir).orElseThrow(() -> new IOException("no tokenizer in the folder"));
    HuggingFaceTokenizer hf = hf(json);

    // 1. identical ids
    int mismatches = 0;
    long tokens = 0;
    for (String t : texts) {
      int[] a = ours.encode(t);
      long[] b = hf.encode(t).getIds();
      tokens += a.length;
      if (!same(a, b)) {
        if (mismatches++ < 3) {
          System.err.printf("ids differ for %s...%n  ours: %s%n  hf:   %s%n", abbreviate(t),
              abbreviate(Arrays.toString(a)), abbreviate(Arrays.toString(b)));
        }
      }
    }
    long chars = texts.stream().mapToLong(String::length).sum();
    System.err.printf(Locale.ROOT, "%d texts, %d chars, %d tokens; ids identical for %d of %d%n", texts.size(), chars,
        tokens, texts.size() - mismatches, texts.size());

    // 2. speed, the same protocol for both, one thread
    ToIntFunction<String> oursFn = s -> ours.encode(s).length;
    ToIntFunction<String> hfFn = s -> hf.encode(s).getIds().length;
    double oursFresh = pass(texts, freshOurs(tokDir));
    double hfFresh = pass(texts, freshHf(json));
    System.err.printf(Locale.ROOT, "fresh tokenizer, one pass: ours %.0f tokens/s, hf %.0f tokens/s%n", oursFresh,
        hfFresh);
    double oursBest = 0;
    double hfBest = 0;
    for (int round = 0; round < 3; round++) {
      double o = rounds(texts, oursFn, seconds);
      double h = rounds(texts, hfFn, seconds);
      System.err.printf(Locale.ROOT, "round %d: ours %.0f tokens/s, hf %.0f tokens/s%n", round + 1, o, h);
      oursBest = Math.max(oursBest, o);
      hfBest = Math.max(hfBest, h);
    }
    ObjectNode out = new ObjectMapper().createObjectNode();
    out.put("texts", texts.size());
    out.put("chars", chars);
    out.put("tokens", tokens);
    out.put("identical_ids", mismatches == 0);
    out.put("mismatches", mismatches);
    out.put("threads", 1);
    out.put("ours_tokens_per_s", Math.round(oursBest));
    out.put("hf_tokens_per_s", Math.round(hfBest));
    out.put("ratio", Math.round(100.0 * oursBest / hfBest) / 100.0);
    out.put("ours_fresh_tokens_per_s", Math.round(oursFresh));
    out.put("hf_fresh_tokens_per_s", Math.round(hfFresh));
    out.put("fresh_ratio", Math.round(100.0 * oursFresh / hfFresh) / 100.0);
    out.put("hf", "ai.djl.huggingface:tokenizers 0.38.0 (Rust tokenizers, one thread, encode per text)");
    out.put("tokenizer", json.toAbsolutePath().normalize().toString());
    out.put("data", data.toAbsolutePath().normalize().toString());
    System.out.println(out);
    hf.close();
    System.exit(mismatches == 0 ? 0 : 1);
  }

  private static HuggingFaceTokenizer hf(Path tokenizerJson) throws IOException {
    return HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson).optAddSpecialTokens(false)
        .optTruncation(false).optPadding(false).build();
  }

  private static ToIntFunction<String> freshOurs(Path dir) {
    Gpt2Tokenizer t = Gpt2Tokenizer.load(dir).orElseThrow();
    return s -> t.encode(s).length;
  }

  private static ToIntFunction<String> freshHf(Path json) throws IOException {
    HuggingFaceTokenizer t = hf(json);
    return s -> t.encode(s).getIds().length;
  }

  /** One pass over all texts; tokens/s. */
  private static double pass(List<String> texts, ToIntFunction<String> encode) {
    long t0 = System.nanoTime();
    long n = 0;
    for (String t : texts) {
      n += encode.applyAsInt(t);
    }
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  /** Passes for about {@code seconds}; tokens/s over all of them. */
  private static double rounds(List<String> texts, ToIntFunction<String> encode, double seconds) {
    long t0 = System.nanoTime();
    long end = t0 + (long) (seconds * 1e9);
    long n = 0;
    do {
      for (String t : texts) {
        n += encode.applyAsInt(t);
      }
    } while (System.nanoTime() < end);
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  private static boolean same(int[] a, long[] b) {
    if (a.length != b.length) {
      return false;
    }
    for (int i = 0; i < a.length; i++) {
      if (a[i] != b[i]) {
        return false;
      }
    }
    return true;
  }

  private static String abbreviate(String s) {
    s = s.replace("\n", "\\n");
    return s.length() <= 120 ? s : s.substring(0, 117) + "...";
  }

  private static List<String> readTexts(Path jsonl) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<String> texts = new ArrayList<>();
    for (String line : java.nio.file.Files.readAllLines(jsonl)) {
      if (!line.isBlank()) {
        var row = json.readTree(line);
        texts.add(row.has("text") && !row.has("body") ? row.get("text").asText()
            : row.path("subject").asText("") + "\n" + row.path("body").asText(""));
      }
    }
    return texts;
  }
}
