package dev.gptneo.engine.arrow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.api.GenerateResult;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.api.Truncation;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Engines;
import dev.gptneo.engine.testing.Goldens;
import dev.gptneo.engine.testing.TinyCheckpoints;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.MapVector;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.types.pojo.Field;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Arrow batch API: text and token-id columns, nulls, error rows, each task's output schema,
 * and that every byte from the caller's allocator comes back once the outputs are closed.
 */
class ArrowTasksTest {
  static final String SPAM = "FREE!!! Click here to claim your prize";
  static final String HAM = "Hi all,\nI have a question about the new kernel";

  BufferAllocator allocator;

  @BeforeEach
  void open() {
    allocator = new RootAllocator();
  }

  @AfterEach
  void noLeak() {
    assertEquals(0, allocator.getAllocatedMemory(), "bytes still allocated");
    allocator.close(); // throws if any buffer is still open
  }

  static Engine demo() {
    return Engines.get(Goldens.demoModel(), EngineOptions.Kernels.AUTO);
  }

  VarCharVector texts(String... values) {
    VarCharVector v = new VarCharVector("text", allocator);
    v.allocateNew();
    for (int i = 0; i < values.length; i++) {
      if (values[i] == null) {
        v.setNull(i);
      } else {
        v.setSafe(i, values[i].getBytes(StandardCharsets.UTF_8));
      }
    }
    v.setValueCount(values.length);
    return v;
  }

  /** A list<int32> column (or list<int64> when {@code wide}). */
  ListVector ids(boolean wide, int[]... rows) {
    ListVector v = ListVector.empty("input_ids", allocator);
    UnionListWriter w = v.getWriter();
    for (int i = 0; i < rows.length; i++) {
      w.setPosition(i);
      if (rows[i] == null) {
        w.writeNull();
        continue;
      }
      w.startList();
      for (int id : rows[i]) {
        if (wide) {
          w.bigInt().writeBigInt(id);
        } else {
          w.integer().writeInt(id);
        }
      }
      w.endList();
    }
    v.setValueCount(rows.length);
    return v;
  }

  static List<String> schema(VectorSchemaRoot root) {
    return root.getSchema().getFields().stream().map(ArrowTasksTest::describe).collect(Collectors.toList());
  }

  static String describe(Field f) {
    String children = f.getChildren().isEmpty() ? ""
        : f.getChildren().stream().map(ArrowTasksTest::describe).collect(Collectors.joining(",", "<", ">"));
    return f.getName() + ":" + f.getType().getTypeID().name().toLowerCase() + children;
  }

  static String string(FieldVector v, int row) {
    return v.isNull(row) ? null : v.getObject(row).toString();
  }

  static List<String> strings(ListVector v, int row) {
    return ((List<?>) v.getObject(row)).stream().map(Object::toString).collect(Collectors.toList());
  }

  static List<Integer> intList(ListVector v, int row) {
    return v.isNull(row) ? null : ((List<?>) v.getObject(row)).stream().map(o -> ((Number) o).intValue())
        .collect(Collectors.toList());
  }

  @Test
  void generateFromTextsWithNullsAndErrorRows() {
    GenerationParams params = GenerationParams.builder().maxNewTokens(3).build();
    try (VarCharVector in = texts(HAM, null, "", SPAM);
        VectorSchemaRoot out = ArrowTasks.generate(demo(), in, params, InputPolicy.DEFAULT, allocator)) {
      assertEquals(List.of("text:utf8", "completion_ids:list<$data$:int>", "finish_reason:utf8", "prompt_tokens:int",
          "completion_tokens:int", "error:utf8", "sequence_texts:list<$data$:utf8>",
          "sequence_finish_reasons:list<$data$:utf8>", "sequence_completion_tokens:list<$data$:int>",
          "token_logprobs:list<$data$:floatingpoint>",
          "sequence_token_logprobs:list<$data$:list<$data$:floatingpoint>>"),
          schema(out));
      assertEquals(4, out.getRowCount());
      List<GenerateResult> expected = demo().generate(List.of(Input.text(HAM), Input.text(SPAM)), params,
          InputPolicy.DEFAULT);
      for (int[] pair : new int[][] {{0, 0}, {3, 1}}) {
        int row = pair[0];
        GenerateResult r = expected.get(pair[1]);
        assertEquals(r.text, string(out.getVector("text"), row));
        assertEquals(java.util.Arrays.stream(r.completionIds).boxed().collect(Collectors.toList()),
            intList((ListVector) out.getVector("completion_ids"), row));
        assertEquals("length", string(out.getVector("finish_reason"), row));
        assertEquals(r.promptTokens, ((IntVector) out.getVector("prompt_tokens")).get(row));
        assertEquals(3, ((IntVector) out.getVector("completion_tokens")).get(row));
        assertTrue(out.getVector("error").isNull(row));
      }
      for (FieldVector v : out.getFieldVectors()) {
        assertTrue(v.isNull(1), "null input row: every column null (" + v.getName() + ")");
      }
      assertTrue(string(out.getVector("error"), 2).contains("empty"));
      for (String col : new String[] {"text", "completion_ids", "finish_reason", "prompt_tokens", "completion_tokens"}) {
        assertTrue(out.getVector(col).isNull(2), "error row: " + col + " is null");
      }
    }
  }

