package dev.gptneo.spark.functions

import java.nio.file.Files

import scala.jdk.CollectionConverters._

import dev.gptneo.engine.api.{Input, InputPolicy}
import dev.gptneo.engine.generate.GenerationParams
import dev.gptneo.spark.execution.RowSeeds
import dev.gptneo.spark.testing.{SampleData, SparkSuite, TestModels}

/** A model's generation_config.json sets gptneo_generate's defaults, as in HF's generate(); options override them. */
class GenerationDefaultsSuite extends SparkSuite {
  import spark.implicits._

  private lazy val withConfig = {
    val dir = TestModels.variant(TestModels.demo, "gencfg")
    Files.writeString(dir.toPath.resolve("generation_config.json"),
      """{"do_sample": true, "top_k": 5, "repetition_penalty": 1.2, "max_new_tokens": 9, "eos_token_id": 50256}""")
    dir
  }

  private def prompts = SampleData.prompts.take(4)

  test("the file's sampling, penalty and length apply; per-row seeds as usual") {
    withConf("spark.gptneo.models.gencfg" -> withConfig.getAbsolutePath) {
      prompts.toDF("prompt").createOrReplaceTempView("gencfg_prompts")
      val got = sql("SELECT prompt, gptneo_generate(prompt, map('model', 'gencfg', 'seed', '3')) FROM gencfg_prompts")
        .collect().map(r => r.getString(0) -> r.getString(1)).toMap
      val base = GenerationParams.builder().doSample(true).topK(5).repetitionPenalty(1.2).maxNewTokens(9).build()
      val params = prompts.map(p => base.toBuilder.seed(RowSeeds.seed(3, p.getBytes("UTF-8"))).build())
      val want = TestModels.engine(TestModels.demo)
        .generate(prompts.map(Input.text).asJava, params.asJava, InputPolicy.DEFAULT).asScala.map(_.text)
      assert(prompts.map(got) == want)

      val greedy = sql("""SELECT gptneo_generate(prompt, map('model', 'gencfg', 'greedy', 'true',
          'repetition_penalty', '1.0', 'max_new_tokens', '6')) FROM gencfg_prompts ORDER BY prompt""")
        .collect().map(_.getString(0)).toSeq
      val plain = TestModels.engine(TestModels.demo).generate(prompts.sorted.map(Input.text).asJava,
        GenerationParams.builder().maxNewTokens(6).build(), InputPolicy.DEFAULT).asScala.map(_.text)
      assert(greedy == plain, "options override the file")
    }
  }

  test("a file's max_length counts the prompt, as in HF; 'max_new_tokens' wins over it") {
    val dir = TestModels.variant(TestModels.demo, "maxlen")
    Files.writeString(dir.toPath.resolve("generation_config.json"),
      """{"max_length": 12, "bad_words_ids": [[13]], "eos_token_id": 50256}""")
    withConf("spark.gptneo.models.maxlen" -> dir.getAbsolutePath) {
      val rows = sql("""SELECT gptneo_count_tokens(p), gptneo_generate(p, map('model', 'maxlen', 'output', 'struct')),
          gptneo_generate(p, map('model', 'maxlen', 'output', 'struct', 'max_new_tokens', '3'))
          FROM VALUES ('Once upon a time'), ('The meeting on Friday has been moved to') AS t(p)""").collect()
      for (r <- rows) {
        val fromFile = r.getStruct(1)
        assert(fromFile.getAs[Int]("completion_tokens") == 12 - r.getInt(0) || fromFile.getAs[String]("finish_reason")
          == "eos", fromFile)
        assert(r.getStruct(2).getAs[Int]("completion_tokens") == 3)
      }
      // the option, as HF's generate(max_length=...), over the demo model (64 new tokens by default)
      val option = sql("""SELECT gptneo_generate('Once upon a time', map('max_length', '7', 'output', 'struct')),
          gptneo_generate('Once upon a time', map('max_length', '7', 'max_new_tokens', '5', 'output', 'struct'))""")
        .head()
      assert(option.getStruct(0).getAs[Int]("completion_tokens") == 3 && option.getStruct(1).getAs[Int](
        "completion_tokens") == 5)
    }
  }
}
