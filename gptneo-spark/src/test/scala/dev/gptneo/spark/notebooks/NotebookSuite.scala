package dev.gptneo.spark.notebooks

import java.io.File

import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.databind.ObjectMapper
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions.expr

import dev.gptneo.spark.testing.{SparkSuite, TestModels}

/**
 * The PySpark notebook's SQL, run here: every `spark.sql("""...""")` statement and every
 * `expr("...")` over the table its cell reads, so a renamed option or function breaks the build
 * rather than a reader's notebook (there is no Python here to run the cells themselves).
 */
class NotebookSuite extends SparkSuite {
  private val notebook = new File(TestModels.repo, "notebooks/gptneo-pyspark.ipynb")

  private lazy val cells: Seq[String] = {
    val root = new ObjectMapper().readTree(notebook)
    root.get("cells").elements().asScala.toSeq
      .filter(_.get("cell_type").asText() == "code")
      .map(_.get("source").elements().asScala.map(_.asText()).mkString)
  }

  private val sqlBlock = "(?s)spark\\.sql\\(\"\"\"(.*?)\"\"\"\\)".r
  private val exprCall = "(?s)expr\\(\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*\\)".r

  /** A Python string literal's text: the notebook writes '\n' inside SQL as \\n. */
  private def python(literal: String): String = literal.replace("\\\\", "\\")

  private def table(cell: String): DataFrame = {
    val home = TestModels.repo.getAbsolutePath
    if (cell.contains("prompts.jsonl")) spark.read.json(s"$home/datasets-sample/prompts.jsonl").limit(2)
    else spark.read.parquet(s"$home/datasets-sample/emails.parquet").limit(3)
  }

  test("the notebook's SQL statements run") {
    val statements = cells.flatMap(c => sqlBlock.findAllMatchIn(c).map(_.group(1)))
    assert(statements.size >= 2, "the notebook changed shape: no spark.sql blocks found")
    statements.foreach(s => assert(sql(s).collect().nonEmpty, s))
  }

  test("the notebook's expr() calls run over the table their cell reads") {
    val calls = cells.flatMap(c => exprCall.findAllMatchIn(c).map(m => (c, python(m.group(1)))))
    assert(calls.size >= 3, "the notebook changed shape: no expr() calls found")
    for ((cell, e) <- calls) {
      val rows = table(cell).select(expr(e).alias("out")).collect()
      assert(rows.nonEmpty && rows.forall(!_.isNullAt(0)), e)
    }
  }

  test("the notebook's data source options read") {
    val cell = cells.find(_.contains("format(\"gptneo\")")).getOrElse(fail("no gptneo data source cell"))
    val options = "\\.option\\(\"(\\w+)\", ([^)]+)\\)".r.findAllMatchIn(cell)
      .map(m => m.group(1) -> m.group(2).trim.stripPrefix("\"").stripSuffix("\"")).toMap
    assert(options.contains("prompt"), cell)
    val rows = spark.read.format("gptneo").options(options + ("rows" -> "2")).load().collect()
    assert(rows.length == 2)
  }
}
