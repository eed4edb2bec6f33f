package dev.gptneo.spark.streaming

import java.nio.file.Files

import org.apache.spark.sql.streaming.Trigger

import dev.gptneo.spark.execution.GptNeoEvalExec
import dev.gptneo.spark.testing.{SampleData, SparkSuite}

/**
 * Structured Streaming: the functions run in micro-batches (a file source, AvailableNow, a memory
 * sink) through the same batched operator, and give the rows a batch query gives.
 */
class StreamingSuite extends SparkSuite {
  import spark.implicits._

  test("a streaming query labels each micro-batch in batches, as the batch query does") {
    val dir = Files.createTempDirectory("gptneo-stream")
    val texts = SampleData.prompts.take(6)
    texts.zipWithIndex.toDF("text", "id").coalesce(1).write.mode("overwrite").json(dir.resolve("in1").toString)
    texts.reverse.zipWithIndex.map { case (t, i) => (t, i + 100) }.toDF("text", "id").coalesce(1)
      .write.mode("overwrite").json(dir.resolve("in2").toString)
    val input = dir.resolve("input")
    Files.createDirectories(input)
    Files.list(dir.resolve("in1")).filter(_.toString.endsWith(".json")).forEach(p => Files.copy(p, input.resolve("a.json")))
    Files.list(dir.resolve("in2")).filter(_.toString.endsWith(".json")).forEach(p => Files.copy(p, input.resolve("b.json")))
    val schema = "text STRING, id INT"
    val labelled = spark.readStream.schema(schema).option("maxFilesPerTrigger", "1").json(input.toString)
      .selectExpr("id", "gptneo_classify(text) AS label",
        "gptneo_generate(text, map('max_new_tokens', '4')) AS completion")
    val query = labelled.writeStream.format("memory").queryName("gptneo_stream_out")
      .option("checkpointLocation", dir.resolve("checkpoint").toString)
      .trigger(Trigger.AvailableNow()).start()
    try {
      query.awaitTermination(180000)
      assert(query.exception.isEmpty, query.exception.map(_.toString).getOrElse(""))
      assert(query.recentProgress.count(_.numInputRows > 0) == 2, "one micro-batch per file")
      val lastPlan = query.asInstanceOf[org.apache.spark.sql.execution.streaming.runtime.StreamingQueryWrapper]
        .streamingQuery.lastExecution.executedPlan
      assert(collect(lastPlan) { case e: GptNeoEvalExec => e }.nonEmpty, lastPlan.toString)
      val streamed = spark.table("gptneo_stream_out").collect().map(r => r.getInt(0) -> (r.getString(1), r.getString(2))).toMap
      val batch = spark.read.schema(schema).json(input.toString)
        .selectExpr("id", "gptneo_classify(text)", "gptneo_generate(text, map('max_new_tokens', '4'))").collect()
        .map(r => r.getInt(0) -> (r.getString(1), r.getString(2))).toMap
      assert(streamed.size == 2 * texts.size)
      assert(streamed == batch)
    } finally {
      query.stop()
    }
  }
}
