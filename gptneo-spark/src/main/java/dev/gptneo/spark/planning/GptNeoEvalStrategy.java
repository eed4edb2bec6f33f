package dev.gptneo.spark.planning;

import dev.gptneo.spark.GptNeoConf;
import dev.gptneo.spark.execution.GptNeoEvalExec;
import dev.gptneo.spark.internal.Scala;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.SparkStrategy;
import org.apache.spark.sql.internal.SQLConf;
import scala.collection.immutable.Seq;

/**
 * Plans a {@link GptNeoEval} as a {@link GptNeoEvalExec} (as Spark's PythonEvals plans
 * ArrowEvalPython). The session's spark.gptneo.* settings are read here, once per query.
 */
public final class GptNeoEvalStrategy extends SparkStrategy {
  /** The shape SparkSessionExtensions.injectPlannerStrategy wants; settings come from SQLConf.get(). */
  public GptNeoEvalStrategy(SparkSession session) {
  }

  @Override
  public Seq<SparkPlan> apply(LogicalPlan plan) {
    if (!(plan instanceof GptNeoEval)) {
      return Scala.emptySeq();
    }
    GptNeoEval eval = (GptNeoEval) plan;
    GptNeoConf conf = GptNeoConf.from(SQLConf.get());
    return Scala.seq(new GptNeoEvalExec(eval.calls(), eval.resultAttrs(), planLater(eval.child()), conf));
  }
}
