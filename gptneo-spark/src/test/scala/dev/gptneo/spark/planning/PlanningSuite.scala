package dev.gptneo.spark.planning

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.classic.{SparkSession => ClassicSession}

import dev.gptneo.engine.api.{Input, InputPolicy}
import dev.gptneo.spark.GptNeoSpark
import dev.gptneo.spark.execution.{ArrowMemory, OperatorMetrics}
import dev.gptneo.spark.testing.{SampleData, SparkSuite, TestModels}

/** Where calls go in the plan, and what the operator reports. */
class PlanningSuite extends SparkSuite {
  import spark.implicits._

  private def engine = TestModels.engine(TestModels.demo)

  override def beforeAll(): Unit = {
    super.beforeAll()
    // subjects that are not empty: an empty text is a failing row for every task but counting tokens
    SampleData.emails.filter(_.subject.nonEmpty).map(e => (e.id, e.subject, e.label)).toDF("id", "subject", "label")
      .repartition(2).createOrReplaceTempView("mails")
  }

  private def metric(df: DataFrame, key: String): Long = {
    val ops = gptneoOperators(df)
    assert(ops.nonEmpty, "no gptneo operator in the executed plan")
    ops.map(_.metrics().apply(key).value).sum
  }

  private def tokenCounts(texts: Seq[String]): Seq[Int] =
    engine.tokenize(texts.map(Input.text).asJava, InputPolicy.DEFAULT).asScala.map(_.inputIds.length).toSeq

  test("a 1,000-row query: results equal the engine's, and the SQL metrics add up") {
    val subjects = SampleData.emails.map(_.subject)
    val texts = (0 until 1000).map(i => s"${subjects(i % subjects.size)} #$i")
    val df = texts.zipWithIndex.toDF("text", "id").repartition(4)
      .selectExpr("id", "gptneo_classify(text, map('output', 'struct')) AS c", "gptneo_count_tokens(text) AS n")
    val rows = df.collect().sortBy(_.getInt(0))
    assert(rows.length == 1000)
    val want = engine.classify(texts.map(Input.text).asJava, InputPolicy.DEFAULT).asScala
    val counts = tokenCounts(texts)
    rows.foreach { r =>
      val i = r.getInt(0)
      assert(r.getStruct(1).getString(0) == want(i).label)
      assertClose(r.getStruct(1).getMap[String, Double](1)("spam"), want(i).probabilities.get("spam"))
      assert(r.getInt(2) == counts(i))
    }
    assert(gptneoOperators(df).size == 1)
    assert(metric(df, OperatorMetrics.ROWS) == 1000)
    assert(metric(df, OperatorMetrics.BATCHES) >= 8, "4 partitions of 250 rows, at most 128 rows a batch")
    assert(metric(df, OperatorMetrics.PROMPT_TOKENS) == 2L * counts.sum, "both calls read every text")
    assert(metric(df, OperatorMetrics.GENERATED_TOKENS) == 0)
    assert(metric(df, OperatorMetrics.INFERENCE_TIME) > 0)
    assert(metric(df, OperatorMetrics.MODEL_LOAD_TIME) >= 0)
  }

  test("generated tokens and batch sizes follow the settings") {
    withConf("spark.gptneo.batch.rows" -> "3") {
      val df = SampleData.prompts.toDF("p").repartition(1)
        .selectExpr("gptneo_generate(p, map('max_new_tokens', '5', 'output', 'struct')) AS g")
      val generated = df.collect().map(_.getStruct(0).getInt(3)).sum
      assert(generated > 0)
      assert(metric(df, OperatorMetrics.GENERATED_TOKENS) == generated)
      assert(metric(df, OperatorMetrics.BATCHES) == 2, "6 prompts, 3 rows a batch")
    }
  }

  test("several calls of one SELECT share one operator; identical calls run once") {
    val df = sql("""SELECT gptneo_count_tokens(subject) AS a, gptneo_count_tokens(subject) AS b,
        gptneo_score(subject) AS c, length(subject) AS d FROM mails""")
    val ops = gptneoOperators(df)
    assert(ops.size == 1)
    assert(ops.head.calls().size == 2)
    assert(df.collect().forall(r => r.getInt(0) == r.getInt(1)))
  }

  test("WHERE conjuncts without calls filter rows before the calls run") {
    val df = sql("SELECT id FROM mails WHERE label = 'spam' AND gptneo_classify(subject) = 'spam'")
    val got = df.collect().map(_.getString(0)).toSet
    val spam = SampleData.emails.filter(e => e.label == "spam" && e.subject.nonEmpty)
    assert(metric(df, OperatorMetrics.ROWS) == spam.size, "only the label='spam' rows reach the model")
    val labels = engine.classify(spam.map(e => Input.text(e.subject)).asJava, InputPolicy.DEFAULT).asScala
    assert(got == spam.zip(labels).filter(_._2.label == "spam").map(_._1.id).toSet)
  }

