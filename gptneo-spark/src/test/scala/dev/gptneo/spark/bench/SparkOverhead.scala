package dev.gptneo.spark.bench

import java.io.File

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.SparkSession

import dev.gptneo.engine.api.{Engine, EngineOptions, Input, InputPolicy, Truncation}
import dev.gptneo.spark.GptNeoSpark
import dev.gptneo.spark.testing.{SampleData, TestModels}

/**
 * Spark's overhead on the sample emails: the same spam/ham classification (subject + "\n" + body,
 * first 256 tokens), once through `gptneo_classify` in a local Spark and once on the engine alone,
 * with the same threads, in one JVM. Prints one JSON line per measurement and the ratio.
 * Not a test: run gptneo-spark/bench/spark-overhead.sh (see docs/BENCHMARKS.md).
 *
 * Arguments: [threads (default: cores)] [repetitions (default 3)] [copies of the 300 emails (default 2)]
 */
object SparkOverhead {
  def main(args: Array[String]): Unit = {
    val threads = args.headOption.map(_.toInt).getOrElse(Runtime.getRuntime.availableProcessors())
    val reps = if (args.length > 1) args(1).toInt else 3
    val copies = if (args.length > 2) args(2).toInt else 2
    val emails = (0 until copies).flatMap(c => SampleData.emails.map(e => (s"${e.id}#$c", e.text)))
    val policy = new InputPolicy(256, Truncation.RIGHT)

    // The engine alone: every row in one call, as the engine likes it best.
    val engine = Engine.open(TestModels.demo.toPath, EngineOptions.builder().threads(threads).build())
    val inputs = emails.map(e => Input.text(e._2)).asJava
    def engineRun(): Unit = require(engine.classify(inputs, policy).size == emails.size)

    // Spark: the rows in Parquet, the SQL function, every row computed (noop sink).
    val spark = SparkSession.builder().master(s"local[$threads]").appName("gptneo-spark-overhead")
      .config("spark.sql.extensions", GptNeoSpark.EXTENSIONS)
      .config("spark.gptneo.model", TestModels.demo.getAbsolutePath)
      .config("spark.ui.enabled", "false")
      .getOrCreate()
    import spark.implicits._
    val dir = new File(System.getProperty("java.io.tmpdir"), s"gptneo-bench-emails-${ProcessHandle.current().pid()}")
    emails.toDF("id", "text").repartition(threads).write.mode("overwrite").parquet(dir.getAbsolutePath)
    val query = spark.read.parquet(dir.getAbsolutePath)
      .selectExpr("id", "gptneo_classify(text, map('max_input_tokens', '256', 'truncation', 'right')) AS label")
    def sparkRun(): Unit = query.write.format("noop").mode("overwrite").save()
    // Spark's own cost for the same scan and job, without the model: the floor of any overhead
    val plain = spark.read.parquet(dir.getAbsolutePath).selectExpr("id", "length(text) AS label")
    def plainRun(): Unit = plain.write.format("noop").mode("overwrite").save()

    // warm up (model loads, JIT), then alternate so that a noisy machine slows both alike
    engineRun(); sparkRun(); plainRun()
    val times = Map("engine" -> Array.newBuilder[Double], "spark" -> Array.newBuilder[Double],
      "spark_without_model" -> Array.newBuilder[Double])
    def timed(name: String)(run: => Unit): Unit = {
      val t0 = System.nanoTime()
      run
      times(name) += (System.nanoTime() - t0) / 1e9
    }
    for (_ <- 1 to reps) {
      timed("engine")(engineRun())
      timed("spark")(sparkRun())
      timed("spark_without_model")(plainRun())
    }
    engine.close()
    spark.stop()
    val medians = for (name <- Seq("engine", "spark", "spark_without_model")) yield {
      val sorted = times(name).result().sorted
      val median = sorted(sorted.length / 2)
      println(f"""{"measurement": "$name", "rows": ${emails.size}, "threads": $threads, "median_s": $median%.3f, "rows_per_s": ${emails.size / median}%.1f, "runs_s": [${sorted.map(t => f"$t%.3f").mkString(", ")}]}""")
      name -> median
    }
    val m = medians.toMap
    println(f"""{"measurement": "ratio", "spark_over_engine": ${m("spark") / m("engine")}%.3f, "rows": ${emails.size}, "threads": $threads}""")
  }
}
