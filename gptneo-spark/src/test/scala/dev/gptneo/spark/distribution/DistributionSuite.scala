package dev.gptneo.spark.distribution

import java.io.File

import scala.jdk.CollectionConverters._

import dev.gptneo.engine.api.{Input, InputPolicy}
import dev.gptneo.spark.GptNeoSpark
import dev.gptneo.spark.distribution.ModelFolder.ModelFile
import dev.gptneo.spark.execution.OperatorMetrics
import dev.gptneo.spark.testing.{SampleData, SparkSuite, TestModels}

/** Model registry, content hash, broadcast in chunks, one load per JVM, unload (local[2]; see ClusterSuite too). */
class DistributionSuite extends SparkSuite {
  import spark.implicits._

  private def hadoopConf = spark.sparkContext.hadoopConfiguration
  private def hashOf(dir: File) = ModelFolder.inspect(dir.getAbsolutePath, hadoopConf).contentHash
  private val subjects = SampleData.emails.map(_.subject).filter(_.nonEmpty).take(30)
  private def demoLabels = TestModels.engine(TestModels.demo)
    .classify(subjects.map(Input.text).asJava, InputPolicy.DEFAULT).asScala.map(_.label)

  private def classify(model: String) = {
    val df = subjects.zipWithIndex.toDF("s", "i").repartition(3)
      .selectExpr("i", s"gptneo_classify(s, map('model', '$model'))")
    val labels = df.collect().sortBy(_.getInt(0)).map(_.getString(1)).toSeq
    (labels, gptneoOperators(df).map(_.metrics().apply(OperatorMetrics.MODEL_LOADS).value).sum)
  }

  test("chunks stay small for files above 2 GB: offsets are longs, no slice is larger than the chunk size") {
    val files = java.util.List.of(new ModelFile("config.json", 900, 0), new ModelFile("model.safetensors",
      5L * 1024 * 1024 * 1024 + 17, 0), new ModelFile("vocab.json", 0, 0))
    val chunk = 64L << 20
    val slices = ModelChunks.plan(files, chunk).asScala
    assert(slices.forall(_.length <= chunk))
    val big = slices.filter(_.file == "model.safetensors")
    assert(big.map(_.length.toLong).sum == 5L * 1024 * 1024 * 1024 + 17)
    assert(big.last.offset > Int.MaxValue)
    assert(big.zip(big.tail).forall { case (a, b) => b.offset == a.offset + a.length })
    intercept[IllegalArgumentException](ModelChunks.plan(files, 3L << 30))
  }

  test("a Hugging Face Hub id runs the driver's cached snapshot (links into blobs/), downloading nothing") {
    val cache = java.nio.file.Files.createTempDirectory("hf-hub")
    val repo = cache.resolve("models--acme--demo-neo")
    val commit = "0123456789abcdef0123456789abcdef01234567"
    val snapshot = java.nio.file.Files.createDirectories(repo.resolve("snapshots").resolve(commit))
    java.nio.file.Files.createDirectories(repo.resolve("blobs"))
    java.nio.file.Files.createDirectories(repo.resolve("refs"))
    java.nio.file.Files.writeString(repo.resolve("refs/main"), commit)
    for (f <- TestModels.demo.listFiles() if ModelFolder.isModelFile(f.getName)) {
      val blob = repo.resolve("blobs").resolve("b" + f.getName.hashCode.toHexString)
      java.nio.file.Files.copy(f.toPath, blob)
      java.nio.file.Files.createSymbolicLink(snapshot.resolve(f.getName),
        java.nio.file.Paths.get("../../blobs").resolve(blob.getFileName))
    }
    withConf("spark.gptneo.hubCache" -> cache.toString, "spark.gptneo.models.hub" -> "acme/demo-neo") {
      assert(classify("hub")._1 == demoLabels)
      assert(classify("acme/demo-neo")._1 == demoLabels)
      assert(ModelFolder.inspect(snapshot.toUri.toString, hadoopConf).contentHash == hashOf(TestModels.demo))
      val missing = intercept[Exception](classify("acme/not-cached")).getMessage
      assert(missing.contains("model acme/not-cached is not a folder, and the Hugging Face cache (" + cache)
        && missing.contains("spark.gptneo.hubCache"), missing)
    }
  }