  test("a LIMIT is applied before the calls") {
    val df = SampleData.emails.map(_.subject).toDF("s").repartition(1).selectExpr("gptneo_count_tokens(s)").limit(3)
    assert(df.collect().length == 3)
    assert(metric(df, OperatorMetrics.ROWS) <= 3)
  }

  test("GROUP BY a call, aggregates of calls, and calls over grouping keys") {
    val mails = SampleData.emails.filter(_.subject.nonEmpty)
    val labels = engine.classify(mails.map(e => Input.text(e.subject)).asJava, InputPolicy.DEFAULT)
      .asScala.map(_.label)
    val byLabel = labels.groupBy(identity).map { case (k, v) => k -> v.size.toLong }
    val grouped = sql("SELECT gptneo_classify(subject) AS l, count(*) FROM mails GROUP BY 1").collect()
      .map(r => r.getString(0) -> r.getLong(1)).toMap
    assert(grouped == byLabel)

    val counted = sql("SELECT count(gptneo_classify(subject)) FROM mails").collect().head.getLong(0)
    assert(counted == mails.size)

    val perGroup = sql("SELECT label, gptneo_count_tokens(label) AS n, count(*) FROM mails GROUP BY label")
    val rows = perGroup.collect()
    val want = Seq("ham", "spam").zip(tokenCounts(Seq("ham", "spam"))).toMap
    assert(rows.map(r => r.getString(0) -> r.getInt(1)).toMap == want)
    assert(metric(perGroup, OperatorMetrics.ROWS) == 2, "evaluated once per group, after the aggregate")
  }

  test("calls inside explode() and window specifications") {
    val exploded = sql("SELECT explode(gptneo_tokenize('hello world')) AS id").collect().map(_.getInt(0)).toSeq
    assert(exploded == engine.tokenize(java.util.List.of(Input.text("hello world")), InputPolicy.DEFAULT).get(0)
      .inputIds.toSeq)
    val ranked = sql("""SELECT s, row_number() OVER (ORDER BY gptneo_count_tokens(s), s) AS r
        FROM VALUES ('a b c d'), ('a'), ('a b') AS t(s)""").collect().map(r => r.getString(0) -> r.getInt(1)).toMap
    assert(ranked == Map("a" -> 1, "a b" -> 2, "a b c d" -> 3))
  }

  test("a call whose input is another call's result gets its own operator") {
    val df = sql("""SELECT gptneo_generate(p, map('max_new_tokens', '4')) AS g,
        gptneo_count_tokens(gptneo_generate(p, map('max_new_tokens', '4'))) AS n FROM VALUES ('Hello there') AS t(p)""")
    val r = df.collect().head
    assert(r.getInt(1) == tokenCounts(Seq(r.getString(0))).head)
    assert(gptneoOperators(df).size == 2)
  }

  test("a call that needs both sides of a join says how to rewrite the query") {
    val e = intercept[Exception] {
      sql("""SELECT * FROM VALUES ('a') AS x(a) JOIN VALUES ('b') AS y(b)
          ON gptneo_count_tokens(concat(x.a, y.b)) > 0""").collect()
    }
    val message = Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString("\n")
    assert(message.contains("cannot be evaluated here") && message.contains("subquery"), message)
  }

  test("register() adds everything to a session started without the extension") {
    // a session without the extension (the builder would hand back the shared one)
    val plain = classOf[ClassicSession].getConstructors.find(_.getParameterCount == 6).get.newInstance(
      spark.sparkContext, None, None, new org.apache.spark.sql.SparkSessionExtensions, Map.empty, Map.empty)
      .asInstanceOf[ClassicSession]
    plain.conf.set("spark.gptneo.model", TestModels.demo.getAbsolutePath)
    intercept[Exception](plain.sql("SELECT gptneo_count_tokens('a b')").collect())
    GptNeoSpark.register(plain)
    GptNeoSpark.register(plain) // idempotent
    val df = plain.sql("SELECT gptneo_count_tokens('hello world')")
    assert(df.collect().head.getInt(0) == 2)
    assert(collect(df.queryExecution.executedPlan) { case e: dev.gptneo.spark.execution.GptNeoEvalExec => e }.size == 1)
  }

  test("every batch's Arrow memory is released") {
    sql("SELECT gptneo_embed(subject) FROM mails").collect()
    assert(ArrowMemory.allocatedBytes() == 0)
  }
}
