package dev.gptneo.spark.datasource;

import dev.gptneo.spark.distribution.ModelRegistry;
import dev.gptneo.spark.functions.CallOptions;
import dev.gptneo.spark.functions.GptNeoFunction;
import dev.gptneo.spark.functions.OptionsParser;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.internal.SQLConf;

/**
 * The gptneo source's options, checked on the driver when the scan is built: {@code prompt}
 * (required), {@code rows} (default 1), {@code partitions} (default: the session's default
 * parallelism, at most rows), and gptneo_generate's options ({@code max_new_tokens},
 * {@code temperature}, {@code seed}, {@code model}, {@code on_error}, ...) with the same rules and
 * messages. Sampling is on unless {@code greedy} = true or {@code do_sample} = false: rows of one
 * prompt would otherwise all be the same.
 */
final class GenerationOptions implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final List<String> OWN = List.of("prompt", "rows", "partitions");

  final String prompt;
  final long rows;
  final int partitions;     // 0: the session's default parallelism
  final CallOptions call;   // generation settings, model, on_error, input policy

  private GenerationOptions(String prompt, long rows, int partitions, CallOptions call) {
    this.prompt = prompt;
    this.rows = rows;
    this.partitions = partitions;
    this.call = call;
  }

  /** The keys this source accepts, in the order messages list them. */
  static List<String> keys() {
    List<String> keys = new ArrayList<>(OWN);
    GptNeoFunction.GENERATE.optionKeys.stream()
        .filter(k -> !k.equals("output") && !k.equals("num_return_sequences") && !k.equals("logprobs"))
        .forEach(keys::add);
    return keys;
  }

  static GenerationOptions parse(Map<String, String> raw) {
    Map<String, String> rest = new TreeMap<>();
    raw.forEach((k, v) -> rest.put(k.toLowerCase(Locale.ROOT), v));
    if (rest.containsKey("path") || rest.containsKey("paths")) {
      throw new IllegalArgumentException("the gptneo source reads no files: give option 'prompt' (and 'rows'). "
          + "To generate for a table of prompts, use gptneo_generate(prompt) in a query");
    }
    for (String fixed : new String[] {"output", "logprobs"}) {
      if (rest.containsKey(fixed)) {
        throw new IllegalArgumentException("option '" + fixed + "' does not apply to the gptneo source: its columns "
            + "are " + GenerationTable.SCHEMA.simpleString() + ". Valid options: " + String.join(", ", keys()));
      }
    }
    if (rest.containsKey("num_return_sequences")) {
      throw new IllegalArgumentException("option 'num_return_sequences' does not apply to the gptneo source: each "
          + "row is one sample of the prompt, so set 'rows' to the number of samples you want");
    }
    String prompt = rest.remove("prompt");
    if (prompt == null || prompt.isEmpty()) {
      throw new IllegalArgumentException("the gptneo source needs option 'prompt', the text every row continues, e.g. "
          + ".option(\"prompt\", \"Dear customer,\"). Valid options: " + String.join(", ", keys()));
    }
    long rows = number(rest.remove("rows"), "rows", 1, 1, 1_000_000_000_000L); // ids * partitions fits a long
    int partitions = (int) number(rest.remove("partitions"), "partitions", 0, 1, 1 << 20);
    if (!rest.containsKey("do_sample") && !rest.containsKey("greedy")) {
      rest.put("do_sample", "true");
    }
    ModelRegistry registry = ModelRegistry.fromConf(SQLConf.get());
    CallOptions call;
    try {
      call = OptionsParser.parse(GptNeoFunction.GENERATE, rest, registry::isKnown);
    } catch (IllegalArgumentException e) { // name this source's keys, not the function's
      throw new IllegalArgumentException(e.getMessage().replaceAll("Valid options of gptneo_generate: .*",
          "Valid options of the gptneo source: " + String.join(", ", keys())), e);
    }
    registry.resolve(call.model); // no model at all fails now, not when the query runs
    return new GenerationOptions(prompt, rows, partitions, call);
  }

  private static long number(String value, String key, long fallback, long min, long max) {
    if (value == null) {
      return fallback;
    }
    try {
      long n = Long.parseLong(value.trim());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // the message below
    }
    throw new IllegalArgumentException("option '" + key + "' must be a whole number from " + min + " to " + max
        + ", got '" + value + "'");
  }
}
