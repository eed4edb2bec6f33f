package dev.gptneo.spark.distribution

import java.io.File

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions.udf
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite

import dev.gptneo.engine.api.{Input, InputPolicy}
import dev.gptneo.spark.GptNeoSpark
import dev.gptneo.spark.testing.{SampleData, TestModels}

/**
 * Two executor JVMs (local-cluster[2,1,1024], set up as ../shared/SPARK-NOTES.md says): by
 * broadcast and by path, each executor JVM loads a model exactly once, and results are right.
 * Runs in its own surefire execution (its own test JVM), as one JVM holds one SparkContext.
 */
class ClusterSuite extends AnyFunSuite with BeforeAndAfterAll {
  private var spark: SparkSession = _
  private val driverPid = ProcessHandle.current().pid()
  private val subjects = SampleData.emails.map(_.subject).filter(_.nonEmpty).take(64)

  override def beforeAll(): Unit = {
    val home = new File(sys.props.getOrElse("gptneo.fakeSparkHome", "target/spark-home"))
    new File(home, "jars").mkdirs()
    val classPath = System.getProperty("java.class.path").split(File.pathSeparator)
      .map(p => new File(p).getAbsolutePath).mkString(File.pathSeparator)
    val flags = sys.props.getOrElse("gptneo.jvmFlags", "--add-modules=jdk.incubator.vector")
    spark = SparkSession.builder()
      .master("local-cluster[2,1,1024]")
      .appName("gptneo-cluster-test")
      .config("spark.executor.extraClassPath", classPath)
      .config("spark.executor.extraJavaOptions", flags)
      .config("spark.sql.extensions", GptNeoSpark.EXTENSIONS)
      .config("spark.ui.enabled", "false")
      .getOrCreate()
    val deadline = System.nanoTime() + 60L * 1000 * 1000 * 1000
    while (spark.sparkContext.getExecutorMemoryStatus.size < 3 && System.nanoTime() < deadline) {
      Thread.sleep(100)
    }
    assert(spark.sparkContext.getExecutorMemoryStatus.size == 3, "two executors registered")
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
}
