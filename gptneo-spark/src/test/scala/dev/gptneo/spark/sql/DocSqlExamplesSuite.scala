package dev.gptneo.spark.sql

import java.io.File
import java.nio.file.Files

import scala.jdk.CollectionConverters._

import dev.gptneo.spark.testing.{SampleData, SparkSuite, TestModels}

/**
 * Every SQL example of README.md and docs/SPARK.md runs as written, over views named as the docs
 * name them (emails: id, subject, body; prompts: prompt) with a few sample rows. One change: the
 * data source example writes 16 rows instead of 1,000, to keep the suite short.
 */
class DocSqlExamplesSuite extends SparkSuite {
  import spark.implicits._

  private val fence = "(?s)```sql\n(.*?)```".r

  private def examples(doc: String): Seq[String] = {
    val text = Files.readString(new File(TestModels.repo, doc).toPath)
    fence.findAllMatchIn(text).toSeq.flatMap(m => SqlStatements.split(m.group(1)).asScala)
  }

  override def beforeAll(): Unit = {
    super.beforeAll()
    SampleData.emails.take(6).map(e => (e.id, e.subject, e.body)).toDF("id", "subject", "body")
      .createOrReplaceTempView("emails")
    SampleData.prompts.take(3).toDF("prompt").createOrReplaceTempView("prompts")
  }

  for (doc <- Seq("README.md", "docs/SPARK.md")) {
    test(s"the SQL examples of $doc run") {
      val statements = examples(doc)
      assert(statements.size >= (if (doc == "README.md") 1 else 5), statements)
      for (statement <- statements) {
        val rows = sql(statement.replace("rows '1000'", "rows '16'")).collect()
        val code = statement.linesIterator.filterNot(_.trim.startsWith("--")).mkString("\n").trim
        if (code.toUpperCase.startsWith("SELECT")) {
          assert(rows.nonEmpty, statement)
        }
      }
    }
  }
}
