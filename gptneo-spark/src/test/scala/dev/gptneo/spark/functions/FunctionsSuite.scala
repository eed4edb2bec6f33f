package dev.gptneo.spark.functions

import scala.jdk.CollectionConverters._

import org.apache.spark.SparkException
import org.apache.spark.sql.Row

import dev.gptneo.engine.api.{Input, InputPolicy, QaInput, Truncation}
import dev.gptneo.engine.generate.GenerationParams
import dev.gptneo.spark.execution.RowSeeds
import dev.gptneo.spark.testing.{SampleData, SparkSuite, TestModels}

/** Every function through Spark SQL, each result equal to the engine's own result for the same input. */
class FunctionsSuite extends SparkSuite {
  import spark.implicits._

  private def engine = TestModels.engine(TestModels.demo)
  private def texts(xs: Seq[String]) = xs.map(Input.text).asJava
  private val emails = SampleData.emails.take(40)
  private val emailPolicy = new InputPolicy(256, Truncation.RIGHT)

  override def beforeAll(): Unit = {
    super.beforeAll()
    SampleData.prompts.zipWithIndex.toDF("prompt", "id").createOrReplaceTempView("prompts")
    emails.map(e => (e.id, e.subject, e.body, e.label)).toDF("id", "subject", "body", "label")
      .repartition(2).createOrReplaceTempView("emails")
  }

  test("gptneo_generate equals the engine (greedy, penalties, max_new_tokens)") {
    val got = sql("""SELECT id, gptneo_generate(prompt, map('max_new_tokens', '12', 'repetition_penalty', '1.3',
        'no_repeat_ngram_size', '3')) AS text FROM prompts ORDER BY id""").as[(Int, String)].collect().map(_._2)
    val params = GenerationParams.builder().maxNewTokens(12).repetitionPenalty(1.3).noRepeatNgramSize(3).build()
    val want = engine.generate(texts(SampleData.prompts), params, InputPolicy.DEFAULT).asScala.map(_.text)
    assert(got.toSeq == want.toSeq)
    assert(got.forall(_.nonEmpty))
  }

  test("gptneo_generate with num_beams equals the engine's beam search") {
    val got = sql("""SELECT id, gptneo_generate(prompt, map('max_new_tokens', '10', 'num_beams', '3',
        'length_penalty', '0.8')) AS text FROM prompts ORDER BY id""").as[(Int, String)].collect().map(_._2)
    val params = GenerationParams.builder().maxNewTokens(10).numBeams(3).lengthPenalty(0.8).build()
    val want = engine.generate(texts(SampleData.prompts), params, InputPolicy.DEFAULT).asScala.map(_.text)
    assert(got.toSeq == want.toSeq)
  }

  test("a stop string of white space ('\\n') is kept as written, as in the engine") {
    val got = sql("""SELECT id, gptneo_generate(prompt, map('max_new_tokens', '24', 'temperature', '0.8', 'seed', '3',
        'stop', '\n', 'output', 'struct')) AS g FROM prompts ORDER BY id""").collect().map(_.getStruct(1))
    val base = GenerationParams.builder().maxNewTokens(24).doSample(true).temperature(0.8).addStopString("\n").build()
    val params = SampleData.prompts.map(p => base.toBuilder.seed(RowSeeds.seed(3, p.getBytes("UTF-8"))).build())
    val want = engine.generate(texts(SampleData.prompts), params.asJava, InputPolicy.DEFAULT).asScala
    got.zip(want).foreach { case (g, w) => assert(g.getString(0) == w.text && g.getString(1) == w.finishReason.json) }
    assert(got.exists(_.getString(1) == "stop"), "some completion ends at a newline")
    assert(got.filter(_.getString(1) == "stop").forall(_.getString(0).endsWith("\n")))
  }

  test("gptneo_generate with 'skip_special_tokens' leaves eos out of the text, as HF's decode") {
    val q = "SELECT gptneo_generate(p, map('max_new_tokens', '64', 'skip_special_tokens', '%s', 'output', 'struct')) " +
      "AS g FROM VALUES ('FREE!!! Click here to claim your prize') AS t(p)"
    val kept = sql(q.format("false")).head().getStruct(0)
    val skipped = sql(q.format("true")).head().getStruct(0)
    assert(kept.getString(1) == "eos" && skipped.getString(1) == "eos")
    assert(kept.getString(0).endsWith("<|endoftext|>"))
    assert(skipped.getString(0) == kept.getString(0).stripSuffix("<|endoftext|>"))
    val e = intercept[Exception](sql("SELECT gptneo_generate('x', map('skip_special_tokens', 'maybe'))").collect())
    assert(e.getMessage.contains("skip_special_tokens"))
  }

