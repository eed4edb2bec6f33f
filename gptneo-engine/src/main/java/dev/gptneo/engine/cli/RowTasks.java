package dev.gptneo.engine.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gptneo.engine.api.AnswerResult;
import dev.gptneo.engine.api.ClassifyResult;
import dev.gptneo.engine.api.EmbedResult;
import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.GenerateResult;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.api.QaInput;
import dev.gptneo.engine.api.Result;
import dev.gptneo.engine.api.ScoreResult;
import dev.gptneo.engine.api.TokenClassifyResult;
import dev.gptneo.engine.api.TokenizeResult;
import dev.gptneo.engine.generate.GenerationParams;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** The JSONL row tasks of bin/gptneo: read each line's input, call the engine once per batch, format. */
final class RowTasks {
  private RowTasks() {}

  /** Reads one line's input; throws IllegalArgumentException naming what is missing or wrong. */
  interface Extractor<I> {
    I read(JsonlRows.Line line);
  }

  /** Lines with a bad input get an error object; the rest go to the engine in one call. */
  static <I, R extends Result> JsonlRows.Task task(Extractor<I> extractor, Function<List<I>, List<R>> call,
      Function<R, ObjectNode> format) {
    return lines -> {
      List<ObjectNode> out = new ArrayList<>(lines.size());
      List<I> inputs = new ArrayList<>();
      List<Integer> at = new ArrayList<>();
      for (JsonlRows.Line l : lines) {
        try {
          inputs.add(extractor.read(l));
          at.add(out.size());
          out.add(null);
        } catch (IllegalArgumentException e) {
          out.add(JsonlRows.error("line " + l.number + ": " + e.getMessage()));
        }
      }
      List<R> results = inputs.isEmpty() ? List.of() : call.apply(inputs);
      for (int i = 0; i < results.size(); i++) {
        R r = results.get(i);
        out.set(at.get(i), r.error != null ? JsonlRows.error(r.error) : format.apply(r));
      }
      return out;
    };
  }

  /** "input_ids", else the first present text field. */
  static Extractor<Input> textOrIds(String... textFields) {
    return line -> {
      int[] ids = line.inputIds();
      if (ids != null) {
        return Input.ids(ids);
      }
      for (String f : textFields) {
        String t = line.text(f);
        if (t != null) {
          return Input.text(t);
        }
      }
      throw new IllegalArgumentException("no \"" + String.join("\" or \"", textFields) + "\" (or \"input_ids\")");
    };
  }

  static JsonlRows.Task generate(Engine e, GenerationParams params, InputPolicy policy) {
    return task(textOrIds("prompt", "text"), in -> e.generate(in, params, policy), r -> {
      ObjectNode o = JsonlRows.JSON.createObjectNode();
      if (r.text != null) {
        o.put("text", r.text);
      }
      o.set("completion_ids", ints(r.completionIds));
      o.put("finish_reason", r.finishReason.json);
      o.put("prompt_tokens", r.promptTokens);
      o.put("completion_tokens", r.completionTokens);
      if (r.tokenLogprobs != null) {
        o.set("token_logprobs", doubles(r.tokenLogprobs));
      }
      if (!r.sequences.isEmpty()) { // --num-return-sequences N > 1: the fields above are the first's
        ArrayNode all = o.putArray("sequences");
        for (GenerateResult s : r.sequences) {
          ObjectNode one = all.addObject();
          if (s.text != null) {
            one.put("text", s.text);
          }
          one.set("completion_ids", ints(s.completionIds));
          one.put("finish_reason", s.finishReason.json);
          one.put("completion_tokens", s.completionTokens);
          if (s.tokenLogprobs != null) {
            one.set("token_logprobs", doubles(s.tokenLogprobs));
          }
        }
      }
      return o;
    });
  }