  test("a model is identified by the content hash of its files") {
    val demo = ModelFolder.inspect(TestModels.demo.getAbsolutePath, hadoopConf)
    assert(demo.contentHash.matches("[0-9a-f]{64}"))
    assert(demo.files.asScala.map(_.name).toSet == Set("config.json", "model.safetensors", "merges.txt",
      "vocab.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"), "README.md is not model content")
    assert(hashOf(TestModels.demo) == demo.contentHash)
    assert(hashOf(TestModels.variant(TestModels.demo, "x")) != demo.contentHash)
    val missing = intercept[IllegalArgumentException](ModelFolder.inspect("/no/such/model", hadoopConf))
    assert(missing.getMessage.contains("does not exist"))
  }

  test("broadcast in 1 MB chunks: the model arrives whole, loads once per JVM, and gives the same results") {
    val model = TestModels.variant(TestModels.demo, "broadcast")
    val hash = hashOf(model)
    withConf("spark.gptneo.distribution" -> "broadcast", "spark.gptneo.broadcast.chunkSize" -> "1m",
      "spark.gptneo.models.bc" -> model.getAbsolutePath) {
      val (first, loads1) = classify("bc")
      val (second, loads2) = classify("bc")
      assert(first == demoLabels && second == demoLabels)
      assert((loads1, loads2) == ((1, 0)))
    }
    assert(LocalModels.loadCount(hash) == 1)
    assert(LocalModels.loads().asScala.filter(_.hash == hash).map(_.source) == Seq("broadcast"))
  }

  test("path distribution with a file: URI; auto picks path on a local master") {
    val model = TestModels.variant(TestModels.demo, "path")
    withConf("spark.gptneo.distribution" -> "path", "spark.gptneo.models.p" -> model.toURI.toString) {
      assert(classify("p")._1 == demoLabels)
    }
    val auto = TestModels.variant(TestModels.demo, "auto")
    withConf("spark.gptneo.models.a" -> auto.getAbsolutePath) {
      assert(classify("a")._1 == demoLabels)
    }
    assert(LocalModels.loads().asScala.filter(_.hash == hashOf(auto)).map(_.source) == Seq("path"))
  }

  test("path on another Hadoop file system: each executor copies the folder and checks its hash") {
    val model = TestModels.variant(TestModels.demo, "remote")
    // a session setting, as fs.s3a.* credentials would be: it reaches the executors with the query
    withConf("fs.gptneotest.impl" -> classOf[dev.gptneo.spark.testing.OtherFileSystem].getName,
      "spark.gptneo.models.remote" -> ("gptneotest://" + model.getAbsolutePath)) {
      assert(classify("remote")._1 == demoLabels)
    }
    val sources = LocalModels.loads().asScala.filter(_.hash == hashOf(model)).map(_.source)
    assert(sources == Seq(s"path (copied from gptneotest:${model.getAbsolutePath})"), sources)
  }

  test("a model folder can be given directly as the 'model' option") {
    val model = TestModels.variant(TestModels.demo, "direct")
    assert(classify(model.getAbsolutePath)._1 == demoLabels)
  }

  test("unloadModels closes the engines; the next query loads again") {
    val model = TestModels.variant(TestModels.demo, "unload")
    val hash = hashOf(model)
    withConf("spark.gptneo.models.u" -> model.getAbsolutePath) {
      classify("u")
      assert(LocalModels.loadedEngine(hash) != null)
      assert(GptNeoSpark.unloadModels(spark) >= 1)
      assert(LocalModels.loadedEngine(hash) == null)
      assert(classify("u")._2 == 1)
    }
    assert(LocalModels.loadCount(hash) == 2)
  }

