package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.arrow.ArrowTasks;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Goldens;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;

/** The Java examples of docs/ENGINE.md, as written there (System.out/err captured). */
class DocExamplesTest {
  static Path demoPath() {
    return Goldens.demoModel(); // the docs say Path.of("datasets-sample/models/gpt-neo-demo")
  }

  @Test
  void javaApiExample() {
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    // ---- as in docs/ENGINE.md, section 2 (System.out -> out, System.err -> err)
    try (Engine engine = Engine.open(demoPath())) {
      GenerationParams params = GenerationParams.builder()
          .maxNewTokens(20).doSample(true).temperature(0.8).topP(0.95).seed(42).build();
      List<GenerateResult> results = engine.generate(
          List.of(Input.text("Once upon a time"), Input.text("")), params, InputPolicy.DEFAULT);
      for (GenerateResult r : results) {
        if (r == null) {
          continue;
        } else if (!r.ok()) {
          err.println("row failed: " + r.error);
        } else {
          out.println(r.text + " [" + r.finishReason.json + ", " + r.completionTokens + " tokens]");
        }
      }
      ClassifyResult c = engine.classify(List.of(Input.text("FREE!!! Click here to claim your prize")),
          InputPolicy.DEFAULT).get(0);
      out.println(c.label + " " + c.probabilities);
    }
    // ----
    String o = outBytes.toString(StandardCharsets.UTF_8);
    assertTrue(o.contains("[length, 20 tokens]"), o);
    assertTrue(o.contains("spam {ham="), o);
    assertTrue(errBytes.toString(StandardCharsets.UTF_8).startsWith("row failed: the input is empty"));
  }

  @Test
  void arrowExample() {
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    try (Engine engine = Engine.open(demoPath())) {
      // ---- as in docs/ENGINE.md, section 3
      try (BufferAllocator allocator = new RootAllocator();
           VarCharVector texts = new VarCharVector("text", allocator)) {
        texts.allocateNew();
        texts.setSafe(0, "FREE!!! Click here to claim your prize".getBytes(StandardCharsets.UTF_8));
        texts.setNull(1);
        texts.setValueCount(2);
        try (VectorSchemaRoot result = ArrowTasks.classify(engine, texts, null, InputPolicy.DEFAULT, allocator)) {
          VarCharVector label = (VarCharVector) result.getVector("label");
          out.println(label.getObject(0) + " " + label.isNull(1));
        }
      }
      // ----
    }
    assertEquals("spam true\n", outBytes.toString(StandardCharsets.UTF_8));
  }
}
