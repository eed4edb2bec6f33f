package dev.gptneo.spark;

import dev.gptneo.spark.distribution.LocalModels;
import dev.gptneo.spark.distribution.ModelShipper;
import dev.gptneo.spark.extensions.GptNeoSparkExtensions;
import dev.gptneo.spark.functions.FunctionCatalog;
import dev.gptneo.spark.internal.Scala;
import dev.gptneo.spark.planning.ExtractGptNeoCalls;
import dev.gptneo.spark.planning.GptNeoEvalStrategy;
import dev.gptneo.spark.procedures.GptNeoProcedures;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.execution.SparkStrategy;

/** Public entry points besides the extension class: register on a running session, unload models. */
public final class GptNeoSpark {
  /** The value for {@code spark.sql.extensions}. */
  public static final String EXTENSIONS = GptNeoSparkExtensions.class.getName();

  private GptNeoSpark() {}

  /**
   * Adds the functions, the optimizer rule, the planner strategy and the procedures' catalog to a
   * session that was started without the extension. Idempotent. (The rule then runs in the
   * session's extra optimizations.)
   */
  public static synchronized void register(SparkSession spark) {
    if (!(spark instanceof org.apache.spark.sql.classic.SparkSession)) {
      throw new IllegalArgumentException("GptNeoSpark.register needs a session of the JVM that runs Spark, not "
          + spark.getClass().getName() + ". For Spark Connect, start the Connect server with "
          + "--conf spark.sql.extensions=" + EXTENSIONS + " (and the two jars); its clients then have the functions");
    }
    org.apache.spark.sql.classic.SparkSession session = (org.apache.spark.sql.classic.SparkSession) spark;
    // the same registration path as spark.sql.extensions takes
    SparkSessionExtensions functions = new SparkSessionExtensions();
    FunctionCatalog.all().forEach(functions::injectFunction);
    functions.registerFunctions(session.sessionState().functionRegistry());
    List<Rule<LogicalPlan>> rules = new ArrayList<>(Scala.list(session.experimental().extraOptimizations()));
    if (rules.stream().noneMatch(r -> r instanceof ExtractGptNeoCalls)) {
      rules.add(new ExtractGptNeoCalls());
      session.experimental().extraOptimizations_$eq(Scala.seq(rules));
    }
    List<SparkStrategy> strategies = new ArrayList<>(Scala.list(session.experimental().extraStrategies()));
    if (strategies.stream().noneMatch(s -> s instanceof GptNeoEvalStrategy)) {
      strategies.add(new GptNeoEvalStrategy(spark));
      session.experimental().extraStrategies_$eq(Scala.seq(strategies));
    }
    GptNeoProcedures.registerIn(session);
  }

  /**
   * Unloads every model: in this (driver) JVM, in every executor JVM a cleanup job reaches (one
   * task per slot, best effort), and drops the driver's model broadcasts. Engines in use close
   * when their tasks finish. Returns how many loaded models were unloaded. In SQL and from Spark
   * Connect clients: {@code CALL gptneo.system.unload_models()}.
   */
  public static int unloadModels(SparkSession spark) {
    int unloaded = LocalModels.unloadAll();
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int tasks = Math.max(1, sc.defaultParallelism()) * 2;
    List<Integer> slots = new ArrayList<>();
    IntStream.range(0, tasks).forEach(slots::add);
    if (!spark.sparkContext().isLocal()) {
      // each task holds its slot a moment, so that the tasks spread over every executor
      unloaded += sc.parallelize(slots, tasks).map(i -> {
        int n = LocalModels.unloadAll();
        Thread.sleep(100);
        return n;
      }).reduce(Integer::sum);
    }
    ModelShipper.forgetAll();
    return unloaded;
  }
}