  test("CALL gptneo.system.unload_models() unloads in SQL and says how many; unknown procedures list the known") {
    val model = TestModels.variant(TestModels.demo, "call")
    withConf("spark.gptneo.models.c" -> model.getAbsolutePath) {
      classify("c")
      assert(LocalModels.loadedEngine(hashOf(model)) != null)
      val unloaded = spark.sql("CALL gptneo.system.unload_models()").collect()
      assert(unloaded.length == 1 && unloaded(0).getInt(0) >= 1, unloaded.toSeq)
      assert(LocalModels.loadedEngine(hashOf(model)) == null)
      assert(spark.sql("CALL gptneo.system.unload_models()").head().getInt(0) == 0)
      val listed = spark.sql("SHOW PROCEDURES IN gptneo.system").collect().map(r => r.getString(r.length - 1))
      assert(listed.toSeq == Seq("unload_models"), listed.toSeq)
    }
    val e = intercept[Exception](spark.sql("CALL gptneo.system.unload()").collect())
    val messages = Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null).map(_.getMessage).toSeq
    assert(messages.head.contains("`gptneo`.`system`.`unload`"), messages) // Spark's, then the catalog's cause
    assert(messages.exists(_.contains("the gptneo procedures are: gptneo.system.unload_models()")), messages)
  }

  test("one engine per device, sharing one received copy; local masters assign no GPU, so the setting's :N is used") {
    val model = TestModels.variant(TestModels.demo, "devices")
    val hash = hashOf(model)
    val localDir = java.nio.file.Files.createTempDirectory("gptneo-devices")
    def copies = Option(localDir.resolve("gptneo-models").toFile.listFiles()).map(_.length).getOrElse(0)
    withConf("spark.gptneo.distribution" -> "broadcast", "spark.gptneo.models.dev" -> model.getAbsolutePath,
      "spark.gptneo.localDir" -> localDir.toString) {
      for (device <- Seq("auto:1", "auto", "auto:1", "cpu")) {
        withConf("spark.gptneo.device" -> device) {
          assert(classify("dev")._1 == demoLabels, device) // no CUDA here: auto runs on the CPU
        }
      }
      assert(LocalModels.loads().asScala.filter(_.hash == hash).map(_.device).sorted == Seq("auto:0", "auto:1", "cpu"))
      assert(copies == 1, "the engines share one copy of the files")
      assert(GptNeoSpark.unloadModels(spark) >= 3)
      assert(copies == 0, "the last engine to close deletes it")
    }
  }

  test("spark.gptneo.weights=mapped reads the weights from the files, with the packed engine's labels; bad values name the key") {
    val model = TestModels.variant(TestModels.demo, "mapped")
    withConf("spark.gptneo.models.mp" -> model.getAbsolutePath, "spark.gptneo.weights" -> "mapped") {
      assert(classify("mp")._1 == demoLabels)
      assert(LocalModels.loadedEngine(hashOf(model)).info().backend.contains("weights=memory-mapped"))
    }
    assert(GptNeoSpark.unloadModels(spark) >= 1)
    for ((key, value, expected) <- Seq(("spark.gptneo.weights", "heap", "weights must be auto, packed or mapped"),
        ("spark.gptneo.kernels", "fast", "kernels must be auto, vector or scalar"))) {
      val e = intercept[Exception] {
        withConf("spark.gptneo.models.mp" -> model.getAbsolutePath, key -> value) { classify("mp") }
      }
      assert(e.getMessage.contains(key + ": " + expected), e.getMessage)
    }
  }

  test("a missing model folder fails the query with the setting to fix") {
    val e = intercept[Exception] {
      withConf("spark.gptneo.models.gone" -> "/no/such/model") { classify("gone") }
    }
    assert(e.getMessage.contains("/no/such/model does not exist") && e.getMessage.contains("spark.gptneo.models"))
  }
}