  test("gptneo_generate with 'num_return_sequences' returns every sample or best beam, as the engine") {
    val sampled = sql("""SELECT id, gptneo_generate(prompt, map('max_new_tokens', '6', 'temperature', '0.8',
        'seed', '7', 'num_return_sequences', '3')) AS texts FROM prompts ORDER BY id""")
    assert(sampled.schema("texts").dataType.simpleString == "array<string>")
    val base = GenerationParams.builder().maxNewTokens(6).doSample(true).temperature(0.8).numReturnSequences(3).build()
    val params = SampleData.prompts.map(p => base.toBuilder.seed(RowSeeds.seed(7, p.getBytes("UTF-8"))).build())
    val want = engine.generate(texts(SampleData.prompts), params.asJava, InputPolicy.DEFAULT).asScala
    val got = sampled.collect().map(_.getSeq[String](1))
    got.zip(want).foreach { case (g, w) => assert(g == w.sequences.asScala.map(_.text).toSeq) }
    // the first sample is the row's single sample, so adding samples keeps the old one
    val single = sql("""SELECT gptneo_generate(prompt, map('max_new_tokens', '6', 'temperature', '0.8', 'seed', '7'))
        FROM prompts ORDER BY id""").collect().map(_.getString(0))
    assert(got.map(_.head).toSeq == single.toSeq)

    val beams = sql("""SELECT gptneo_generate(prompt, map('max_new_tokens', '8', 'num_beams', '3',
        'num_return_sequences', '2', 'output', 'struct')) AS g FROM prompts ORDER BY id""")
    assert(beams.schema("g").dataType.simpleString ==
      "struct<texts:array<string>,finish_reasons:array<string>,prompt_tokens:int,completion_tokens:array<int>,error:string>")
    val beamWant = engine.generate(texts(SampleData.prompts), base.toBuilder.doSample(false).numBeams(3)
      .numReturnSequences(2).maxNewTokens(8).build(), InputPolicy.DEFAULT).asScala
    beams.collect().map(_.getStruct(0)).zip(beamWant).foreach { case (r, w) =>
      assert(r.getSeq[String](0) == w.sequences.asScala.map(_.text).toSeq)
      assert(r.getSeq[String](1) == w.sequences.asScala.map(_.finishReason.json).toSeq)
      assert(r.getInt(2) == w.promptTokens)
      assert(r.getSeq[Int](3) == w.sequences.asScala.map(_.completionTokens).toSeq)
      assert(r.isNullAt(4))
    }
    val failed = sql("""SELECT gptneo_generate('', map('temperature', '0.8', 'num_return_sequences', '2',
        'on_error', 'null', 'output', 'struct')) AS g""").head().getStruct(0)
    assert(failed.isNullAt(0) && failed.getString(4).contains("empty"))
    val greedy = intercept[Exception](sql("SELECT gptneo_generate('x', map('num_return_sequences', '2'))").collect())
    assert(greedy.getMessage.contains("needs sampling"))
  }

  test("gptneo_generate with 'logprobs' adds each token's log-probability to the struct, as the engine") {
    val single = sql("""SELECT id, gptneo_generate(prompt, map('max_new_tokens', '6', 'logprobs', 'true',
        'output', 'struct')) AS g FROM prompts ORDER BY id""")
    assert(single.schema("g").dataType.simpleString == "struct<text:string,finish_reason:string,prompt_tokens:int," +
      "completion_tokens:int,token_logprobs:array<double>,error:string>")
    val greedy = GenerationParams.builder().maxNewTokens(6).logprobs(true).build()
    val want = engine.generate(texts(SampleData.prompts), greedy, InputPolicy.DEFAULT).asScala
    single.collect().map(_.getStruct(1)).zip(want).foreach { case (g, w) =>
      assert(g.getString(0) == w.text && g.isNullAt(5))
      assert(g.getSeq[Double](4) == w.tokenLogprobs.toSeq)
    }
    val several = sql("""SELECT gptneo_generate(prompt, map('max_new_tokens', '4', 'temperature', '0.8', 'seed', '2',
        'num_return_sequences', '2', 'logprobs', 'true', 'output', 'struct')) AS g FROM prompts ORDER BY id""")
    assert(several.schema("g").dataType.simpleString.contains("token_logprobs:array<array<double>>,error:string"))
    val base = GenerationParams.builder().maxNewTokens(4).doSample(true).temperature(0.8).numReturnSequences(2)
      .logprobs(true).build()
    val params = SampleData.prompts.map(p => base.toBuilder.seed(RowSeeds.seed(2, p.getBytes("UTF-8"))).build())
    val sampled = engine.generate(texts(SampleData.prompts), params.asJava, InputPolicy.DEFAULT).asScala
    several.collect().map(_.getStruct(0)).zip(sampled).foreach { case (g, w) =>
      assert(g.getSeq[Seq[Double]](4) == w.sequences.asScala.map(_.tokenLogprobs.toSeq).toSeq)
    }
    val value = intercept[Exception](sql("SELECT gptneo_generate('x', map('logprobs', 'true'))").collect())
    assert(value.getMessage.contains("give 'output' = 'struct' too"))
  }

