package dev.gptneo.spark.distribution

import scala.jdk.CollectionConverters._

import org.scalatest.funsuite.AnyFunSuite

import dev.gptneo.engine.api.EngineOptions
import dev.gptneo.spark.GptNeoConf

/** The device a task's engines use, from spark.gptneo.device and Spark's GPU assignment (no Spark needed). */
class GpuAssignmentSuite extends AnyFunSuite {
  private def decide(setting: String, gpus: String*) = GpuAssignment.decide(setting, gpus.asJava, 12)

  test("cpu (the default) stays on the CPU; GPUs Spark assigned anyway get a warning naming the fix") {
    for (setting <- Seq(null, "cpu", " CPU ")) {
      val a = decide(setting)
      assert((a.key, a.index, a.warning) == (("cpu", 0, null)))
    }
    val a = decide(null, "1")
    assert(a.key == "cpu")
    assert(a.warning.contains("spark.gptneo.device is cpu") && a.warning.contains("auto"), a.warning)
  }

  test("no GPU assigned by Spark: the :N of the setting, else device 0") {
    val a = decide("auto")
    assert(a.key == "auto:0")
    assert(a.reason == "no GPU resource assigned by Spark to task 12; device 0")
    val b = decide("cuda:3")
    assert(b.key == "cuda:3")
    assert(b.reason == "no GPU resource assigned by Spark to task 12; device 3 from spark.gptneo.device=cuda:3")
    assert(GpuAssignment.decide("cuda", java.util.List.of(), -1).reason.contains("to this task"))
  }

  test("Spark's assignment: its GPU; the first of several") {
    val a = decide("auto", "1")
    assert(a.key == "auto:1" && a.warning == null)
    assert(a.reason == "gpu 1 assigned by Spark to task 12")
    val b = decide("cuda", "2", "3")
    assert(b.key == "cuda:2")
    assert(b.reason == "gpus 2,3 assigned by Spark to task 12; using the first")
  }

  test("an explicit cuda:N is used when Spark assigned N, else Spark's GPU wins with a warning") {
    val a = decide("cuda:3", "2", "3")
    assert(a.key == "cuda:3" && a.warning == null)
    assert(a.reason == "gpu 3 of the gpus 2,3 assigned by Spark to task 12, as spark.gptneo.device=cuda:3 asks")
    val b = decide("auto:5", "1")
    assert(b.key == "auto:1")
    assert(b.warning.startsWith("spark.gptneo.device=auto:5 names gpu 5, but Spark assigned gpu 1"), b.warning)
    assert(b.warning == GpuAssignment.decide("auto:5", java.util.List.of("1"), 99).warning, "one warning for all tasks")
  }

  test("an address that is not a CUDA ordinal fails, naming it and the discovery script") {
    for (bad <- Seq("GPU-8f1c2d", "-1", "0.5", "")) {
      val e = intercept[IllegalArgumentException](decide("auto", bad))
      assert(e.getMessage.contains(s"'$bad'") && e.getMessage.contains("task 12"), e.getMessage)
      assert(e.getMessage.contains("spark.executor.resource.gpu.discoveryScript"), e.getMessage)
    }
    assert(decide("cpu", "GPU-8f1c2d").key == "cpu", "cpu never reads the addresses")
  }

  test("apply keeps the other engine options; a bad setting fails when the query is planned") {
    val base = EngineOptions.builder().threads(3).maxBatchTokens(64).device("cuda:4").build()
    val o = decide("auto", "1").apply(base)
    assert((o.device, o.deviceIndex, o.threads, o.maxBatchTokens) == (("auto", 1, 3, 64)))
    val c = decide("cpu").apply(base)
    assert((c.device, c.threads) == (("cpu", 3)))
    val e = intercept[IllegalArgumentException](GptNeoConf.from(java.util.Map.of("spark.gptneo.device", "tpu")))
    assert(e.getMessage.startsWith("spark.gptneo.device: device must be cpu, cuda, auto or cuda:N"), e.getMessage)
    assert(GpuAssignment.sparkGpus(null).isEmpty)
  }

  test("the KV-cache fraction for GPUs: passed to the engine, and a bad value names the key") {
    val conf = GptNeoConf.from(java.util.Map.of("spark.gptneo.engine.kvCacheFraction", "0.5"))
    assert(conf.engineOptions().kvCacheFraction == 0.5)
    assert(GptNeoConf.from(java.util.Map.of[String, String]()).engineOptions().kvCacheFraction == 0.9)
    for (bad <- Seq("0", "1.5", "half")) {
      val e = intercept[IllegalArgumentException](
        GptNeoConf.from(java.util.Map.of("spark.gptneo.engine.kvCacheFraction", bad)))
      assert(e.getMessage.startsWith("spark.gptneo.engine.kvCacheFraction must be a fraction"), e.getMessage)
    }
  }
}
