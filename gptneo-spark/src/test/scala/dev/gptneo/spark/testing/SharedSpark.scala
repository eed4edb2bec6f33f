package dev.gptneo.spark.testing

import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.execution.SparkPlan
import org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanHelper
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite

import dev.gptneo.spark.GptNeoSpark
import dev.gptneo.spark.execution.GptNeoEvalExec

/** One local[2] SparkSession for every suite of the test JVM, with the extension and the demo model. */
object SharedSpark {
  lazy val spark: SparkSession = {
    val s = SparkSession.builder()
      .master("local[2]")
      .appName("gptneo-spark-tests")
      .config("spark.sql.extensions", GptNeoSpark.EXTENSIONS)
      .config("spark.gptneo.model", TestModels.demo.getAbsolutePath)
      .config("spark.gptneo.models.heads", TestModels.withHeads.getAbsolutePath)
      .config("spark.ui.enabled", "false")
      .config("spark.sql.shuffle.partitions", "2")
      .getOrCreate()
    sys.addShutdownHook(s.stop())
    s
  }
}

trait SparkSuite extends AnyFunSuite with BeforeAndAfterAll with AdaptiveSparkPlanHelper {
  lazy val spark: SparkSession = SharedSpark.spark

  /** The gptneo operators of a query's executed plan (through adaptive execution). */
  def gptneoOperators(df: DataFrame): Seq[GptNeoEvalExec] =
    collect(df.queryExecution.executedPlan) { case e: GptNeoEvalExec => e }

  def sql(text: String): DataFrame = spark.sql(text)

  /** Runs a query with a session setting changed, restoring it afterwards. */
  def withConf[T](pairs: (String, String)*)(body: => T): T = {
    val old = pairs.map { case (k, _) => k -> spark.conf.getOption(k) }
    pairs.foreach { case (k, v) => spark.conf.set(k, v) }
    try body finally old.foreach {
      case (k, Some(v)) => spark.conf.set(k, v)
      case (k, None) => spark.conf.unset(k)
    }
  }

  def plan(df: DataFrame): SparkPlan = df.queryExecution.executedPlan

  /**
   * Results are bit-identical whatever the batch, so this is equality; kept as a helper with a
   * zero default so a test can state a tolerance where one is meant.
   */
  def assertClose(got: Double, want: Double, relative: Double = 0.0): Unit =
    assert(math.abs(got - want) <= relative * math.max(math.abs(want), 1e-12), s"$got != $want")
}
