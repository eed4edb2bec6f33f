package dev.gptneo.spark.extensions;

import dev.gptneo.spark.functions.FunctionCatalog;
import dev.gptneo.spark.planning.ExtractGptNeoCalls;
import dev.gptneo.spark.planning.GptNeoEvalStrategy;
import dev.gptneo.spark.procedures.GptNeoProcedures;
import org.apache.spark.sql.SparkSessionExtensions;
import scala.Function1;
import scala.runtime.BoxedUnit;

/**
 * The entry point: {@code spark.sql.extensions=dev.gptneo.spark.extensions.GptNeoSparkExtensions}.
 * For a session that already exists, call {@code dev.gptneo.spark.GptNeoSpark.register(spark)}.
 */
public final class GptNeoSparkExtensions implements Function1<SparkSessionExtensions, BoxedUnit> {
  @Override
  public BoxedUnit apply(SparkSessionExtensions ext) {
    // analysis: the SQL functions (options are validated while the query is analyzed)
    FunctionCatalog.all().forEach(ext::injectFunction);

    // optimization: pull the calls out of the plan into GptNeoEval nodes, once the plan is optimized
    ext.injectPreCBORule(session -> new ExtractGptNeoCalls());

    // planning: GptNeoEval becomes the batched physical operator
    ext.injectPlannerStrategy(GptNeoEvalStrategy::new);

    // procedures: CALL gptneo.system.unload_models(); each session gets the catalog as its analyzer is built
    ext.injectCheckRule(session -> {
      GptNeoProcedures.registerIn(session);
      return plan -> BoxedUnit.UNIT;
    });
    return BoxedUnit.UNIT;
  }
}
