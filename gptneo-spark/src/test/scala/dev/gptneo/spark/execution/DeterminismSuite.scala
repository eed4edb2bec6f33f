package dev.gptneo.spark.execution

import scala.jdk.CollectionConverters._

import dev.gptneo.engine.api.{Input, InputPolicy}
import dev.gptneo.engine.generate.GenerationParams
import dev.gptneo.spark.testing.{SampleData, SparkSuite, TestModels}

/** Sampled generations depend on the seed and the row's prompt only, not on how rows are partitioned or batched. */
class DeterminismSuite extends SparkSuite {
  import spark.implicits._

  private val prompts = (0 until 24).map(i => s"${SampleData.prompts(i % SampleData.prompts.size)} (case ${i % 12})")
  private def options(seed: Int) =
    s"map('max_new_tokens', '8', 'temperature', '0.8', 'top_p', '0.95', 'seed', '$seed')"

  private def generate(partitions: Int, batchRows: Int, seed: Int = 42): Map[Int, String] =
    withConf("spark.gptneo.batch.rows" -> batchRows.toString) {
      prompts.zipWithIndex.toDF("p", "id").repartition(partitions)
        .selectExpr("id", s"gptneo_generate(p, ${options(seed)})").collect()
        .map(r => r.getInt(0) -> r.getString(1)).toMap
    }

  test("the same query, partitioned and batched differently, gives identical sampled generations") {
    val one = generate(partitions = 1, batchRows = 128)
    val three = generate(partitions = 3, batchRows = 5)
    val seven = generate(partitions = 7, batchRows = 2)
    assert(one == three)
    assert(one == seven)
    assert(one.size == prompts.size)
  }

  test("each row's seed comes from the user's seed and the prompt: as the engine gives, equal prompts agree") {
    val got = generate(partitions = 2, batchRows = 4)
    val base = GenerationParams.builder().maxNewTokens(8).doSample(true).temperature(0.8).topP(0.95).build()
    val params = prompts.map(p => base.toBuilder.seed(RowSeeds.seed(42, p.getBytes("UTF-8"))).build())
    val want = TestModels.engine(TestModels.demo)
      .generate(prompts.map(Input.text).asJava, params.asJava, InputPolicy.DEFAULT).asScala.map(_.text)
    prompts.indices.foreach(i => assert(got(i) == want(i), s"row $i"))
    // prompts i and i + 12 are equal, so are their completions
    (0 until 12).foreach(i => assert(got(i) == got(i + 12)))
    // sampling really samples: another seed changes some completions
    assert(generate(partitions = 2, batchRows = 4, seed = 43) != got)
  }
}
