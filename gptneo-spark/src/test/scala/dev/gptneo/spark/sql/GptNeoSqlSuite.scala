package dev.gptneo.spark.sql

import java.io.{ByteArrayOutputStream, File, PrintStream}
import java.nio.file.Files

import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.databind.ObjectMapper

import org.apache.logging.log4j.LogManager
import org.apache.logging.log4j.core.{LogEvent, LoggerContext}
import org.apache.logging.log4j.core.appender.AbstractAppender
import org.apache.logging.log4j.core.config.Property

import dev.gptneo.spark.testing.{SparkSuite, TestModels}

/** bin/gptneo-sql's runner: arguments, statement splitting, output formats, the quick start. */
class GptNeoSqlSuite extends SparkSuite {

  /** Runs statements in the shared session; returns (status, stdout, stderr). */
  private def runSql(script: String, format: CliArgs.Output = CliArgs.Output.TABLE): (Int, String, String) = {
    val out = new ByteArrayOutputStream()
    val err = new ByteArrayOutputStream()
    val status = GptNeoSql.runStatements(spark, SqlStatements.split(script).asScala.toList.asJava, format,
      new PrintStream(out, true, "UTF-8"), new PrintStream(err, true, "UTF-8"))
    (status, out.toString("UTF-8"), err.toString("UTF-8"))
  }

