package dev.gptneo.spark.distribution

import java.nio.file.{Files, Path}
import java.nio.file.attribute.PosixFilePermissions

import scala.jdk.CollectionConverters._

import org.apache.spark.TaskContext
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions.udf
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite

import dev.gptneo.engine.api.{Input, InputPolicy}
import dev.gptneo.spark.testing.{LocalCluster, SampleData, TestModels}

/**
 * One executor with two cores and two GPUs (as a discovery script reports them; no CUDA here, so
 * device auto runs on the CPU), one GPU per task: each task's engine is on the GPU Spark assigned
 * to it, one engine per GPU and JVM. Local masters assign no resources, hence local-cluster.
 */
class GpuClusterSuite extends AnyFunSuite with BeforeAndAfterAll {
  private var spark: SparkSession = _
  private val subjects = SampleData.emails.map(_.subject).filter(_.nonEmpty).take(48)

  override def beforeAll(): Unit = {
    val script = Files.createTempFile("gptneo-gpus", ".sh",
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")))
    Files.writeString(script, "#!/usr/bin/env bash\necho '{\"name\":\"gpu\",\"addresses\":[\"0\",\"1\"]}'\n")
    spark = LocalCluster.start(1, 2, "gptneo-gpu-cluster-test",
      "spark.worker.resource.gpu.amount" -> "2",
      "spark.worker.resource.gpu.discoveryScript" -> script.toString,
      "spark.executor.resource.gpu.amount" -> "2",
      "spark.task.resource.gpu.amount" -> "1")
    // evaluated after the gptneo operator in the same task: the task, its GPUs, and this JVM's loads of the model
    spark.udf.register("task_gpu", udf { (hash: String) =>
      val task = TaskContext.get()
      val gpus = Option(task.resourcesJMap().get("gpu")).map(_.addresses.mkString(",")).getOrElse("")
      val loads = LocalModels.loads().asScala.filter(_.hash == hash).map(r => s"${r.device}@${r.taskId}")
      s"${task.taskAttemptId()} $gpus ${loads.mkString(",")}"
    }.asNondeterministic())
  }

  override def afterAll(): Unit = if (spark != null) spark.stop()

  private lazy val want = TestModels.engine(TestModels.demo)
    .classify(subjects.map(Input.text).asJava, InputPolicy.DEFAULT).asScala.toSeq.map(_.label)

  /** Runs a query on the GPU-assigned tasks; returns each task's GPU and the loads (device, task) seen. */
  private def run(tag: String, device: String): (Map[Long, String], Set[(String, Long)]) = {
    val model = TestModels.variant(TestModels.demo, tag)
    val hash = ModelFolder.inspect(model.getAbsolutePath, spark.sparkContext.hadoopConfiguration).contentHash
    spark.conf.set("spark.gptneo.device", device)
    spark.conf.set(s"spark.gptneo.models.$tag", model.getAbsolutePath)
    val session = spark
    import session.implicits._
    val rows = subjects.zipWithIndex.toDF("s", "i").repartition(6)
      .selectExpr("i", s"gptneo_classify(s, map('model', '$tag')) AS label", s"task_gpu('$hash') AS t")
      .collect().sortBy(_.getInt(0))
    assert(rows.map(_.getString(1)).toSeq == want, "labels")
    val seen = rows.map(_.getString(2).split(" ", -1))
    val taskGpu = seen.map(s => s(0).toLong -> s(1)).toMap
    val loads = seen.flatMap(_(2).split(",").filter(_.nonEmpty)).map { l =>
      val Array(d, t) = l.split("@")
      (d, t.toLong)
    }.toSet
    (taskGpu, loads)
  }

  test("device auto: each task's engine is on the GPU Spark assigned; one engine per GPU, shared by its tasks") {
    val (taskGpu, loads) = run("gpus", "auto")
    assert(taskGpu.values.toSet == Set("0", "1"), s"tasks ran on both GPUs, one each: $taskGpu")
    assert(loads.map(_._1) == Set("auto:0", "auto:1") && loads.size == 2, s"one load per GPU: $loads")
    loads.foreach { case (device, task) =>
      assert(device == "auto:" + taskGpu(task), s"task $task (gpu ${taskGpu(task)}) loaded $device")
    }
    assert(run("gpus", "auto")._2 == loads, "a second query reuses both engines")
  }

  test("an explicit auto:N outside Spark's assignment gives way to it") {
    val (taskGpu, loads) = run("gpus7", "auto:7")
    assert(loads.map(_._1) == Set("auto:0", "auto:1"), s"$loads")
    loads.foreach { case (device, task) => assert(device == "auto:" + taskGpu(task)) }
  }

  test("device cpu: one engine per JVM whatever GPUs the tasks hold") {
    val (taskGpu, loads) = run("gpucpu", "cpu")
    assert(taskGpu.values.toSet == Set("0", "1"))
    assert(loads.map(_._1) == Set("cpu") && loads.size == 1, s"$loads")
  }
}
