package dev.gptneo.spark.functions

import org.apache.spark.sql.AnalysisException

import dev.gptneo.spark.testing.SparkSuite

/** Bad options and arguments fail while the query is analyzed (no job runs), naming the fix. */
class AnalysisSuite extends SparkSuite {

  private def analysisError(query: String): String = {
    val jobsBefore = spark.sparkContext.statusTracker.getJobIdsForGroup(null).length
    val e = intercept[AnalysisException](sql(query))
    assert(spark.sparkContext.statusTracker.getJobIdsForGroup(null).length == jobsBefore, "no job ran")
    e.getMessage
  }

  test("an unknown option key fails, listing the function's valid keys") {
    val m = analysisError("SELECT gptneo_generate('hi', map('max_tokens', '5'))")
    assert(m.contains("unknown option 'max_tokens'"), m)
    for (key <- Seq("max_new_tokens", "temperature", "top_k", "top_p", "seed", "repetition_penalty",
      "no_repeat_ngram_size", "stop", "max_input_tokens", "truncation", "model", "output", "on_error")) {
      assert(m.contains(key), s"$key missing from: $m")
    }
    val c = analysisError("SELECT gptneo_classify('hi', map('temperature', '0.5'))")
    assert(c.contains("unknown option 'temperature'") && c.contains("Valid options of gptneo_classify"), c)
    assert(!c.contains("max_new_tokens"), "classify lists only its own keys")
  }

  test("bad option values fail with the setting's valid range") {
    val cases = Seq(
      "map('max_new_tokens', 'many')" -> "option 'max_new_tokens' must be an integer",
      "map('max_new_tokens', '0')" -> "max_new_tokens must be >= 1",
      "map('temperature', '0')" -> "temperature must be > 0",
      "map('temperature', 'hot')" -> "option 'temperature' must be a number",
      "map('top_p', '1.5')" -> "top_p must be in [0, 1]",
      "map('top_k', '-1')" -> "top_k must be >= 0",
      "map('max_length', '0')" -> "option 'max_length' must be >= 1",
      "map('min_length', '-2')" -> "min_length must be >= 0",
      "map('min_p', '1.5')" -> "min_p must be in [0, 1]",
      "map('top_h', '1.5')" -> "top_h must be in (0, 1]",
      "map('epsilon_cutoff', '1')" -> "epsilon_cutoff must be in [0, 1)",
      "map('suppress_tokens', '13, x')" -> "option 'suppress_tokens' must be token ids",
      "map('begin_suppress_tokens', '-4')" -> "begin_suppress_tokens must be token ids >= 0",
      "map('eos_token_id', 'eos')" -> "option 'eos_token_id' must be token ids",
      "map('eos_token_id', '-1')" -> "eos_token_id must be token ids >= 0",
      "map('bad_words_ids', '[1, 2]')" -> "option 'bad_words_ids' must be a JSON list of token id lists",
      "map('bad_words_ids', '[[-1]]')" -> "bad_words_ids must hold token ids >= 0",
      "map('sequence_bias', '[[5, 1.0]]')" -> "option 'sequence_bias' must be a JSON list of [token ids, bias] pairs",
      "map('exponential_decay_length_penalty', '10')" -> "option 'exponential_decay_length_penalty' must be",
      "map('exponential_decay_length_penalty', '[10, -1]')" -> "must be (start >= 0, factor > 0)",
      "map('repetition_penalty', '-2')" -> "repetition_penalty must be > 0",
      "map('truncation', 'middle')" -> "truncation must be one of error, left, right",
      "map('max_input_tokens', '-3')" -> "option 'max_input_tokens' must be >= 0",
      "map('output', 'table')" -> "option 'output' must be one of value, struct",
      "map('on_error', 'skip')" -> "option 'on_error' must be one of fail, null",
      "map('seed', '1.5')" -> "option 'seed' must be an integer",
      "map('stop', '[1, ')" -> "option 'stop' must be one string or a JSON array",
      "map('greedy', 'true', 'do_sample', 'true')" -> "contradict",
      "map('model', 'nosuchmodel')" -> "unknown model 'nosuchmodel'")
    for ((opts, expected) <- cases) {
      val m = analysisError(s"SELECT gptneo_generate('hi', $opts)")
      assert(m.contains(expected), s"$opts: $m")
      assert(m.startsWith("gptneo_generate:"), m)
    }
  }

  test("options must be a literal map; inputs must be strings; argument counts are checked") {
    assert(analysisError("SELECT gptneo_generate(p, map('seed', p)) FROM VALUES ('a') AS t(p)")
      .contains("must be a literal map"))
    assert(analysisError("SELECT gptneo_generate(p, map(1, '2')) FROM VALUES ('a') AS t(p)")
      .contains("option keys must be strings"))
    assert(analysisError("SELECT gptneo_generate()").contains("expected gptneo_generate(prompt [, options])"))
    assert(analysisError("SELECT gptneo_answer('q')").contains("expected gptneo_answer(question, context"))
    assert(analysisError("SELECT gptneo_embed('a', map(), map())").contains("expected gptneo_embed(text [, options])"))
    assert(analysisError("SELECT gptneo_embed('a', 'b')").contains("unexpected argument 'b'"))
    assert(analysisError("SELECT gptneo_generate('a', map('seed', 1, 'stop', 'x'))").contains("every value as a string"))
    assert(analysisError("SELECT gptneo_classify('a', array())").contains("labels"))
    assert(analysisError("SELECT gptneo_classify('a', array('x', ''))").contains("must not be null or blank"))
    val typed = analysisError("SELECT gptneo_count_tokens(42)")
    assert(typed.contains("expects STRING inputs") && typed.contains("CAST"), typed)
  }

  test("valid options are accepted, numbers as well as strings, keys in any case") {
    val df = sql("""SELECT gptneo_generate('hi', map('MAX_NEW_TOKENS', 3, 'Seed', 1, 'temperature', 0.7)),
        gptneo_generate('hi', map('stop', '["\\n", "."]', 'on_error', 'NULL', 'greedy', 'true'))""")
    assert(df.schema.map(_.dataType.simpleString) == Seq("string", "string"))
  }

  test("SHOW FUNCTIONS lists every function; DESCRIBE FUNCTION EXTENDED explains it") {
    val names = sql("SHOW FUNCTIONS LIKE 'gptneo*'").collect().map(_.getString(0)).toSet
    assert(names == Set("gptneo_generate", "gptneo_classify", "gptneo_embed", "gptneo_score", "gptneo_count_tokens",
      "gptneo_tokenize", "gptneo_answer", "gptneo_token_classify"))
    val text = sql("DESCRIBE FUNCTION EXTENDED gptneo_generate").collect().map(_.getString(0)).mkString("\n")
    assert(text.contains("Usage: gptneo_generate(prompt [, options])"), text)
    assert(text.contains("Arguments:") && text.contains("max_new_tokens") && text.contains("'output' = 'struct'"))
    assert(text.contains("Examples:") && text.contains("> SELECT gptneo_generate('The meeting is'"), text)
    assert(text.contains("Since: 0.1.0"), text)
  }

  test("explain shows the batched operator, not per-row calls") {
    val text = sql("EXPLAIN SELECT gptneo_count_tokens(p) FROM VALUES ('a') AS t(p)").collect().head.getString(0)
    assert(text.contains("GptNeoEval"), text)
  }
}