  test("bad arguments exit with status 2 and the usage; --help exits 0") {
    for (args <- Seq(Seq("--bogus"), Seq("-e"), Seq(), Seq("-e", "SELECT 1", "-f", "x.sql"),
      Seq("-e", "SELECT 1", "--output", "xml"), Seq("--conf", "novalue", "-e", "SELECT 1"))) {
      val err = new ByteArrayOutputStream()
      val status = GptNeoSql.run(args.toArray, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err))
      assert(status == 2, args)
      assert(err.toString.contains("usage: gptneo-sql [--master URL] [--conf KEY=VALUE]..."), args)
    }
    val out = new ByteArrayOutputStream()
    assert(GptNeoSql.run(Array("--help"), new PrintStream(out), System.err) == 0)
    assert(out.toString.contains("--output FORMAT"))
    val parsed = CliArgs.parse(Array("--master", "local[3]", "--conf", "a.b=c=d", "--conf", "x=1", "-f", "q.sql",
      "--output", "csv"))
    assert((parsed.master, parsed.conf.asScala.toMap, parsed.file, parsed.output) ==
      (("local[3]", Map("a.b" -> "c=d", "x" -> "1"), "q.sql", CliArgs.Output.CSV)))
  }

  test("statements split at semicolons outside quotes and comments") {
    val parts = SqlStatements.split(
      "SELECT 'a;b' AS x; -- a comment; with a semicolon\nSELECT \"c;d\", `e;f` /* g; h */ FROM t;;\n SELECT 3")
    assert(parts.asScala == Seq("SELECT 'a;b' AS x", "SELECT \"c;d\", `e;f`   FROM t", "SELECT 3"))
    assert(SqlStatements.split("SELECT 'it\\'s; fine'").asScala == Seq("SELECT 'it\\'s; fine'"))
  }

  test("only the last statement's result is printed, as a table by default") {
    val (status, out, _) = runSql("CREATE OR REPLACE TEMPORARY VIEW v AS SELECT 1 AS a; SELECT a, 'x\ny' AS b FROM v")
    assert(status == 0)
    assert(out.linesIterator.toSeq == Seq("+---+------+", "| a | b    |", "+---+------+", "| 1 | x\\ny |",
      "+---+------+", "1 row"))
  }

  test("--output jsonl: one JSON object per row, structs nested, nulls kept") {
    val (status, out, err) = runSql("""SELECT 1 AS id, gptneo_classify('Win money now', map('output', 'struct')) AS c,
        CAST(NULL AS STRING) AS nothing""", CliArgs.Output.JSONL)
    assert(status == 0, err)
    val lines = out.linesIterator.toSeq
    assert(lines.size == 1)
    val json = new ObjectMapper().readTree(lines.head)
    assert(json.get("id").asInt() == 1)
    assert(json.get("c").get("label").asText().matches("ham|spam"))
    assert(json.get("c").get("probabilities").size() == 2)
    assert(json.has("nothing") && json.get("nothing").isNull)
    assert(err.contains("[gptneo-sql] statement 1: 1 rows through gptneo"), err)
  }

  test("--output csv: a header, quoted fields, JSON for complex values") {
    val (status, out, _) = runSql("SELECT 'a,b' AS s, array(1, 2) AS arr, CAST(NULL AS INT) AS n",
      CliArgs.Output.CSV)
    assert(status == 0)
    assert(out.linesIterator.toSeq == Seq("s,arr,n", "\"a,b\",\"[1,2]\","))
  }

  test("a failing statement gives status 1 and its message") {
    val (status, _, err) = runSql("SELECT 1; SELECT gptneo_generate('x', map('nope', '1'))")
    assert(status == 1)
    assert(err.contains("statement 2 failed") && err.contains("unknown option 'nope'"), err)
  }

  test("a task failed by a bad row logs no Spark stack trace or abort line (the message is printed once); others do") {
    RowFailureLogFilter.install()
    RowFailureLogFilter.install() // once is enough; twice must not stack filters
    val context = LogManager.getContext(false).asInstanceOf[LoggerContext]
    val logged = new java.util.concurrent.ConcurrentLinkedQueue[String]()
    val capture = new AbstractAppender("capture", null, null, true, Property.EMPTY_ARRAY) {
      override def append(event: LogEvent): Unit = if (event.getThrown != null || event.getMessage != null) {
        logged.add(event.getLoggerName + ": " + event.getMessage.getFormattedMessage
          + Option(event.getThrown).map(t => " / " + t).getOrElse(""))
      }
    }
    capture.start()
    val root = context.getConfiguration.getRootLogger
    root.addAppender(capture, null, null)
    context.updateLoggers()
    try {
      val (status, _, err) = runSql("SELECT gptneo_classify(repeat('spam ', 300), map('max_input_tokens', '16')) "
        + "FROM range(2)")
      assert(status == 1 && err.contains("gptneo_classify failed on a row: the input has "), err)
      assert(!logged.asScala.exists(_.contains("GptNeoRowException")), logged)
      assert(!logged.asScala.exists(_.contains("aborting job")), logged)
      assert(runSql("SELECT raise_error(concat('boom', id)) FROM range(2)")._1 == 1)
      assert(logged.asScala.exists(_.contains("aborting job")), "other failures keep the scheduler's line")
      assert(logged.asScala.exists(l => l.startsWith("org.apache.spark.executor.Executor: Exception in task")
        && l.contains("boom")), logged)
      for (name <- RowFailureLogFilter.TASK_FAILURE_LOGGERS.asScala) {
        val filters = context.getConfiguration.getLoggerConfig(name).getFilter
        assert(filters.isInstanceOf[RowFailureLogFilter], s"$name: $filters")
      }
    } finally {
      root.removeAppender("capture")
      context.updateLoggers()
    }
  }

  test("the quick start labels the sample emails and completes the prompts, with rows/s") {
    val script = new String(Files.readAllBytes(new File(TestModels.repo, "datasets-sample/quickstart.sql").toPath),
      "UTF-8")
    val (status, out, err) = withConf("gptneo.home" -> TestModels.repo.getAbsolutePath) { runSql(script) }
    assert(status == 0, err)
    val rows = out.linesIterator.filter(_.startsWith("| ")).toSeq
    assert(rows.count(_.startsWith("| email ")) == 8)
    assert(rows.count(_.startsWith("| prompt ")) == 8)
    val accuracy = rows.find(_.contains("accuracy")).get
    assert(accuracy.contains("300 emails labelled"))
    assert(accuracy.split("\\|")(4).trim.toDouble > 0.9, accuracy)
    assert(rows.exists(r => r.contains("throughput") && r.contains("300 rows") && r.contains("rows/s")), out)
    assert(err.contains("statement 3: 300 rows through gptneo"), err)
  }
}