  test("gptneo_generate with sampling and 'output' = 'struct' equals the engine with per-row seeds") {
    val got = sql("""SELECT id, gptneo_generate(prompt, map('max_new_tokens', '10', 'temperature', '0.8',
        'top_p', '0.95', 'seed', '7', 'output', 'struct')) AS g FROM prompts ORDER BY id""")
    assert(got.schema("g").dataType.simpleString ==
      "struct<text:string,finish_reason:string,prompt_tokens:int,completion_tokens:int,error:string>")
    val rows = got.collect().map(_.getStruct(1))
    val base = GenerationParams.builder().maxNewTokens(10).doSample(true).temperature(0.8).topP(0.95).build()
    val params = SampleData.prompts.map(p => base.toBuilder.seed(RowSeeds.seed(7, p.getBytes("UTF-8"))).build())
    val want = engine.generate(texts(SampleData.prompts), params.asJava, InputPolicy.DEFAULT).asScala
    rows.zip(want).foreach { case (r, w) =>
      assert(r.getString(0) == w.text)
      assert(r.getString(1) == w.finishReason.json)
      assert(r.getInt(2) == w.promptTokens)
      assert(r.getInt(3) == w.completionTokens)
      assert(r.isNullAt(4))
    }
  }

  test("min_p, typical_p, the cutoffs, suppressed tokens and bad words equal the engine; sampling turns on") {
    val got = sql("""SELECT id, gptneo_generate(prompt, map('max_new_tokens', '10', 'min_p', '0.05',
        'eta_cutoff', '0.0005', 'typical_p', '0.95', 'seed', '7', 'suppress_tokens', '[13, 198]',
        'begin_suppress_tokens', '262', 'bad_words_ids', '[[11], [286, 262]]', 'sequence_bias', '[[[287], 2.5]]',
        'exponential_decay_length_penalty', '[4, 1.3]')) AS g FROM prompts ORDER BY id""")
      .as[(Int, String)].collect().map(_._2)
    val base = GenerationParams.builder().maxNewTokens(10).doSample(true).minP(0.05).etaCutoff(0.0005)
      .typicalP(0.95).suppressTokens(13, 198).beginSuppressTokens(262).badWordsIds(Array(11), Array(286, 262))
      .sequenceBias(Array(Array(287)), Array(2.5)).exponentialDecayLengthPenalty(4, 1.3).build()
    val params = SampleData.prompts.map(p => base.toBuilder.seed(RowSeeds.seed(7, p.getBytes("UTF-8"))).build())
    val want = engine.generate(texts(SampleData.prompts), params.asJava, InputPolicy.DEFAULT).asScala
    assert(got.toSeq == want.map(_.text).toSeq)
    for (ids <- want.map(_.completionIds.toSeq)) {
      assert(!ids.contains(13) && !ids.contains(198) && !ids.contains(11) && ids.head != 262, ids)
      assert(!ids.sliding(2).contains(Seq(286, 262)), ids)
    }
  }

  test("eos_token_id replaces the model's eos, as HF's generate(eos_token_id=...); equals the engine") {
    val got = sql("""SELECT id, gptneo_generate(prompt, map('max_new_tokens', '12', 'eos_token_id', '[13, 198]',
        'output', 'struct')) AS g FROM prompts ORDER BY id""").collect().map(_.getStruct(1))
    val params = GenerationParams.builder().maxNewTokens(12).eosTokenIds(13, 198).build()
    val want = engine.generate(texts(SampleData.prompts), params, InputPolicy.DEFAULT).asScala
    assert(got.map(_.getString(0)).toSeq == want.map(_.text).toSeq)
    assert(got.map(_.getString(1)).toSeq == want.map(_.finishReason.json).toSeq)
    assert(want.exists(_.finishReason.json == "eos"), "some prompt reaches '.' or a newline within 12 tokens")
  }