  /** num_return_sequences: each sequence in the sequence_* lists, the first also in the row's own columns. */
  @Test
  void generateWithSeveralSequencesPerRow() {
    GenerationParams three = GenerationParams.builder().maxNewTokens(4).doSample(true).seed(3).numReturnSequences(3)
        .logprobs(true).build();
    GenerationParams one = three.toBuilder().numReturnSequences(1).build();
    try (VarCharVector in = texts(HAM, SPAM);
        VectorSchemaRoot out = ArrowTasks.generate(demo(), in, List.of(three, one), InputPolicy.DEFAULT, allocator)) {
      GenerateResult r = demo().generate(List.of(Input.text(HAM)), three, InputPolicy.DEFAULT).get(0);
      assertEquals(r.text, string(out.getVector("text"), 0));
      assertEquals(r.sequences.stream().map(s -> s.text).collect(Collectors.toList()),
          strings((ListVector) out.getVector("sequence_texts"), 0));
      assertEquals(List.of("length", "length", "length"), strings((ListVector) out.getVector("sequence_finish_reasons"), 0));
      assertEquals(List.of(4, 4, 4), intList((ListVector) out.getVector("sequence_completion_tokens"), 0));
      for (String col : new String[] {"sequence_texts", "sequence_finish_reasons", "sequence_completion_tokens",
          "sequence_token_logprobs"}) {
        assertTrue(out.getVector(col).isNull(1), "one sequence: " + col + " is null");
      }
      List<?> perSequence = (List<?>) out.getVector("sequence_token_logprobs").getObject(0);
      assertEquals(3, perSequence.size());
      for (int j = 0; j < 3; j++) {
        assertEquals(java.util.Arrays.stream(r.sequences.get(j).tokenLogprobs).boxed().collect(Collectors.toList()),
            perSequence.get(j));
      }
      assertEquals(perSequence.get(0), out.getVector("token_logprobs").getObject(0));
      assertEquals(4, ((List<?>) out.getVector("token_logprobs").getObject(1)).size(), "the one-sequence row");
    }
  }

  @Test
  void tokenIdListsOfInt32AndInt64() {
    int[] prompt = demo().tokenizer().orElseThrow().encode(HAM);
    GenerationParams params = GenerationParams.builder().maxNewTokens(2).build();
    GenerateResult expected = demo().generate(List.of(Input.ids(prompt)), params, InputPolicy.DEFAULT).get(0);
    for (boolean wide : new boolean[] {false, true}) {
      try (ListVector in = ids(wide, prompt, null, new int[] {1, 60000}, new int[0]);
          VectorSchemaRoot out = ArrowTasks.generate(demo(), in, params, InputPolicy.DEFAULT, allocator)) {
        assertEquals(java.util.Arrays.stream(expected.completionIds).boxed().collect(Collectors.toList()),
            intList((ListVector) out.getVector("completion_ids"), 0));
        assertTrue(out.getVector("error").isNull(1) && out.getVector("text").isNull(1));
        assertTrue(string(out.getVector("error"), 2).contains("token id 60000 is outside the vocabulary"));
        assertTrue(string(out.getVector("error"), 3).contains("empty"));
      }
    }
  }

  @Test
  void inputsRejectsOtherColumnTypesAndNonIntegerIds() {
    try (Float8Vector f = new Float8Vector("x", allocator)) {
      f.allocateNew(1);
      f.setValueCount(1);
      String m = assertThrows(IllegalArgumentException.class, () -> ArrowTasks.inputs(f)).getMessage();
      assertTrue(m.contains("'x'") && m.contains("utf8 texts or a list of integer token ids"), m);
    }
    try (ListVector v = ListVector.empty("ids", allocator)) {
      UnionListWriter w = v.getWriter();
      w.setPosition(0);
      w.startList();
      w.bigInt().writeBigInt(1L << 33);
      w.endList();
      v.setValueCount(1);
      String m = assertThrows(IllegalArgumentException.class, () -> ArrowTasks.inputs(v)).getMessage();
      assertTrue(m.contains("8589934592") && m.contains("row 0"), m);
    }
    try (ListVector v = ListVector.empty("ids", allocator)) {
      UnionListWriter w = v.getWriter();
      w.setPosition(0);
      w.startList();
      w.float8().writeFloat8(1.5);
      w.endList();
      v.setValueCount(1);
      assertThrows(IllegalArgumentException.class, () -> ArrowTasks.inputs(v));
    }
  }

