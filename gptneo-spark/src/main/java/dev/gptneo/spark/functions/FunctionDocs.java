package dev.gptneo.spark.functions;

import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;

/** What {@code DESCRIBE FUNCTION EXTENDED} shows for each function. */
final class FunctionDocs {
  private static final String SINCE = "0.1.0";

  private FunctionDocs() {}

  static String signature(GptNeoFunction f) {
    return f.sqlName + "(" + f.inputNames + (f.acceptsLabels() ? " [, labels]" : "") + " [, options])";
  }

  static ExpressionInfo info(GptNeoFunction f) {
    return new ExpressionInfo(GptNeoCall.class.getName(), null, f.sqlName, usage(f), arguments(f), examples(f), "",
        "misc_funcs", SINCE, "", "built-in");
  }

  private static String usage(GptNeoFunction f) {
    String what;
    switch (f) {
      case GENERATE: what = "Returns the model's completion of `prompt` (STRING; the prompt is not repeated)."; break;
      case CLASSIFY: what = "Returns the label of `text`: by the model's classification head, or zero-shot "
          + "among `labels` (the label whose tokens the model finds most likely after the text)."; break;
      case EMBED: what = "Returns the mean of the final hidden states of `text` (ARRAY<FLOAT>)."; break;
      case SCORE: what = "Returns the mean log-probability of the tokens of `text` (DOUBLE)."; break;
      case COUNT_TOKENS: what = "Returns the number of tokens of `text` (INT)."; break;
      case TOKENIZE: what = "Returns the token ids of `text` (ARRAY<INT>)."; break;
      case ANSWER: what = "Returns the span of `context` that answers `question` (extractive QA head)."; break;
      case TOKEN_CLASSIFY: what = "Returns a label per token of `text`: ARRAY<STRUCT<token, label, score>>."; break;
      default: throw new IllegalStateException(f.name());
    }
    return "_FUNC_(" + f.inputNames + (f.acceptsLabels() ? " [, labels]" : "") + " [, options]) - " + what
        + " Rows are evaluated in batches by a GPT-Neo engine shared by the tasks of each executor.";
  }

  private static String arguments(GptNeoFunction f) {
    StringBuilder s = new StringBuilder("\n    Arguments:\n");
    if (f == GptNeoFunction.ANSWER) {
      s.append("      * question - a STRING expression; NULL gives NULL\n");
      s.append("      * context - a STRING expression holding the answer; NULL gives NULL\n");
    } else {
      s.append("      * ").append(f.inputNames).append(" - a STRING expression; NULL gives NULL\n");
    }
    if (f.acceptsLabels()) {
      s.append("      * labels - optional literal ARRAY<STRING> of candidate labels (zero-shot)\n");
    }
    s.append("      * options - optional literal MAP<STRING, STRING>. Keys: ")
        .append(String.join(", ", f.optionKeys)).append(".\n");
    s.append("          'output' = 'struct' returns ").append(f.structType().simpleString()).append(".\n");
    if (f == GptNeoFunction.GENERATE) {
      s.append("          'num_return_sequences' > 1 (with sampling or num_beams) returns ARRAY<STRING>, or with\n")
          .append("          'output' = 'struct' ").append(GptNeoFunction.SEQUENCES.simpleString()).append(".\n")
          .append("          'logprobs' (with 'output' = 'struct') adds token_logprobs, each generated token's\n")
          .append("          log-probability (ARRAY<DOUBLE>, one per sequence with num_return_sequences).\n");
    }
    s.append("          'on_error' = 'null' gives NULL (or a struct with error set) for a row that fails,\n");
    s.append("          instead of failing the query.\n  ");
    return s.toString();
  }

  private static String examples(GptNeoFunction f) {
    String ex;
    switch (f) {
      case GENERATE:
        ex = "      > SELECT _FUNC_('The meeting is', map('max_new_tokens', '8', 'temperature', '0.8', 'seed', '1'));\n"
            + "       moved to Friday at noon.\n"
            + "      > SELECT _FUNC_(prompt, map('output', 'struct')).finish_reason FROM prompts;\n"
            + "       length\n";
        break;
      case CLASSIFY:
        ex = "      > SELECT _FUNC_(concat(subject, '\\n', body), map('max_input_tokens', '256', 'truncation', 'right'))"
            + " FROM emails;\n       spam\n"
            + "      > SELECT _FUNC_('I loved it', array('positive', 'negative'));\n       positive\n";
        break;
      case EMBED:
        ex = "      > SELECT size(_FUNC_('hello world'));\n       128\n";
        break;
      case SCORE:
        ex = "      > SELECT _FUNC_('The cat sat on the mat.');\n       -4.2\n";
        break;
      case COUNT_TOKENS:
        ex = "      > SELECT _FUNC_('hello world');\n       2\n";
        break;
      case TOKENIZE:
        ex = "      > SELECT _FUNC_('hello world');\n       [31373,995]\n";
        break;
      case ANSWER:
        ex = "      > SELECT _FUNC_('Who wrote it?', 'The report was written by Ana.');\n        Ana\n";
        break;
      case TOKEN_CLASSIFY:
        ex = "      > SELECT _FUNC_('Ana lives in Lisbon')[0].label;\n       B-PER\n";
        break;
      default:
        throw new IllegalStateException(f.name());
    }
    return "\n    Examples:\n" + ex + "  ";
  }
}
