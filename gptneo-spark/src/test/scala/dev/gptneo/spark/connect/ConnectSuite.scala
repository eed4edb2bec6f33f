package dev.gptneo.spark.connect

import org.apache.spark.SparkEnv
import org.apache.spark.sql.{Row, SparkSession => ApiSession}
import org.apache.spark.sql.connect.{SparkSession => ConnectSession}
import org.apache.spark.sql.connect.service.SparkConnectService

import dev.gptneo.spark.GptNeoSpark
import dev.gptneo.spark.testing.{SparkSuite, TestModels}

/**
 * Spark Connect: a Connect server started on the shared session (whose SparkConf carries the extension),
 * and a Scala Connect client in the same JVM, as a notebook or PySpark client would reach it.
 */
class ConnectSuite extends SparkSuite {
  private var client: ConnectSession = _

  override def beforeAll(): Unit = {
    super.beforeAll()
    val sc = spark.sparkContext // the shared session first: the server runs on its SparkContext
    SparkEnv.get.conf.set("spark.connect.grpc.binding.port", "0") // a free port, chosen by the server
    SparkConnectService.start(sc)
    // localPort is private[spark] to Scala, public in the bytecode
    val port = SparkConnectService.getClass.getMethod("localPort").invoke(SparkConnectService)
    client = ConnectSession.builder().remote(s"sc://localhost:$port").create()
  }

  override def afterAll(): Unit = {
    try {
      if (client != null) client.close()
      SparkConnectService.stop()
    } finally super.afterAll()
  }

  private def rows(session: ApiSession, query: String): Seq[Row] = session.sql(query).collect().toSeq

  test("SQL through a Connect client gives the classic session's rows") {
    val query = """SELECT id, gptneo_classify(text, map('output', 'struct')) AS c,
        gptneo_generate(text, map('max_new_tokens', '8', 'temperature', '0.8', 'seed', '7')) AS g,
        gptneo_embed(text) AS e, gptneo_count_tokens(text) AS n
      FROM VALUES (1, 'WIN A FREE PRIZE, click now'), (2, 'The meeting on Friday') AS t(id, text) ORDER BY id"""
    val got = rows(client, query)
    assert(got == rows(spark, query))
    assert(got.map(_.getStruct(1).getString(0)).forall(Set("ham", "spam")))
  }

  test("the DataFrame API (selectExpr) and session settings set by the client") {
    import org.apache.spark.sql.functions.expr
    val df = client.range(3).select(expr("id"), expr("gptneo_generate(concat('Number ', id), "
      + "map('max_new_tokens', '4')) AS text"))
    val want = spark.range(3).select(expr("id"), expr("gptneo_generate(concat('Number ', id), "
      + "map('max_new_tokens', '4')) AS text"))
    assert(df.collect().toSeq == want.collect().toSeq)
    // call_function: the functions by name, with Column arguments (PySpark has it too)
    import org.apache.spark.sql.functions.{call_function, col, concat, lit, map}
    val byName = client.range(3).select(col("id"), call_function("gptneo_generate", concat(lit("Number "), col("id")),
      map(lit("max_new_tokens"), lit("4"))).as("text"))
    assert(byName.collect().toSeq == want.collect().toSeq)
    client.conf.set("spark.gptneo.models.named", TestModels.demo.getAbsolutePath) // read when planned
    try {
      val named = client.sql("SELECT gptneo_generate('Number 1', map('max_new_tokens', '4', 'model', 'named'))")
      assert(named.head().getString(0) == want.collect()(1).getString(1))
    } finally client.conf.unset("spark.gptneo.models.named")
  }

  test("the gptneo data source reads through a Connect client") {
    val options = Map("prompt" -> "Dear friend,", "rows" -> "3", "max_new_tokens" -> "5", "seed" -> "3")
    val got = client.read.format("gptneo").options(options).load().orderBy("id").collect().toSeq
    assert(got.size == 3)
    assert(got == spark.read.format("gptneo").options(options).load().orderBy("id").collect().toSeq)
  }

  test("a client unloads the models with CALL gptneo.system.unload_models()") {
    rows(client, "SELECT gptneo_classify('WIN A FREE PRIZE, click now')") // a model loaded
    val unloaded = rows(client, "CALL gptneo.system.unload_models()")
    assert(unloaded.size == 1 && unloaded.head.getInt(0) >= 1, unloaded)
    assert(rows(client, "CALL gptneo.system.unload_models()") == Seq(Row(0)))
    assert(rows(client, "SELECT gptneo_classify('WIN A FREE PRIZE, click now')").size == 1) // and loads again
  }

  test("a failing row's message reaches the client; register() names the Connect alternative") {
    val error = intercept[Exception] {
      client.sql("SELECT gptneo_classify(repeat('spam ', 300), map('max_input_tokens', '16'))").collect()
    }
    assert(error.getMessage.contains("gptneo_classify failed on a row: the input has"), error.getMessage)
    val refused = intercept[IllegalArgumentException](GptNeoSpark.register(client))
    assert(refused.getMessage.contains("spark.sql.extensions"), refused.getMessage)
  }
}