  @Test
  void classifyWithTheHeadAndZeroShot() {
    try (VarCharVector in = texts(SPAM, null, HAM, "")) {
      try (VectorSchemaRoot out = ArrowTasks.classify(demo(), in, null, InputPolicy.DEFAULT, allocator)) {
        assertEquals(List.of("label:utf8", "probabilities:map<entries:struct<key:utf8,value:floatingpoint>>",
            "logits:list<$data$:floatingpoint>", "input_tokens:int", "error:utf8"), schema(out));
        assertEquals("spam", string(out.getVector("label"), 0));
        assertEquals("ham", string(out.getVector("label"), 2));
        MapVector probs = (MapVector) out.getVector("probabilities");
        List<?> entries = (List<?>) probs.getObject(0);
        assertEquals(2, entries.size());
        double sum = 0;
        for (Object e : entries) {
          sum += ((Number) ((Map<?, ?>) e).get("value")).doubleValue();
        }
        assertEquals(1.0, sum, 1e-9);
        assertEquals("ham", ((Map<?, ?>) entries.get(0)).get("key").toString());
        assertEquals(2, ((List<?>) out.getVector("logits").getObject(0)).size());
        assertTrue(out.getVector("label").isNull(1) && probs.isNull(1));
        assertTrue(string(out.getVector("error"), 3).contains("empty"));
        assertTrue(probs.isNull(3));
      }
      try (VectorSchemaRoot zs = ArrowTasks.classify(demo(), in, List.of("spam", "ham", "news"), InputPolicy.DEFAULT,
          allocator)) {
        assertEquals(3, ((List<?>) zs.getVector("probabilities").getObject(0)).size());
        assertEquals(3, ((List<?>) zs.getVector("logits").getObject(2)).size());
        assertTrue(zs.getVector("label").isNull(1));
      }
    }
  }

  @Test
  void embedScoreAndTokenize() {
    try (VarCharVector in = texts(HAM, null, "", "word")) {
      try (VectorSchemaRoot out = ArrowTasks.embed(demo(), in, InputPolicy.DEFAULT, allocator)) {
        assertEquals(List.of("embedding:list<$data$:floatingpoint>", "last_token_embedding:list<$data$:floatingpoint>",
            "input_tokens:int", "error:utf8"), schema(out));
        ListVector mean = (ListVector) out.getVector("embedding");
        assertEquals(128, ((List<?>) mean.getObject(0)).size());
        assertTrue(mean.getDataVector() instanceof Float4Vector);
        assertEquals(mean.getObject(3), out.getVector("last_token_embedding").getObject(3), "one token");
        assertTrue(mean.isNull(1) && mean.isNull(2));
        assertTrue(string(out.getVector("error"), 2).contains("empty"));
      }
      try (VectorSchemaRoot out = ArrowTasks.score(demo(), in, InputPolicy.DEFAULT, allocator)) {
        assertEquals(List.of("token_logprobs:list<$data$:floatingpoint>", "mean_logprob:floatingpoint",
            "perplexity:floatingpoint", "input_tokens:int", "error:utf8"), schema(out));
        Float8Vector mean = (Float8Vector) out.getVector("mean_logprob");
        Float8Vector ppl = (Float8Vector) out.getVector("perplexity");
        assertEquals(Math.exp(-mean.get(0)), ppl.get(0), 1e-9);
        assertTrue(mean.isNull(3) && ppl.isNull(3), "one token: no mean, no perplexity");
        assertEquals(0, ((List<?>) out.getVector("token_logprobs").getObject(3)).size());
        assertTrue(out.getVector("error").isNull(3));
      }
      try (VectorSchemaRoot out = ArrowTasks.tokenize(demo(), in, new InputPolicy(3, Truncation.RIGHT), allocator)) {
        assertEquals(List.of("input_ids:list<$data$:int>", "token_count:int", "error:utf8"), schema(out));
        int[] ids = demo().tokenizer().orElseThrow().encode(HAM);
        assertEquals(List.of(ids[0], ids[1], ids[2]), intList((ListVector) out.getVector("input_ids"), 0));
        assertEquals(3, ((IntVector) out.getVector("token_count")).get(0));
        assertTrue(out.getVector("token_count").isNull(1));
      }
    }
  }

