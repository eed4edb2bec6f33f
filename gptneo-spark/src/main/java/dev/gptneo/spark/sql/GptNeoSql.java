package dev.gptneo.spark.sql;

import dev.gptneo.spark.GptNeoConf;
import dev.gptneo.spark.GptNeoSpark;
import dev.gptneo.spark.execution.RecentQueries;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * bin/gptneo-sql: runs SQL statements in a local (or given) Spark with the gptneo extension and
 * prints the last statement's result. Exit status: 0 ok, 1 a statement failed, 2 bad arguments.
 */
public final class GptNeoSql {
  /** Where the project is (bin/gptneo-sql passes it); the default model is under it. */
  static final String HOME_PROPERTY = "gptneo.home";
  static final String DEMO_MODEL = "datasets-sample/models/gpt-neo-demo";
  static final String MAX_CELL_WIDTH = "spark.gptneo.sql.maxCellWidth";

  private GptNeoSql() {}

  public static void main(String[] args) {
    int status = run(args, System.out, System.err);
    System.out.flush();
    System.exit(status);
  }

  static int run(String[] argv, PrintStream out, PrintStream err) {
    CliArgs args;
    try {
      args = CliArgs.parse(argv);
    } catch (CliArgs.UsageException e) {
      err.println("gptneo-sql: " + e.getMessage());
      err.println(CliArgs.USAGE);
      return 2;
    }
    if (args.help) {
      out.println(CliArgs.USAGE);
      return 0;
    }
    List<String> statements;
    try {
      statements = SqlStatements.split(args.sql != null ? args.sql
          : Files.readString(Paths.get(args.file), StandardCharsets.UTF_8));
    } catch (IOException e) {
      err.println("gptneo-sql: cannot read " + args.file + ": " + e);
      return 2;
    }
    if (statements.isEmpty()) {
      err.println("gptneo-sql: no statements to run");
      return 2;
    }
    RowFailureLogFilter.install();
    SparkSession spark = session(args);
    try {
      return runStatements(spark, statements, args.output, out, err);
    } finally {
      spark.stop();
    }
  }

  static int runStatements(SparkSession spark, List<String> statements, CliArgs.Output format, PrintStream out,
      PrintStream err) {
    int width = Integer.parseInt(spark.conf().get(MAX_CELL_WIDTH, "80"));
    StatementStats stats = new StatementStats(spark);
    for (int i = 0; i < statements.size(); i++) {
      boolean last = i == statements.size() - 1;
      long t0 = System.nanoTime();
      RecentQueries.drain();
      try {
        Dataset<Row> df = spark.sql(statements.get(i)); // commands run here
        if (last) {
          new ResultPrinter(out, width).print(df, format);
        } else if (!df.schema().isEmpty() && !isCommand(df)) {
          df.write().format("noop").mode("overwrite").save(); // run it, print nothing
        }
      } catch (Exception e) {
        err.println("gptneo-sql: statement " + (i + 1) + " failed: " + rootMessage(e));
        return 1;
      }
      stats.add(i + 1, System.nanoTime() - t0, RecentQueries.drain(), err);
    }
    return 0;
  }

  private static boolean isCommand(Dataset<Row> df) {
    return df.queryExecution().logical() instanceof org.apache.spark.sql.catalyst.plans.logical.Command;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t
        && (t.getMessage() == null || t.getMessage().contains("Job aborted"))) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  private static SparkSession session(CliArgs args) {
    SparkSession.Builder b = SparkSession.builder()
        .appName("gptneo-sql")
        .master(args.master)
        .config("spark.sql.extensions", GptNeoSpark.EXTENSIONS)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.jsonGenerator.ignoreNullFields", "false");
    String home = System.getProperty(HOME_PROPERTY);
    if (home != null) {
      b.config(HOME_PROPERTY, home);
      if (!args.conf.containsKey(GptNeoConf.MODEL)) {
        b.config(GptNeoConf.MODEL, Paths.get(home).resolve(DEMO_MODEL).toAbsolutePath().toString());
      }
    }
    for (Map.Entry<String, String> e : args.conf.entrySet()) {
      b.config(e.getKey(), e.getValue());
    }
    return b.getOrCreate();
  }
}
