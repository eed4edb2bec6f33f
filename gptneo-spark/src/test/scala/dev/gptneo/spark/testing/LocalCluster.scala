package dev.gptneo.spark.testing

import java.io.File

import org.apache.spark.sql.SparkSession

import dev.gptneo.spark.GptNeoSpark

/**
 * A local-cluster session, set up as ../shared/SPARK-NOTES.md says (fake SPARK_HOME from the
 * surefire execution, the test JVM's class path with absolute paths, JVM flags), that returns
 * once every executor has registered. One per JVM at a time.
 */
object LocalCluster {
  def start(executors: Int, coresEach: Int, app: String, conf: (String, String)*): SparkSession = {
    val home = new File(sys.props.getOrElse("gptneo.fakeSparkHome", "target/spark-home"))
    new File(home, "jars").mkdirs()
    val classPath = System.getProperty("java.class.path").split(File.pathSeparator)
      .map(p => new File(p).getAbsolutePath).mkString(File.pathSeparator)
    val flags = sys.props.getOrElse("gptneo.jvmFlags", "--add-modules=jdk.incubator.vector")
    val builder = SparkSession.builder()
      .master(s"local-cluster[$executors,$coresEach,1024]")
      .appName(app)
      .config("spark.executor.extraClassPath", classPath)
      .config("spark.executor.extraJavaOptions", flags)
      .config("spark.sql.extensions", GptNeoSpark.EXTENSIONS)
      .config("spark.ui.enabled", "false")
    conf.foreach { case (k, v) => builder.config(k, v) }
    val spark = builder.getOrCreate()
    val deadline = System.nanoTime() + 60L * 1000 * 1000 * 1000
    while (spark.sparkContext.getExecutorMemoryStatus.size < executors + 1 && System.nanoTime() < deadline) {
      Thread.sleep(100)
    }
    assert(spark.sparkContext.getExecutorMemoryStatus.size == executors + 1, s"$executors executors registered")
    spark
  }
}