  @Test
  void tokenClassifyOnIds(@TempDir Path tmp) {
    Path dir = TinyCheckpoints.write(tmp.resolve("token-cls"), TinyCheckpoints.spec().with(s -> s.tokenLabels = 5));
    try (Engine e = Engine.open(dir, EngineOptions.builder().threads(1).build());
        ListVector in = ids(false, new int[] {1, 2, 3}, null, new int[] {5000});
        VectorSchemaRoot out = ArrowTasks.tokenClassify(e, in, InputPolicy.DEFAULT, allocator)) {
      assertEquals(List.of("tokens:list<$data$:utf8>", "labels:list<$data$:utf8>", "scores:list<$data$:floatingpoint>",
          "input_tokens:int", "error:utf8"), schema(out));
      assertTrue(out.getVector("tokens").isNull(0), "no tokenizer: no token texts");
      List<?> labels = (List<?>) out.getVector("labels").getObject(0);
      assertEquals(3, labels.size());
      assertTrue(labels.get(0).toString().startsWith("tag"));
      assertEquals(3, ((List<?>) out.getVector("scores").getObject(0)).size());
      assertTrue(out.getVector("labels").isNull(1));
      assertTrue(string(out.getVector("error"), 2).contains("outside the vocabulary"));
    }
  }

  @Test
  void answerFromQuestionAndContextColumns(@TempDir Path tmp) {
    Path dir = TinyCheckpoints.write(tmp.resolve("qa"), TinyCheckpoints.spec().with(s -> {
      s.vocab = 50257;
      s.eos = 50256;
      s.qa = true;
    }));
    TinyCheckpoints.copyTokenizer(Goldens.demoModel(), dir);
    String context = "The meeting is on Tuesday at noon in room 4.";
    try (Engine e = Engine.open(dir, EngineOptions.builder().threads(1).build());
        VarCharVector q = texts("When is the meeting?", "Where?", null, "Who?");
        VarCharVector c = texts(context, null, context, "");
        VectorSchemaRoot out = ArrowTasks.answer(e, q, c, 8, InputPolicy.DEFAULT, allocator)) {
      assertEquals(List.of("answer:utf8", "start:int", "end:int", "score:floatingpoint", "input_tokens:int", "error:utf8"), schema(out));
      int start = ((IntVector) out.getVector("start")).get(0);
      int end = ((IntVector) out.getVector("end")).get(0);
      assertEquals(dev.gptneo.engine.testing.CodePoints.span(context, start, end), string(out.getVector("answer"), 0));
      double score = ((Float8Vector) out.getVector("score")).get(0);
      assertTrue(score > 0 && score <= 1);
      assertTrue(out.getVector("answer").isNull(1) && out.getVector("error").isNull(1), "null context: null row");
      assertTrue(out.getVector("answer").isNull(2), "null question: null row");
      assertTrue(string(out.getVector("error"), 3).contains("context is empty"));
    }
    try (VarCharVector q = texts("a", "b"); VarCharVector c = texts("a")) {
      Engine any = demo();
      assertThrows(IllegalArgumentException.class, () -> ArrowTasks.answer(any, q, c, 8, InputPolicy.DEFAULT, allocator));
    }
  }

  @Test
  void aFailingCallAllocatesNothing(@TempDir Path tmp) {
    try (VarCharVector in = texts(HAM);
        Engine lmOnly = Engine.open(TinyCheckpoints.write(tmp.resolve("lm"), TinyCheckpoints.spec()),
            EngineOptions.builder().threads(1).build())) {
      long before = allocator.getAllocatedMemory();
      assertThrows(IllegalArgumentException.class,
          () -> ArrowTasks.classify(lmOnly, in, null, InputPolicy.DEFAULT, allocator));
      assertEquals(before, allocator.getAllocatedMemory());
    }
  }

  @Test
  void perRowGenerationParams() {
    List<GenerationParams> params = new ArrayList<>();
    params.add(GenerationParams.builder().maxNewTokens(1).build());
    params.add(GenerationParams.builder().maxNewTokens(4).build());
    try (VarCharVector in = texts(HAM, SPAM);
        VectorSchemaRoot out = ArrowTasks.generate(demo(), in, params, InputPolicy.DEFAULT, allocator)) {
      assertEquals(1, ((IntVector) out.getVector("completion_tokens")).get(0));
      assertEquals(4, ((IntVector) out.getVector("completion_tokens")).get(1));
    }
    try (VarCharVector in = texts(HAM, SPAM)) {
      assertThrows(IllegalArgumentException.class,
          () -> ArrowTasks.generate(demo(), in, params.subList(0, 1), InputPolicy.DEFAULT, allocator));
    }
    assertFalse(allocator.getAllocatedMemory() > 0);
  }

  @Test
  void bigIntInputChildIsAccepted() {
    try (ListVector in = ids(true, new int[] {464, 2068})) {
      assertTrue(in.getDataVector() instanceof BigIntVector);
      List<Input> inputs = ArrowTasks.inputs(in);
      assertArrayEquals(new int[] {464, 2068}, inputs.get(0).ids());
    }
  }
}