  test("gptneo_classify with the classification head equals the engine, value and struct") {
    val df = sql("""SELECT id, gptneo_classify(concat(subject, '\n', body),
        map('max_input_tokens', '256', 'truncation', 'right')) AS label,
        gptneo_classify(concat(subject, '\n', body),
        map('max_input_tokens', '256', 'truncation', 'right', 'output', 'struct')) AS s FROM emails""")
    assert(gptneoOperators(df).size == 1)
    val got = df.collect().map(r => r.getString(0) -> (r.getString(1), r.getStruct(2))).toMap
    val want = engine.classify(texts(emails.map(_.text)), emailPolicy).asScala
    emails.zip(want).foreach { case (e, w) =>
      val (label, struct) = got(e.id)
      assert(label == w.label)
      assert(struct.getString(0) == w.label)
      val probabilities = struct.getMap[String, Double](1)
      assert(probabilities.keySet == w.probabilities.keySet.asScala)
      w.probabilities.asScala.foreach { case (k, v) => assertClose(probabilities(k), v) }
      assert(struct.isNullAt(2))
    }
    val accuracy = emails.count(e => got(e.id)._1 == e.label).toDouble / emails.size
    assert(accuracy > 0.8, s"accuracy $accuracy")
  }

  test("gptneo_classify with candidate labels is zero-shot, as the engine's classifyZeroShot") {
    val got = sql("SELECT gptneo_classify(subject, array('money', 'software', 'news')) FROM emails ORDER BY id")
      .as[String].collect()
    val sorted = emails.sortBy(_.id)
    val want = engine.classifyZeroShot(texts(sorted.map(_.subject)), Seq("money", "software", "news").asJava,
      InputPolicy.DEFAULT).asScala.map(_.label)
    assert(got.toSeq == want.toSeq)
  }

  test("gptneo_embed, gptneo_score, gptneo_count_tokens and gptneo_tokenize equal the engine") {
    val subjects = emails.map(_.subject)
    val df = sql("""SELECT id, gptneo_embed(subject) AS e, gptneo_score(subject) AS s,
        gptneo_score(subject, map('output', 'struct')) AS ss, gptneo_count_tokens(subject) AS n,
        gptneo_tokenize(subject) AS ids FROM emails""")
    assert(gptneoOperators(df).size == 1, "one pass for every call of the SELECT")
    val got = df.collect().map(r => r.getString(0) -> r).toMap
    val embeds = engine.embed(texts(subjects), InputPolicy.DEFAULT).asScala
    val scores = engine.score(texts(subjects), InputPolicy.DEFAULT).asScala
    val tokens = engine.tokenize(texts(subjects), InputPolicy.DEFAULT).asScala
    emails.indices.foreach { i =>
      val r = got(emails(i).id)
      assert(r.getSeq[Float](1) == embeds(i).mean.toSeq)
      val mean = scores(i).meanLogprob
      if (mean.isNaN) assert(r.isNullAt(2)) else assert(r.getDouble(2) == mean)
      if (!mean.isNaN) {
        assert(r.getStruct(3).getDouble(1) == scores(i).perplexity)
        assert(r.getStruct(3).getSeq[Double](2) == scores(i).tokenLogprobs.toSeq)
      }
      assert(r.getInt(4) == tokens(i).inputIds.length)
      assert(r.getSeq[Int](5) == tokens(i).inputIds.toSeq)
    }
  }

  test("gptneo_answer and gptneo_token_classify use a model's QA and token heads, as the engine") {
    val heads = TestModels.engine(TestModels.withHeads)
    val qa = Seq(("Who wrote the report?", "The report was written by Ana Silva in Lisbon last spring."),
      ("Where is the meeting?", "The meeting is in room 4 on the second floor."),
      ("Who came?", "\uD83D\uDE00 \uD83C\uDF89 Ana and Zo\u00EB came to the caf\u00E9 \uD83C\uDF89"))
    qa.toDF("q", "c").createOrReplaceTempView("qa")
    val got = sql("""SELECT gptneo_answer(q, c, map('model', 'heads')) AS a,
        gptneo_answer(q, c, map('model', 'heads', 'output', 'struct', 'max_answer_tokens', '5')) AS s,
        gptneo_token_classify(c, map('model', 'heads')) AS t, c FROM qa""").collect()
    val want = heads.answer(qa.map { case (q, c) => QaInput.of(q, c) }.asJava, 15, InputPolicy.DEFAULT).asScala
    val want5 = heads.answer(qa.map { case (q, c) => QaInput.of(q, c) }.asJava, 5, InputPolicy.DEFAULT).asScala
    val tokens = heads.tokenClassify(texts(qa.map(_._2)), InputPolicy.DEFAULT).asScala
    got.indices.foreach { i =>
      assert(got(i).getString(0) == want(i).answer)
      val s = got(i).getStruct(1)
      assert((s.getString(0), s.getInt(1), s.getInt(2), s.getDouble(3)) ==
        ((want5(i).answer, want5(i).start, want5(i).end, want5(i).score)))
      // offsets count code points, as SQL's substring does (the third context has emoji)
      assert(sql(s"SELECT substring(c, ${s.getInt(1)} + 1, ${s.getInt(2) - s.getInt(1)}) FROM qa").collect()(i)
        .getString(0) == s.getString(0))
      val labelled = got(i).getSeq[Row](2).map(r => (r.getString(0), r.getString(1), r.getFloat(2)))
      assert(labelled == tokens(i).tokens.indices.map(t => (tokens(i).tokens(t), tokens(i).labels(t), tokens(i).scores(t))))
    }
  }

