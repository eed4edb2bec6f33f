package dev.gptneo.spark.datasource

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.execution.datasources.v2.BatchScanExec

import dev.gptneo.engine.api.{Input, InputPolicy}
import dev.gptneo.engine.generate.GenerationParams
import dev.gptneo.spark.execution.RowSeeds
import dev.gptneo.spark.testing.{SparkSuite, TestModels}

/** The gptneo data source: rows equal to the engine's, whatever the partitioning, and clear errors. */
class DataSourceSuite extends SparkSuite {
  private val prompt = "The meeting on Friday has been moved to"

  private def read(options: (String, String)*): DataFrame =
    spark.read.format("gptneo").options(options.toMap).load()

  private def texts(df: DataFrame): Seq[(Long, String)] =
    df.select("id", "text").orderBy("id").collect().map(r => (r.getLong(0), r.getString(1))).toSeq

  test("HF's filters apply to the source's rows as to the function's (min_p, bad_words_ids)") {
    val got = read("prompt" -> prompt, "rows" -> "3", "max_new_tokens" -> "8", "seed" -> "4", "min_p" -> "0.1",
      "bad_words_ids" -> "[[13], [198]]").orderBy("id").collect().map(_.getString(1)).toSeq
    val base = GenerationParams.builder().maxNewTokens(8).doSample(true).minP(0.1).badWordsIds(Array(13), Array(198))
      .build()
    val bytes = prompt.getBytes("UTF-8")
    val params = (0 until 3).map(i => base.toBuilder.seed(RowSeeds.seed(4L, i.toLong, bytes)).build())
    val want = TestModels.engine(TestModels.demo)
      .generate(Seq.fill(3)(Input.text(prompt)).asJava, params.asJava, InputPolicy.DEFAULT).asScala.map(_.text)
    assert(got == want.toSeq)
  }

  test("rows are the engine's generations, sampled with a seed per row id") {
    val df = read("prompt" -> prompt, "rows" -> "5", "max_new_tokens" -> "8", "seed" -> "3", "partitions" -> "2")
    assert(df.schema == GenerationTable.SCHEMA)
    val got = df.orderBy("id").collect()
    val base = GenerationParams.builder().maxNewTokens(8).doSample(true).build()
    val bytes = prompt.getBytes("UTF-8")
    val params = (0 until 5).map(i => base.toBuilder.seed(RowSeeds.seed(3L, i.toLong, bytes)).build())
    val want = TestModels.engine(TestModels.demo)
      .generate(Seq.fill(5)(Input.text(prompt)).asJava, params.asJava, InputPolicy.DEFAULT).asScala
    assert(got.map(_.getLong(0)).toSeq == (0L until 5L))
    got.zip(want).foreach { case (r, w) =>
      assert(r.getString(1) == w.text)
      assert(r.getString(2) == w.finishReason.json)
      assert(r.getInt(3) == w.promptTokens)
      assert(r.getInt(4) == w.completionTokens)
      assert(r.isNullAt(5))
    }
    assert(got.map(_.getString(1)).distinct.length > 1, "sampling is on by default: rows differ")
  }

  test("the same rows whatever the partitions and batch size; columnar scan") {
    val options = Seq("prompt" -> prompt, "rows" -> "7", "max_new_tokens" -> "6", "seed" -> "11")
    val one = texts(read(options :+ ("partitions" -> "1"): _*))
    val three = withConf("spark.gptneo.batch.rows" -> "2") { texts(read(options :+ ("partitions" -> "3"): _*)) }
    assert(one == three)
    val df = read(options: _*)
    val rows = df.collect()
    val scans = collect(df.queryExecution.executedPlan) { case s: BatchScanExec => s }
    assert(scans.size == 1 && scans.head.supportsColumnar, df.queryExecution.executedPlan.toString)
    // the scan's metrics (Spark UI): tokens summed over tasks
    val metrics = scans.head.metrics
    assert(metrics("generatedTokens").value == rows.map(_.getInt(4).toLong).sum, metrics.toString)
    assert(metrics("promptTokens").value == rows.map(_.getInt(3).toLong).sum)
    assert(metrics("failedRows").value == 0)
  }

  test("a long prompt, whose start the rows of a batch share, gives the same rows in any batch") {
    val long = "Dear customer, thank you for your order of the twelfth. We are writing to let you know that"
    assert(TestModels.engine(TestModels.demo).tokenizer().get().encode(long).length > 16)
    val options = Seq("prompt" -> long, "rows" -> "6", "max_new_tokens" -> "6", "seed" -> "5")
    val together = texts(read(options :+ ("partitions" -> "1"): _*))
    val single = withConf("spark.gptneo.batch.rows" -> "1") { texts(read(options :+ ("partitions" -> "2"): _*)) }
    assert(together == single)
    assert(together.map(_._2).distinct.length > 1)
  }

  test("SQL: a temporary view USING gptneo; greedy rows are all the engine's greedy text") {
    sql(s"""CREATE OR REPLACE TEMPORARY VIEW drafts USING gptneo
        OPTIONS (prompt '$prompt', rows '4', max_new_tokens '5', greedy 'true')""")
    val rows = sql("SELECT id, text, finish_reason FROM drafts ORDER BY id").collect()
    val want = TestModels.engine(TestModels.demo).generate(java.util.List.of(Input.text(prompt)),
      GenerationParams.builder().maxNewTokens(5).build(), InputPolicy.DEFAULT).get(0).text
    assert(rows.length == 4)
    assert(rows.forall(_.getString(1) == want))
  }

  test("a row error fails the read, or with on_error = null fills the error column") {
    val options = Seq("prompt" -> prompt, "rows" -> "3", "max_input_tokens" -> "2", "max_new_tokens" -> "4")
    val e = intercept[Exception](read(options: _*).collect())
    assert(Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null).exists(_.getMessage.contains("on_error")),
      e.toString)
    val rows = read(options :+ ("on_error" -> "null"): _*).collect()
    assert(rows.length == 3)
    assert(rows.forall(r => r.isNullAt(1) && r.getString(5).nonEmpty), rows.mkString("\n"))
  }

  test("bad options fail when the query is built, naming the problem") {
    def message(options: (String, String)*): String = intercept[IllegalArgumentException](read(options: _*)).getMessage
    assert(message("rows" -> "3").contains("needs option 'prompt'"))
    assert(message("prompt" -> "x", "temprature" -> "0.5").contains("Valid options of the gptneo source: prompt, rows"))
    assert(message("prompt" -> "x", "rows" -> "0").contains("'rows' must be a whole number from 1"))
    assert(message("prompt" -> "x", "output" -> "struct").contains("does not apply"))
    assert(message("prompt" -> "x", "num_return_sequences" -> "2").contains("set 'rows'"))
    assert(message("prompt" -> "x", "logprobs" -> "true").contains("option 'logprobs' does not apply"))
    assert(message("prompt" -> "x", "top_p" -> "2").contains("top_p"))
    assert(intercept[IllegalArgumentException](spark.read.format("gptneo").option("prompt", "x").load("some/file"))
      .getMessage.contains("reads no files"))
  }
}
