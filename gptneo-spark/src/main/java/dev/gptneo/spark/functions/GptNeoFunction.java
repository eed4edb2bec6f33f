package dev.gptneo.spark.functions;

import java.util.List;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The SQL functions: their names, argument shapes, accepted option keys and result types. One
 * catalyst expression class ({@link GptNeoCall}) serves them all; this enum says which one it is.
 */
public enum GptNeoFunction {
  GENERATE("gptneo_generate", "prompt", Options.GENERATE,
      DataTypes.StringType,
      struct(field("text", DataTypes.StringType), field("finish_reason", DataTypes.StringType),
          field("prompt_tokens", DataTypes.IntegerType), field("completion_tokens", DataTypes.IntegerType),
          field("error", DataTypes.StringType))),
  CLASSIFY("gptneo_classify", "text", Options.TEXT,
      DataTypes.StringType,
      struct(field("label", DataTypes.StringType),
          field("probabilities", DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType, false)),
          field("error", DataTypes.StringType))),
  EMBED("gptneo_embed", "text", Options.TEXT,
      floats(),
      struct(field("embedding", floats()), field("error", DataTypes.StringType))),
  SCORE("gptneo_score", "text", Options.TEXT,
      DataTypes.DoubleType,
      struct(field("mean_logprob", DataTypes.DoubleType), field("perplexity", DataTypes.DoubleType),
          field("token_logprobs", DataTypes.createArrayType(DataTypes.DoubleType, false)),
          field("error", DataTypes.StringType))),
  COUNT_TOKENS("gptneo_count_tokens", "text", Options.TEXT,
      DataTypes.IntegerType,
      struct(field("token_count", DataTypes.IntegerType), field("error", DataTypes.StringType))),
  TOKENIZE("gptneo_tokenize", "text", Options.TEXT,
      ints(),
      struct(field("input_ids", ints()), field("error", DataTypes.StringType))),
  ANSWER("gptneo_answer", "question, context", Options.ANSWER,
      DataTypes.StringType,
      struct(field("answer", DataTypes.StringType), field("start", DataTypes.IntegerType),
          field("end", DataTypes.IntegerType), field("score", DataTypes.DoubleType),
          field("error", DataTypes.StringType))),
  TOKEN_CLASSIFY("gptneo_token_classify", "text", Options.TEXT,
      tokenLabels(),
      struct(field("tokens", tokenLabels()), field("error", DataTypes.StringType)));

  /** The SQL name, e.g. gptneo_generate. */
  public final String sqlName;
  /** The text inputs, as the usage shows them. */
  public final String inputNames;
  /** Option keys this function accepts, in the order error messages list them. */
  public final List<String> optionKeys;
  private final DataType valueType;
  private final StructType structType;

  GptNeoFunction(String sqlName, String inputNames, List<String> optionKeys, DataType valueType,
      StructType structType) {
    this.sqlName = sqlName;
    this.inputNames = inputNames;
    this.optionKeys = optionKeys;
    this.valueType = valueType;
    this.structType = structType;
  }

  /** How many text inputs the function takes (answer: question and context). */
  public int inputCount() {
    return this == ANSWER ? 2 : 1;
  }

  /** Whether a literal array of candidate labels may follow the text (zero-shot classification). */
  public boolean acceptsLabels() {
    return this == CLASSIFY;
  }

  /**
   * The result type for {@code 'output' = 'value'} (the default) or {@code 'struct'}; for
   * gptneo_generate with num_return_sequences above 1, arrays with every sequence.
   */
  public DataType resultType(CallOptions options) {
    return options.output == CallOptions.Output.STRUCT ? structType(options) : valueType(options);
  }

  private DataType valueType(CallOptions options) {
    return severalSequences(options) ? DataTypes.createArrayType(DataTypes.StringType, true) : valueType;
  }

  /**
   * The struct of {@code 'output' = 'struct'} (its last field is always {@code error}); with
   * logprobs, token_logprobs comes before it (an array per sequence when there are several).
   */
  public StructType structType(CallOptions options) {
    StructType base = severalSequences(options) ? SEQUENCES : structType;
    if (this != GENERATE || !options.logprobs()) {
      return base;
    }
    DataType logprobs = DataTypes.createArrayType(DataTypes.DoubleType, false);
    StructField[] fields = base.fields();
    StructField[] out = java.util.Arrays.copyOf(fields, fields.length + 1);
    out[fields.length - 1] = field("token_logprobs",
        severalSequences(options) ? DataTypes.createArrayType(logprobs, false) : logprobs);
    out[fields.length] = fields[fields.length - 1]; // error stays last
    return struct(out);
  }

  /** The struct of the function's single-result calls (what DESCRIBE FUNCTION shows). */
  public StructType structType() {
    return structType;
  }

  private boolean severalSequences(CallOptions options) {
    return this == GENERATE && options.returnSequences() > 1;
  }

  /** gptneo_generate's struct with num_return_sequences > 1: the lists in sequence order. */
  static final StructType SEQUENCES = struct(
      field("texts", DataTypes.createArrayType(DataTypes.StringType, true)),
      field("finish_reasons", DataTypes.createArrayType(DataTypes.StringType, false)),
      field("prompt_tokens", DataTypes.IntegerType),
      field("completion_tokens", DataTypes.createArrayType(DataTypes.IntegerType, false)),
      field("error", DataTypes.StringType));

  public static GptNeoFunction bySqlName(String name) {
    for (GptNeoFunction f : values()) {
      if (f.sqlName.equals(name)) {
        return f;
      }
    }
    throw new IllegalArgumentException("no gptneo function named " + name);
  }

  private static StructType struct(StructField... fields) {
    return DataTypes.createStructType(fields);
  }

  private static StructField field(String name, DataType type) {
    return new StructField(name, type, true, Metadata.empty());
  }

  private static ArrayType floats() {
    return DataTypes.createArrayType(DataTypes.FloatType, false);
  }

  private static ArrayType ints() {
    return DataTypes.createArrayType(DataTypes.IntegerType, false);
  }

  private static ArrayType tokenLabels() {
    return DataTypes.createArrayType(struct(field("token", DataTypes.StringType),
        field("label", DataTypes.StringType), field("score", DataTypes.FloatType)), false);
  }

  /** The option keys of each function family. */
  static final class Options {
    static final List<String> COMMON = List.of("model", "output", "on_error", "max_input_tokens", "truncation");
    static final List<String> TEXT = COMMON;
    static final List<String> GENERATE = concat(List.of("max_new_tokens", "min_new_tokens", "max_length", "min_length",
        "do_sample", "greedy",
        "temperature", "top_k", "top_p", "seed", "repetition_penalty", "no_repeat_ngram_size", "stop", "num_beams",
        "length_penalty", "early_stopping", "skip_special_tokens", "num_return_sequences", "logprobs", "min_p",
        "typical_p", "epsilon_cutoff", "eta_cutoff", "top_h", "suppress_tokens", "begin_suppress_tokens",
        "bad_words_ids", "sequence_bias", "exponential_decay_length_penalty", "eos_token_id"), COMMON);
    static final List<String> ANSWER = concat(List.of("max_answer_tokens"), COMMON);

    private static List<String> concat(List<String> a, List<String> b) {
      java.util.ArrayList<String> out = new java.util.ArrayList<>(a);
      out.addAll(b);
      return List.copyOf(out);
    }

    private Options() {}
  }
}
