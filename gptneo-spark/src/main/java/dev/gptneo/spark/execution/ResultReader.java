package dev.gptneo.spark.execution;

import dev.gptneo.spark.functions.CallOptions;
import dev.gptneo.spark.functions.GptNeoCall;
import dev.gptneo.spark.functions.GptNeoFunction;
import java.util.HashMap;
import java.util.Map;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnarArray;

/**
 * Reads one call's value for one entry of a group's result root, as Catalyst values (a struct
 * for {@code 'output' = 'struct'}). The values point into Arrow memory: the operator copies them
 * into its output row (UnsafeProjection) before the root is closed.
 */
final class ResultReader {
  /** A row the engine could not process, with 'on_error' = 'fail'. */
  static final class RowFailure extends RuntimeException {
    RowFailure(String message) {
      super(message);
    }
  }

  private final Map<String, ArrowColumnVector> columns = new HashMap<>();

  ResultReader(VectorSchemaRoot root) {
    for (FieldVector v : root.getFieldVectors()) {
      columns.put(v.getName(), new ArrowColumnVector(v));
    }
  }

  private ArrowColumnVector col(String name) {
    ArrowColumnVector v = columns.get(name);
    if (v == null) {
      throw new IllegalStateException("the engine's result has no column '" + name + "'; columns: "
          + columns.keySet());
    }
    return v;
  }

  /** The call's value at entry i; throws RowFailure for a failed row when on_error is fail. */
  Object read(GptNeoCall call, int i, boolean nullInput, boolean emptyInput) {
    if (nullInput) {
      return null;
    }
    CallOptions o = call.options();
    if (emptyInput && countsTokens(call.function())) {
      Object count = call.function() == GptNeoFunction.COUNT_TOKENS ? (Object) 0 : new GenericArrayData(new Object[0]);
      return o.output == CallOptions.Output.STRUCT ? new GenericInternalRow(new Object[] {count, null}) : count;
    }
    ArrowColumnVector error = col("error");
    if (!error.isNullAt(i)) {
      if (o.onError == CallOptions.OnError.FAIL) {
        throw new RowFailure(error.getUTF8String(i).toString());
      }
      if (o.output == CallOptions.Output.VALUE) {
        return null;
      }
      Object[] fields = new Object[call.function().structType(o).size()];
      fields[fields.length - 1] = error.getUTF8String(i).copy();
      return new GenericInternalRow(fields);
    }
    if (call.function() == GptNeoFunction.GENERATE && o.returnSequences() > 1) { // arrays, in sequence order
      return o.output == CallOptions.Output.VALUE ? array("sequence_texts", i) : generated(o, i, new Object[] {
          array("sequence_texts", i), array("sequence_finish_reasons", i), integer("prompt_tokens", i),
          array("sequence_completion_tokens", i)}, "sequence_token_logprobs");
    }
    if (call.function() == GptNeoFunction.GENERATE && o.output == CallOptions.Output.STRUCT) {
      return generated(o, i, new Object[] {string("text", i), string("finish_reason", i), integer("prompt_tokens", i),
          integer("completion_tokens", i)}, "token_logprobs");
    }
    return o.output == CallOptions.Output.STRUCT ? struct(call.function(), i) : value(call.function(), i);
  }

  /** Counting the tokens of "" gives 0 (the engine rejects empty inputs for every task). */
  private static boolean countsTokens(GptNeoFunction f) {
    return f == GptNeoFunction.COUNT_TOKENS || f == GptNeoFunction.TOKENIZE;
  }

  private Object value(GptNeoFunction f, int i) {
    switch (f) {
      case GENERATE: return string("text", i);
      case CLASSIFY: return string("label", i);
      case EMBED: return array("embedding", i);
      case SCORE: return number("mean_logprob", i);
      case COUNT_TOKENS: return integer("token_count", i);
      case TOKENIZE: return array("input_ids", i);
      case ANSWER: return string("answer", i);
      case TOKEN_CLASSIFY: return tokenLabels(i);
      default: throw new IllegalStateException(f.name());
    }
  }

  private InternalRow struct(GptNeoFunction f, int i) {
    Object[] v;
    switch (f) {
      case CLASSIFY:
        v = new Object[] {string("label", i), col("probabilities").isNullAt(i) ? null : col("probabilities").getMap(i),
            null};
        break;
      case EMBED:
        v = new Object[] {array("embedding", i), null};
        break;
      case SCORE:
        v = new Object[] {number("mean_logprob", i), number("perplexity", i), array("token_logprobs", i), null};
        break;
      case COUNT_TOKENS:
        v = new Object[] {integer("token_count", i), null};
        break;
      case TOKENIZE:
        v = new Object[] {array("input_ids", i), null};
        break;
      case ANSWER:
        v = new Object[] {string("answer", i), integer("start", i), integer("end", i), number("score", i), null};
        break;
      case TOKEN_CLASSIFY:
        v = new Object[] {tokenLabels(i), null};
        break;
      default:
        throw new IllegalStateException(f.name());
    }
    return new GenericInternalRow(v);
  }

  /** gptneo_generate's struct: the fields, then token_logprobs when asked, then error (null). */
  private InternalRow generated(CallOptions o, int i, Object[] fields, String logprobsColumn) {
    Object[] v = java.util.Arrays.copyOf(fields, fields.length + (o.logprobs() ? 2 : 1));
    if (o.logprobs()) {
      v[fields.length] = array(logprobsColumn, i);
    }
    return new GenericInternalRow(v);
  }

  private Object string(String name, int i) {
    ArrowColumnVector c = col(name);
    return c.isNullAt(i) ? null : c.getUTF8String(i);
  }

  private Object integer(String name, int i) {
    ArrowColumnVector c = col(name);
    return c.isNullAt(i) ? null : c.getInt(i);
  }

  private Object number(String name, int i) {
    ArrowColumnVector c = col(name);
    return c.isNullAt(i) ? null : c.getDouble(i);
  }

  private Object array(String name, int i) {
    ArrowColumnVector c = col(name);
    return c.isNullAt(i) ? null : c.getArray(i);
  }

  /** ARRAY<STRUCT<token, label, score>> from the parallel tokens / labels / scores lists. */
  private Object tokenLabels(int i) {
    if (col("labels").isNullAt(i)) {
      return null;
    }
    ColumnarArray labels = col("labels").getArray(i);
    ColumnarArray tokens = col("tokens").isNullAt(i) ? null : col("tokens").getArray(i);
    ColumnarArray scores = col("scores").getArray(i);
    Object[] out = new Object[labels.numElements()];
    for (int t = 0; t < out.length; t++) {
      out[t] = new GenericInternalRow(new Object[] {tokens == null ? null : tokens.getUTF8String(t),
          labels.getUTF8String(t), scores.getFloat(t)});
    }
    return new GenericArrayData(out);
  }
}