  static JsonlRows.Task classify(Engine e, List<String> labels, InputPolicy policy) {
    Function<List<Input>, List<ClassifyResult>> call = labels == null
        ? in -> e.classify(in, policy) : in -> e.classifyZeroShot(in, labels, policy);
    return task(textOrIds("text"), call, r -> {
      ObjectNode o = JsonlRows.JSON.createObjectNode();
      o.put("label", r.label);
      ObjectNode probs = o.putObject("probabilities");
      r.probabilities.forEach(probs::put);
      o.set("logits", floats(r.logits));
      return o;
    });
  }

  static JsonlRows.Task tokenClassify(Engine e, InputPolicy policy) {
    return task(textOrIds("text"), in -> e.tokenClassify(in, policy), (TokenClassifyResult r) -> {
      ObjectNode o = JsonlRows.JSON.createObjectNode();
      ArrayNode labels = o.putArray("labels");
      for (String l : r.labels) {
        labels.add(l);
      }
      ArrayNode logits = o.putArray("logits");
      for (float[] row : r.logits) {
        logits.add(floats(row));
      }
      return o;
    });
  }

  static JsonlRows.Task answer(Engine e, int maxAnswerTokens, InputPolicy policy) {
    Extractor<QaInput> qa = line -> {
      int[] ids = line.inputIds();
      if (ids != null) {
        return QaInput.ids(ids);
      }
      String q = line.text("question");
      String c = line.text("context");
      if (q == null || c == null) {
        throw new IllegalArgumentException("needs \"question\" and \"context\" (or \"input_ids\")");
      }
      return QaInput.of(q, c);
    };
    return task(qa, in -> e.answer(in, maxAnswerTokens, policy), (AnswerResult r) -> {
      ObjectNode o = JsonlRows.JSON.createObjectNode();
      o.put("answer", r.answer); // null when the model has no tokenizer to decode the span
      o.put("start", r.start);
      o.put("end", r.end);
      o.put("score", r.score);
      o.set("start_logits", floats(r.startLogits));
      o.set("end_logits", floats(r.endLogits));
      return o;
    });
  }

  static JsonlRows.Task embed(Engine e, boolean lastToken, InputPolicy policy) {
    return task(textOrIds("text"), in -> e.embed(in, policy), (EmbedResult r) -> {
      ObjectNode o = JsonlRows.JSON.createObjectNode();
      o.set("embedding", floats(lastToken ? r.lastToken : r.mean));
      return o;
    });
  }

  static JsonlRows.Task score(Engine e, InputPolicy policy) {
    return task(textOrIds("text"), in -> e.score(in, policy), (ScoreResult r) -> {
      ObjectNode o = JsonlRows.JSON.createObjectNode();
      o.set("token_logprobs", doubles(r.tokenLogprobs));
      if (Double.isNaN(r.meanLogprob)) {
        o.putNull("mean_logprob");
        o.putNull("perplexity");
      } else {
        o.put("mean_logprob", r.meanLogprob);
        o.put("perplexity", r.perplexity);
      }
      return o;
    });
  }

  static JsonlRows.Task tokenize(Engine e, InputPolicy policy) {
    return task(textOrIds("text"), in -> e.tokenize(in, policy), (TokenizeResult r) -> {
      ObjectNode o = JsonlRows.JSON.createObjectNode();
      o.set("input_ids", ints(r.inputIds));
      return o;
    });
  }

  static ArrayNode ints(int[] values) {
    ArrayNode a = JsonlRows.JSON.createArrayNode();
    for (int v : values) {
      a.add(v);
    }
    return a;
  }

  static ArrayNode doubles(double[] values) {
    ArrayNode a = JsonlRows.JSON.createArrayNode();
    for (double v : values) {
      a.add(v);
    }
    return a;
  }

  static ArrayNode floats(float[] values) {
    ArrayNode a = JsonlRows.JSON.createArrayNode();
    for (float v : values) {
      a.add(v);
    }
    return a;
  }
}
