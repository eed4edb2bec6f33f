package dev.gptneo.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gptneo.engine.testing.Goldens;
import dev.gptneo.engine.testing.TinyCheckpoints;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/gptneo in-process: every command's JSONL fields, ids kept, bad lines, exit codes, files. */
class MainTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static String demo;

  @TempDir static Path tmp;

  @BeforeAll
  static void paths() {
    demo = Goldens.demoModel().toString();
  }

  /** The outcome of one run. */
  static final class Run {
    int status;
    String out;
    String err;

    List<JsonNode> lines() {
      List<JsonNode> l = new ArrayList<>();
      for (String s : out.split("\n")) {
        if (!s.isEmpty()) {
          try {
            l.add(JSON.readTree(s));
          } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + s, e);
          }
        }
      }
      return l;
    }
  }

  static Run run(String stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Run r = new Run();
    r.status = Main.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    r.out = out.toString(StandardCharsets.UTF_8);
    r.err = err.toString(StandardCharsets.UTF_8);
    return r;
  }

  static Set<String> fields(JsonNode n) {
    Set<String> s = new TreeSet<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      s.add(it.next());
    }
    return s;
  }

  static void assertFields(JsonNode n, String... expected) {
    assertEquals(new TreeSet<>(List.of(expected)), fields(n), n.toString());
  }

  static Run ok(String stdin, String... args) {
    Run r = run(stdin, args);
    assertEquals(0, r.status, r.err);
    return r;
  }

  @Test
  void generateFieldsIdsAndBadLines() {
    String in = String.join("\n",
        "{\"id\": \"a\", \"prompt\": \"Once upon a time\"}",
        "{\"id\": 7, \"text\": \"FREE!!! Click here to claim your prize\"}",
        "this is not json",
        "{\"id\": \"no-prompt\"}",
        "{\"id\": [1, 2], \"input_ids\": [464, 2068]}",
        "{\"id\": \"long\", \"prompt\": \"one two three four five six seven eight nine ten eleven twelve\"}",
        "");
    Run r = ok(in, "generate", "--model", demo, "--max-new-tokens", "20", "--max-input-tokens", "10");
    List<JsonNode> l = r.lines();
    assertEquals(6, l.size(), "one line out per line in: " + r.out);
    assertFields(l.get(0), "id", "text", "completion_ids", "finish_reason", "prompt_tokens", "completion_tokens");
    assertEquals("a", l.get(0).get("id").asText());
    assertEquals("length", l.get(0).get("finish_reason").asText());
    assertEquals(20, l.get(0).get("completion_tokens").asInt());
    assertEquals(20, l.get(0).get("completion_ids").size());
    assertEquals(4, l.get(0).get("prompt_tokens").asInt());
    assertTrue(l.get(0).get("text").asText().startsWith(", the man's eyes"));
    assertTrue(l.get(1).get("id").isInt() && l.get(1).get("id").asInt() == 7, "numeric id stays a number");
    assertEquals("eos", l.get(1).get("finish_reason").asText());
    JsonNode ids = l.get(1).get("completion_ids");
    assertEquals(50256, ids.get(ids.size() - 1).asInt(), "eos is in completion_ids");
    assertFields(l.get(2), "id", "error");
    assertTrue(l.get(2).get("id").isNull());
    assertTrue(l.get(2).get("error").asText().contains("line 3 is not valid JSON"));
    assertFields(l.get(3), "id", "error");
    assertEquals("no-prompt", l.get(3).get("id").asText());
    assertTrue(l.get(3).get("error").asText().contains("\"prompt\" or \"text\" (or \"input_ids\")"));
    assertEquals("[1,2]", l.get(4).get("id").toString(), "any JSON id is kept");
    assertEquals(2, l.get(4).get("prompt_tokens").asInt());
    assertFields(l.get(5), "id", "error");
    assertTrue(l.get(5).get("error").asText().contains("more than the limit of 10"), l.get(5).toString());
    assertTrue(l.get(1).get("text").asText().endsWith("<|endoftext|>"), "HF's decode keeps eos by default");

    // --skip-special-tokens: the same ids, the text without eos
    JsonNode skipped = ok(in, "generate", "--model", demo, "--max-new-tokens", "20", "--max-input-tokens", "10",
        "--skip-special-tokens").lines().get(1);
    assertEquals(ids, skipped.get("completion_ids"));
    String text = l.get(1).get("text").asText();
    assertEquals(text.substring(0, text.length() - "<|endoftext|>".length()), skipped.get("text").asText());

    // --num-return-sequences: the row's fields are its first sample, "sequences" has them all
    JsonNode three = ok(in, "generate", "--model", demo, "--max-new-tokens", "5", "--temperature", "0.8",
        "--num-return-sequences", "3").lines().get(0);
    JsonNode single = ok(in, "generate", "--model", demo, "--max-new-tokens", "5", "--temperature", "0.8")
        .lines().get(0);
    assertEquals(3, three.get("sequences").size());
    assertEquals(single.get("completion_ids"), three.get("completion_ids"));
    assertEquals(single.get("completion_ids"), three.get("sequences").get(0).get("completion_ids"));
    assertFields(three.get("sequences").get(1), "text", "completion_ids", "finish_reason", "completion_tokens");
    assertFalse(single.has("sequences"));
    JsonNode logprobs = ok(in, "generate", "--model", demo, "--max-new-tokens", "5", "--logprobs").lines().get(0);
    assertEquals(5, logprobs.get("token_logprobs").size());
    assertTrue(logprobs.get("token_logprobs").get(0).asDouble() < 0);
    assertFalse(single.has("token_logprobs"));
    Run greedy = run(in, "generate", "--model", demo, "--num-return-sequences", "2");
    assertEquals(2, greedy.status);
    assertTrue(greedy.err.contains("needs sampling"), greedy.err);
    // --min-p turns sampling on; at 1.0 only the most likely token survives: the greedy completion
    JsonNode plain = ok(in, "generate", "--model", demo, "--max-new-tokens", "6").lines().get(0);
    JsonNode minP = ok(in, "generate", "--model", demo, "--max-new-tokens", "6", "--min-p", "1", "--top-k", "0",
        "--seed", "3").lines().get(0);
    assertEquals(plain.get("completion_ids"), minP.get("completion_ids"));
    int first = plain.get("completion_ids").get(0).asInt();
    JsonNode suppressed = ok(in, "generate", "--model", demo, "--max-new-tokens", "6", "--suppress-tokens",
        first + ",50256", "--begin-suppress-tokens", "13").lines().get(0);
    for (JsonNode id : suppressed.get("completion_ids")) {
      assertTrue(id.asInt() != first && id.asInt() != 50256, suppressed.toString());
    }
    assertTrue(suppressed.get("completion_ids").get(0).asInt() != 13);
    JsonNode bad = ok(in, "generate", "--model", demo, "--max-new-tokens", "6", "--bad-words-ids",
        "[[" + first + "]]").lines().get(0);
    assertTrue(bad.get("completion_ids").get(0).asInt() != first);
    JsonNode biased = ok(in, "generate", "--model", demo, "--max-new-tokens", "3", "--sequence-bias", "[[[262], 1000]]",
        "--exponential-decay-length-penalty", "5,1.5").lines().get(0);
    assertEquals("[262,262,262]", biased.get("completion_ids").toString());
  }

  /**
   * A model folder with generation_config.json: its settings are the defaults, as in HF's
   * generate(); flags override them (--greedy over do_sample, --max-new-tokens over its own).
   */
  @Test
  void generationConfigJsonSetsTheDefaults() throws java.io.IOException {
    Path model = tmp.resolve("demo-with-generation-config");
    Files.createDirectories(model);
    try (java.util.stream.Stream<Path> files = Files.list(Path.of(demo))) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(f)) {
          Files.copy(f, model.resolve(f.getFileName()));
        }
      }
    }
    Files.writeString(model.resolve("generation_config.json"), "{\"repetition_penalty\": 1.3,"
        + " \"no_repeat_ngram_size\": 3, \"max_new_tokens\": 30, \"num_beams\": 1, \"bos_token_id\": 50256}");
    String in = "{\"id\": 1, \"prompt\": \"Once upon a time\"}\n";
    JsonNode fromFile = ok(in, "generate", "--model", model.toString()).lines().get(0);
    JsonNode explicit = ok(in, "generate", "--model", demo, "--max-new-tokens", "30", "--repetition-penalty", "1.3",
        "--no-repeat-ngram-size", "3").lines().get(0);
    assertEquals(explicit.get("completion_ids"), fromFile.get("completion_ids"), "the file's settings apply");
    JsonNode overridden = ok(in, "generate", "--model", model.toString(), "--repetition-penalty", "1.0",
        "--no-repeat-ngram-size", "0", "--max-new-tokens", "20").lines().get(0);
    JsonNode plain = ok(in, "generate", "--model", demo, "--max-new-tokens", "20").lines().get(0);
    assertEquals(plain.get("completion_ids"), overridden.get("completion_ids"), "flags override the file");

    Files.writeString(model.resolve("generation_config.json"), "{\"do_sample\": true, \"top_k\": 5}");
    JsonNode sampled = ok(in, "generate", "--model", model.toString(), "--max-new-tokens", "8", "--seed", "4")
        .lines().get(0);
    JsonNode sampledExplicit = ok(in, "generate", "--model", demo, "--max-new-tokens", "8", "--seed", "4",
        "--top-k", "5").lines().get(0);
    assertEquals(sampledExplicit.get("completion_ids"), sampled.get("completion_ids"), "do_sample from the file");
    JsonNode greedy = ok(in, "generate", "--model", model.toString(), "--max-new-tokens", "8", "--greedy")
        .lines().get(0);
    assertEquals(ok(in, "generate", "--model", demo, "--max-new-tokens", "8").lines().get(0).get("completion_ids"),
        greedy.get("completion_ids"), "--greedy overrides do_sample");

    // max_length counts the prompt (4 tokens here), as in HF; --max-new-tokens wins over it
    Files.writeString(model.resolve("generation_config.json"), "{\"max_length\": 11}");
    assertEquals(7, ok(in, "generate", "--model", model.toString()).lines().get(0).get("completion_tokens").asInt());
    assertEquals(3, ok(in, "generate", "--model", model.toString(), "--max-new-tokens", "3").lines().get(0)
        .get("completion_tokens").asInt());
    assertEquals(2, ok(in, "generate", "--model", demo, "--max-length", "6").lines().get(0)
        .get("completion_tokens").asInt(), "--max-length as HF's max_length");
    assertEquals(5, ok(in, "generate", "--model", demo, "--max-length", "6", "--max-new-tokens", "5").lines().get(0)
        .get("completion_tokens").asInt(), "--max-new-tokens wins");
  }

  @Test
  void generateFlags() {
    String in = "{\"id\": 1, \"prompt\": \"Once upon a time\"}\n";
    JsonNode greedy = ok(in, "generate", "--model", demo, "--max-new-tokens", "30").lines().get(0);
    JsonNode stop = ok(in, "generate", "--model", demo, "--max-new-tokens", "30", "--stop", "eyes", "--stop", "zebra")
        .lines().get(0);
    assertEquals("stop", stop.get("finish_reason").asText());
    assertTrue(stop.get("text").asText().endsWith("eyes"), stop.toString());
    JsonNode min = ok(in, "generate", "--model", demo, "--max-new-tokens=3", "--min-new-tokens", "3").lines().get(0);
    assertEquals(3, min.get("completion_tokens").asInt());
    String[] sample = {"generate", "--model", demo, "--max-new-tokens", "8", "--temperature", "0.9", "--top-p", "0.95",
        "--top-k", "40", "--seed", "5"};
    JsonNode s1 = ok(in, sample).lines().get(0);
    JsonNode s2 = ok("{\"id\": 0, \"prompt\": \"Hi all\"}\n" + in, sample).lines().get(1);
    assertEquals(s1.get("completion_ids"), s2.get("completion_ids"), "seeded sampling is batch independent");
    String[] greedyFlag = {"generate", "--model", demo, "--max-new-tokens", "30", "--temperature", "0.9", "--greedy"};
    assertEquals(greedy.get("completion_ids"), ok(in, greedyFlag).lines().get(0).get("completion_ids"),
        "--greedy wins over sampling flags");
    JsonNode penalized = ok(in, "generate", "--model", demo, "--max-new-tokens", "30", "--repetition-penalty", "1.3",
        "--no-repeat-ngram-size", "3").lines().get(0);
    assertFalse(penalized.get("completion_ids").equals(greedy.get("completion_ids")));
    int stopId = greedy.get("completion_ids").get(2).asInt();
    JsonNode stopToken = ok(in, "generate", "--model", demo, "--max-new-tokens", "30", "--stop-token-id",
        Integer.toString(stopId)).lines().get(0);
    assertEquals("stop", stopToken.get("finish_reason").asText());
    JsonNode eosToken = ok(in, "generate", "--model", demo, "--max-new-tokens", "30", "--eos-token-id",
        "4000," + stopId).lines().get(0);
    assertEquals("eos", eosToken.get("finish_reason").asText(), "--eos-token-id replaces the model's eos");
    assertEquals(stopToken.get("completion_ids"), eosToken.get("completion_ids"));
    JsonNode noEos = ok(in, "generate", "--model", demo, "--max-new-tokens", "30", "--eos-token-id",
        Integer.toString(stopId), "--min-new-tokens", "30").lines().get(0);
    for (JsonNode id : noEos.get("completion_ids")) {
      assertTrue(id.asInt() != stopId, "--min-new-tokens bans the given eos");
    }
    Run badEos = run(in, "generate", "--model", demo, "--eos-token-id", "x");
    assertEquals(2, badEos.status);
    assertTrue(badEos.err.contains("--eos-token-id must be token ids"), badEos.err);
    JsonNode beams = ok(in, "generate", "--model", demo, "--max-new-tokens", "12", "--num-beams", "3").lines().get(0);
    int[] beamIds = dev.gptneo.engine.testing.Engines.get(Path.of(demo), dev.gptneo.engine.api.EngineOptions.Kernels.AUTO)
        .generate(java.util.List.of(dev.gptneo.engine.api.Input.text("Once upon a time")),
            dev.gptneo.engine.generate.GenerationParams.builder().maxNewTokens(12).numBeams(3).build(),
            dev.gptneo.engine.api.InputPolicy.DEFAULT).get(0).completionIds;
    assertEquals(java.util.Arrays.toString(beamIds), beams.get("completion_ids").toString().replace(",", ", "),
        "--num-beams runs the engine's beam search");
    JsonNode beamSample = ok(in, "generate", "--model", demo, "--max-new-tokens", "6", "--num-beams", "3",
        "--temperature", "0.7").lines().get(0); // HF's beam sampling
    assertTrue(beamSample.get("completion_tokens").asInt() == 6 || beamSample.get("finish_reason").asText()
        .equals("eos"), beamSample.toString());
    Run bad = run(in, "generate", "--model", demo, "--num-beams", "3", "--stop-token-id", "13");
    assertEquals(2, bad.status);
    assertTrue(bad.err.contains("not supported with num-beams > 1"), bad.err);
    JsonNode left = ok(in, "generate", "--model", demo, "--max-new-tokens", "2", "--max-input-tokens", "2",
        "--truncation", "left").lines().get(0);
    assertEquals(2, left.get("prompt_tokens").asInt());
  }

  @Test
  void classifyWithTheHeadAndZeroShot() {
    String in = "{\"id\": \"s\", \"text\": \"FREE!!! Click here to claim your prize\"}\n{\"id\": \"e\", \"text\": \"\"}\n";
    List<JsonNode> head = ok(in, "classify", "--model", demo).lines();
    assertFields(head.get(0), "id", "label", "probabilities", "logits");
    assertEquals("spam", head.get(0).get("label").asText());
    assertEquals(Set.of("ham", "spam"), fields(head.get(0).get("probabilities")));
    assertEquals(2, head.get(0).get("logits").size());
    assertFields(head.get(1), "id", "error");
    assertTrue(head.get(1).get("error").asText().contains("empty"));
    JsonNode zs = ok(in, "classify", "--model", demo, "--labels", "spam, ham ,news").lines().get(0);
    assertFields(zs, "id", "label", "probabilities", "logits");
    List<String> order = new ArrayList<>();
    zs.get("probabilities").fieldNames().forEachRemaining(order::add);
    assertEquals(List.of("spam", "ham", "news"), order, "labels in the order given");
    double sum = 0;
    for (JsonNode p : zs.get("probabilities")) {
      sum += p.asDouble();
    }
    assertEquals(1.0, sum, 1e-9);
  }

  @Test
  void tokenClassifyAndAnswerOnIds() {
    Path heads = TinyCheckpoints.write(tmp.resolve("heads"), TinyCheckpoints.spec().with(s -> {
      s.tokenLabels = 5;
      s.qa = true;
    }));
    JsonNode tc = ok("{\"id\": 1, \"input_ids\": [1, 2, 3]}\n", "token-classify", "--model", heads.toString())
        .lines().get(0);
    assertFields(tc, "id", "labels", "logits");
    assertEquals(3, tc.get("labels").size());
    assertTrue(tc.get("labels").get(0).asText().startsWith("tag"), tc.toString());
    assertEquals(5, tc.get("logits").get(0).size());
    JsonNode idsOnly = ok("{\"id\": 2, \"input_ids\": [5, 6, 7, 8]}\n", "answer", "--model", heads.toString())
        .lines().get(0);
    assertFields(idsOnly, "id", "answer", "start", "end", "score", "start_logits", "end_logits");
    assertTrue(idsOnly.get("answer").isNull(), "no tokenizer: no answer text, token offsets only");
    assertTrue(idsOnly.get("start").asInt() <= idsOnly.get("end").asInt());
    assertEquals(4, idsOnly.get("start_logits").size());
  }

  @Test
  void answerEmbedScoreTokenize() {
    Path qa = TinyCheckpoints.write(tmp.resolve("qa"), TinyCheckpoints.spec().with(s -> {
      s.vocab = 50257;
      s.eos = 50256;
      s.qa = true;
    }));
    TinyCheckpoints.copyTokenizer(Goldens.demoModel(), qa);
    String context = "The meeting is on Tuesday at noon in room 4.";
    List<JsonNode> ans = ok("{\"id\": \"q\", \"question\": \"When?\", \"context\": \"" + context + "\"}\n"
        + "{\"id\": \"bad\", \"question\": \"When?\"}\n", "answer", "--model", qa.toString(), "--max-answer-tokens", "4")
        .lines();
    assertFields(ans.get(0), "id", "answer", "start", "end", "score", "start_logits", "end_logits");
    assertEquals(dev.gptneo.engine.testing.CodePoints.span(context, ans.get(0).get("start").asInt(), ans.get(0).get("end").asInt()),
        ans.get(0).get("answer").asText());
    assertFields(ans.get(1), "id", "error");
    assertTrue(ans.get(1).get("error").asText().contains("\"question\" and \"context\""));

    String in = "{\"id\": 1, \"text\": \"Hello world, how are you?\"}\n";
    JsonNode mean = ok(in, "embed", "--model", demo).lines().get(0);
    assertFields(mean, "id", "embedding");
    assertEquals(128, mean.get("embedding").size());
    JsonNode last = ok(in, "embed", "--model", demo, "--pooling", "last").lines().get(0);
    assertFalse(mean.get("embedding").equals(last.get("embedding")));

    JsonNode score = ok(in + "{\"id\": 2, \"text\": \"Hi\"}\n", "score", "--model", demo).lines().get(0);
    assertFields(score, "id", "token_logprobs", "mean_logprob", "perplexity");
    assertEquals(Math.exp(-score.get("mean_logprob").asDouble()), score.get("perplexity").asDouble(), 1e-9);
    JsonNode one = ok("{\"id\": 2, \"text\": \"Hi\"}\n", "score", "--model", demo).lines().get(0);
    assertTrue(one.get("mean_logprob").isNull() && one.get("token_logprobs").size() == 0);

    JsonNode tok = ok("{\"id\": \"t\", \"text\": \"Hello world<|endoftext|>\"}\n", "tokenize", "--model", demo)
        .lines().get(0);
    assertFields(tok, "id", "input_ids");
    assertEquals("[15496,995,50256]", tok.get("input_ids").toString());
  }

  @Test
  void badInputFieldsAreLineErrors() {
    String in = String.join("\n",
        "{\"id\": 1, \"text\": 5}",
        "{\"id\": 2, \"input_ids\": [1.5, 2]}",
        "{\"id\": 3, \"input_ids\": \"1 2\"}",
        "{\"id\": 4, \"input_ids\": []}",
        "[1, 2]",
        "",
        "{\"id\": 7, \"text\": \"fine\"}");
    List<JsonNode> l = ok(in, "tokenize", "--model", demo).lines();
    assertEquals(7, l.size());
    assertTrue(l.get(0).get("error").asText().contains("\"text\" must be a string"), l.get(0).toString());
    assertTrue(l.get(1).get("error").asText().contains("must hold integers"), l.get(1).toString());
    assertTrue(l.get(2).get("error").asText().contains("must be an array of integers"), l.get(2).toString());
    assertTrue(l.get(3).get("error").asText().contains("empty"), l.get(3).toString());
    assertTrue(l.get(4).get("error").asText().contains("line 5 is not a JSON object"), l.get(4).toString());
    assertTrue(l.get(5).get("error").asText().contains("line 6 is empty"), l.get(5).toString());
    assertEquals("[38125]", l.get(6).get("input_ids").toString());
    for (int i = 0; i < 6; i++) {
      assertFields(l.get(i), "id", "error");
    }
  }

  @Test
  void info() {
    Run r = ok("", "info", "--model", demo);
    List<JsonNode> l = r.lines();
    assertEquals(1, l.size());
    JsonNode i = l.get(0);
    assertEquals("gpt_neo", i.get("model_type").asText());
    assertEquals("F16", i.get("weight_dtype").asText());
    assertEquals(6, i.get("num_layers").asInt());
    assertEquals(128, i.get("hidden_size").asInt());
    assertEquals(512, i.get("intermediate_size").asInt());
    assertTrue(i.get("tokenizer").asBoolean());
    assertTrue(i.get("lm_head_tied").asBoolean());
    assertEquals("[\"ham\",\"spam\"]", i.get("sequence_classification_labels").toString());
    assertEquals(6, i.get("attention_layers").size());
    assertTrue(i.get("tasks").has("generate"));
  }

  @Test
  void exitCodesAndUsage() {
    Run none = run("");
    assertEquals(2, none.status);
    assertTrue(none.err.contains("usage: bin/gptneo"));
    Run help = run("", "--help");
    assertEquals(0, help.status);
    assertTrue(help.out.contains("usage: bin/gptneo") && help.out.contains("token-classify"));
    for (String[] bad : new String[][] {
        {"generate", "--model", demo, "--bogus"},
        {"generate", "--model", demo, "--max-new-tokens", "zero"},
        {"generate", "--model", demo, "--max-new-tokens", "0"},
        {"generate", "--model", demo, "--temperature", "0"},
        {"generate", "--model", demo, "--min-p", "2"},
        {"generate", "--model", demo, "--eta-cutoff", "1"},
        {"generate", "--model", demo, "--suppress-tokens", "1,x"},
        {"generate", "--model", demo, "--bad-words-ids", "[1, 2]"},
        {"generate", "--model", demo, "--bad-words-ids", "[[]]"},
        {"generate", "--model", demo, "--sequence-bias", "[[5, 1.0]]"},
        {"generate", "--model", demo, "--exponential-decay-length-penalty", "10"},
        {"generate", "--model", demo, "--max-new-tokens"},
        {"classify", "--model", demo, "--stop", "x"},
        {"tokenize", "--model", demo, "--truncation", "middle"},
        {"embed", "--model", demo, "--pooling", "max"},
        {"classify", "--model", demo, "--weights", "disk"},
        {"classify", "--model", demo, "--labels", "spam,ham,spam"},
        {"classify", "--model", demo, "--labels", " , "},
        {"generate", "--model", demo, "--model", demo},
        {"generate", "--model", demo, "stray"},
        {"generate"},
        {"frobnicate", "--model", demo}}) {
      Run r = run("", bad);
      assertEquals(2, r.status, String.join(" ", bad) + ": " + r.err);
      assertTrue(r.err.startsWith("gptneo: ") && r.err.contains("usage: bin/gptneo"), r.err);
      assertTrue(r.out.isEmpty());
    }
    assertTrue(run("", "generate", "--model", demo, "--bogus").err.contains("unknown flag --bogus"));
    assertTrue(run("", "generate").err.contains("--model DIR is required"));
  }

  @Test
  void modelProblemsExitWithStatusOne() throws Exception {
    Path missing = tmp.resolve("nope");
    Run r = run("", "generate", "--model", missing.toString());
    assertEquals(1, r.status);
    assertTrue(r.err.contains("gptneo: model folder " + missing + " does not exist"), r.err);
    assertFalse(r.err.contains("usage"), "not a usage error");
    for (String[] command : List.of(new String[] {"info", "--model", "gptneo-tests/no-such-model"},
        new String[] {"bench", "--model", "gptneo-tests/no-such-model", "--task", "prefill"})) {
      Run hub = run("", command); // a Hub id HF's cache does not hold: never downloaded
      assertEquals(1, hub.status, hub.err);
      assertTrue(hub.err.contains("model gptneo-tests/no-such-model is not a folder, and the Hugging Face cache")
          && hub.err.contains("nothing is downloaded at run time"), hub.err);
    }
    Path pickle = tmp.resolve("pickle");
    TinyCheckpoints.writeConfig(pickle, TinyCheckpoints.config(TinyCheckpoints.spec()));
    Files.write(pickle.resolve("pytorch_model.bin"), new byte[] {1, 2, 3});
    Run p = run("", "info", "--model", pickle.toString());
    assertEquals(1, p.status);
    assertTrue(p.err.contains("pytorch_model.bin") && p.err.contains("safe_serialization"), p.err);
    // a task the model cannot do
    Run noHead = run("{\"id\": 1, \"input_ids\": [1, 2]}\n", "classify", "--model",
        TinyCheckpoints.write(tmp.resolve("lm-only"), TinyCheckpoints.spec()).toString());
    assertEquals(1, noHead.status);
    assertTrue(noHead.err.contains("no sequence classification head"), noHead.err);
    Run cuda = run("", "info", "--model", demo, "--device", "cuda");
    assertEquals(1, cuda.status, cuda.err);
    assertTrue(cuda.err.contains("cuda"), cuda.err);
  }

  @Test
  void inputAndOutputFiles() throws Exception {
    Path in = tmp.resolve("in.jsonl");
    Path out = tmp.resolve("out.jsonl");
    Files.writeString(in, "{\"id\": 1, \"text\": \"Hello\"}\n{\"id\": 2, \"text\": \"caf\u00e9 \ud83d\ude00\"}\n");
    Run r = ok("ignored stdin", "tokenize", "--model", demo, "--input", in.toString(), "--output", out.toString());
    assertTrue(r.out.isEmpty(), "results go to the file, not stdout");
    List<String> lines = Files.readAllLines(out);
    assertEquals(2, lines.size());
    assertEquals("{\"id\":1,\"input_ids\":[15496]}", lines.get(0));
    assertTrue(lines.get(1).startsWith("{\"id\":2,\"input_ids\":["));
    Run dash = ok("{\"id\": 3, \"text\": \"Hello\"}\n", "tokenize", "--model", demo, "--input", "-", "--output", "-");
    assertEquals("{\"id\":3,\"input_ids\":[15496]}\n", dash.out);
    Run missing = run("", "tokenize", "--model", demo, "--input", tmp.resolve("absent.jsonl").toString());
    assertEquals(1, missing.status);
    assertTrue(missing.err.contains("absent.jsonl"), missing.err);
  }

  @Test
  void batchSizeDoesNotChangeResults() {
    StringBuilder in = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      in.append("{\"id\": ").append(i).append(", \"prompt\": \"Line ").append(i).append(" of the test\"}\n");
    }
    String one = ok(in.toString(), "generate", "--model", demo, "--max-new-tokens", "4", "--batch-size", "1").out;
    String many = ok(in.toString(), "generate", "--model", demo, "--max-new-tokens", "4", "--batch-size", "3",
        "--threads", "1").out;
    assertEquals(one, many);
    assertEquals(5, one.split("\n").length);
  }

  /** --weights picks where the CPU kernels read weights; the demo's labels do not depend on it. */
  @Test
  void weightsFlag() {
    String in = "{\"id\": 1, \"text\": \"WIN a FREE cruise now\"}\n{\"id\": 2, \"text\": \"Lunch at noon?\"}\n";
    List<JsonNode> p = ok(in, "classify", "--model", demo, "--weights", "packed").lines();
    List<JsonNode> m = ok(in, "classify", "--model", demo, "--weights", "mapped").lines();
    assertEquals(2, m.size());
    for (int i = 0; i < 2; i++) {
      assertEquals(p.get(i).get("label"), m.get(i).get("label"));
    }
    assertTrue(run("", "classify", "--model", demo, "--weights", "disk").err.contains("weights must be auto, packed or mapped"));
  }
}
