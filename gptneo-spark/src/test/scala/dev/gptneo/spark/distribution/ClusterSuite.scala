package dev.gptneo.spark.distribution

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions.udf
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite

import dev.gptneo.engine.api.{Input, InputPolicy}
import dev.gptneo.spark.GptNeoSpark
import dev.gptneo.spark.testing.{LocalCluster, SampleData, TestModels}

/**
 * Two executor JVMs (local-cluster[2,1,1024], see LocalCluster): by
 * broadcast and by path, each executor JVM loads a model exactly once, and results are right.
 * Runs in the local-cluster surefire execution (its own test JVM: SparkContexts one at a time).
 */
class ClusterSuite extends AnyFunSuite with BeforeAndAfterAll {
  private var spark: SparkSession = _
  private val driverPid = ProcessHandle.current().pid()
  private val subjects = SampleData.emails.map(_.subject).filter(_.nonEmpty).take(64)

  override def beforeAll(): Unit = {
    spark = LocalCluster.start(2, 1, "gptneo-cluster-test")
    // evaluated after the gptneo operator in the same task: which JVM, and how often it loaded the model
    spark.udf.register("jvm_loads", udf((hash: String) =>
      s"${ProcessHandle.current().pid()} ${LocalModels.loadCount(hash)} " +
        LocalModels.loads().asScala.filter(_.hash == hash).map(_.source).mkString(",")).asNondeterministic())
  }

  override def afterAll(): Unit = if (spark != null) spark.stop()

  private def labelsFrom(distribution: String, tag: String): Unit = {
    val model = TestModels.variant(TestModels.demo, tag)
    val hash = ModelFolder.inspect(model.getAbsolutePath, spark.sparkContext.hadoopConfiguration).contentHash
    spark.conf.set("spark.gptneo.distribution", distribution)
    spark.conf.set(s"spark.gptneo.models.$tag", model.getAbsolutePath)
    val session = spark
    import session.implicits._
    def run() = {
      val df = subjects.zipWithIndex.toDF("s", "i").repartition(8)
        .selectExpr("i", s"gptneo_classify(s, map('model', '$tag')) AS label", s"jvm_loads('$hash') AS jvm")
      df.collect().sortBy(_.getInt(0))
    }
    val want = TestModels.engine(TestModels.demo)
      .classify(subjects.map(Input.text).asJava, InputPolicy.DEFAULT).asScala.map(_.label)
    for (round <- 1 to 2) {
      val rows = run()
      assert(rows.map(_.getString(1)).toSeq == want, s"labels, round $round")
      val perJvm = rows.map(_.getString(2).split(" ")).groupBy(_(0)).map { case (pid, v) => pid -> v.head }
      assert(perJvm.size == 2, s"both executors ran tasks: $perJvm")
      assert(!perJvm.contains(driverPid.toString), "tasks ran in executor JVMs, not the driver")
      perJvm.values.foreach { case Array(_, count, sources) =>
        assert(count == "1", s"one load per executor JVM (round $round)")
        assert(sources == distribution, sources)
      }
    }
  }

  test("broadcast: two executor JVMs each load the model exactly once, results correct") {
    labelsFrom("broadcast", "clusterbc")
  }

  test("path: two executor JVMs each load the model exactly once, results correct") {
    labelsFrom("path", "clusterpath")
  }

  test("unloadModels reaches both executor JVMs") {
    assert(GptNeoSpark.unloadModels(spark) == 4, "two models in each of two executors")
    assert(GptNeoSpark.unloadModels(spark) == 0)
  }

  test("the gptneo data source reads in executor JVMs (model by broadcast), rows as on the driver") {
    spark.conf.set("spark.gptneo.distribution", "broadcast")
    val prompt = "Dear friend, I am writing to tell you about"
    val read = () => spark.read.format("gptneo").option("prompt", prompt).option("rows", "6")
      .option("partitions", "3").option("max_new_tokens", "5").option("seed", "2")
      .option("model", TestModels.demo.getAbsolutePath).load()
      .orderBy("id").collect().map(_.getString(1)).toSeq
    val onExecutors = read()
    assert(onExecutors.size == 6 && onExecutors.forall(_ != null))
    val base = dev.gptneo.engine.generate.GenerationParams.builder().maxNewTokens(5).doSample(true).build()
    val params = (0 until 6).map(i => base.toBuilder.seed(
      dev.gptneo.spark.execution.RowSeeds.seed(2L, i.toLong, prompt.getBytes("UTF-8"))).build())
    val want = TestModels.engine(TestModels.demo)
      .generate(Seq.fill(6)(Input.text(prompt)).asJava, params.asJava, InputPolicy.DEFAULT).asScala.map(_.text)
    assert(onExecutors == want.toSeq)
  }
}