  test("a model without the head a function needs fails the query, naming both") {
    val e = intercept[SparkException](sql("SELECT gptneo_answer('Who?', 'Ana did.')").collect())
    val message = Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString("\n")
    assert(message.contains("gptneo_answer cannot run on the default model") && message.contains("qa_outputs"),
      message)
  }

  test("a NULL input gives NULL from every function") {
    val row = sql("""SELECT gptneo_generate(CAST(NULL AS STRING)), gptneo_classify(CAST(NULL AS STRING)),
        gptneo_classify(CAST(NULL AS STRING), array('a', 'b')), gptneo_embed(CAST(NULL AS STRING)),
        gptneo_score(CAST(NULL AS STRING)), gptneo_count_tokens(CAST(NULL AS STRING)),
        gptneo_tokenize(CAST(NULL AS STRING)), gptneo_generate(NULL, map('output', 'struct')),
        gptneo_answer(NULL, 'context', map('model', 'heads')),
        gptneo_token_classify(CAST(NULL AS STRING), map('model', 'heads'))""").collect().head
    (0 until row.length).foreach(i => assert(row.isNullAt(i), s"column $i"))
  }

  private val tooLong = Seq.fill(2100)("hello").mkString(" ")

  test("a row that fails fails the query, naming the row's problem and the fix") {
    Seq(("ok", "a short prompt"), ("long", tooLong)).toDF("id", "p").createOrReplaceTempView("mixed")
    val e = intercept[SparkException] {
      sql("SELECT id, gptneo_generate(p, map('max_new_tokens', '2')) FROM mixed").collect()
    }
    val message = Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString("\n")
    assert(message.contains("gptneo_generate failed on a row"), message)
    assert(message.contains("2100 tokens") || message.contains("tokens"), message)
    assert(message.contains("'on_error' = 'null'"), message)
    assert(message.contains("hello hello"), "shows the start of the row's input")
  }

  test("'on_error' = 'null' keeps the other rows: NULL, or a struct with error set") {
    Seq(("ok", "a short prompt"), ("long", tooLong)).toDF("id", "p").createOrReplaceTempView("mixed")
    val rows = sql("""SELECT id, gptneo_generate(p, map('max_new_tokens', '2', 'on_error', 'null')) AS v,
        gptneo_generate(p, map('max_new_tokens', '2', 'on_error', 'null', 'output', 'struct')) AS s
        FROM mixed""").collect().map(r => r.getString(0) -> r).toMap
    assert(!rows("ok").isNullAt(1))
    assert(rows("ok").getStruct(2).isNullAt(4))
    assert(rows("long").isNullAt(1))
    val failed = rows("long").getStruct(2)
    assert(failed.isNullAt(0) && failed.getString(4).contains("tokens"), failed)
  }

  test("truncation options let long inputs through, as in the engine") {
    val got = sql(s"""SELECT gptneo_count_tokens('$tooLong', map('max_input_tokens', '100', 'truncation', 'left')),
        gptneo_generate('$tooLong', map('max_new_tokens', '3', 'max_input_tokens', '64', 'truncation', 'left'))""")
      .collect().head
    assert(got.getInt(0) == 100)
    val want = engine.generate(texts(Seq(tooLong)), GenerationParams.builder().maxNewTokens(3).build(),
      new InputPolicy(64, Truncation.LEFT)).get(0).text
    assert(got.getString(1) == want)
  }

  test("functions work from the DataFrame API through expr(), as PySpark would call them") {
    import org.apache.spark.sql.functions.expr
    val df = spark.table("prompts").select(expr("gptneo_count_tokens(prompt)").as("n"))
    assert(df.as[Int].collect().forall(_ > 0))
  }
}
