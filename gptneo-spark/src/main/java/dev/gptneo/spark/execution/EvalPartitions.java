package dev.gptneo.spark.execution;

import dev.gptneo.spark.GptNeoConf;
import dev.gptneo.spark.distribution.ModelHandle;
import java.util.Map;
import org.apache.spark.PartitionEvaluator;
import org.apache.spark.PartitionEvaluatorFactory;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import scala.collection.Iterator;
import scala.collection.immutable.Seq;

/**
 * What every task of the operator needs, shipped with the tasks: the call layout, the schemas,
 * the model handles, the settings and the metrics. Creates one {@link PartitionRun} per partition.
 */
final class EvalPartitions implements PartitionEvaluatorFactory<InternalRow, InternalRow> {
  private static final long serialVersionUID = 1L;

  final CallLayout layout;
  final Seq<Attribute> childOutput;
  final Seq<Attribute> output;
  final Map<String, ModelHandle> models; // by modelKey(ref)
  final GptNeoConf conf;
  final OperatorMetrics metrics;

  EvalPartitions(CallLayout layout, Seq<Attribute> childOutput, Seq<Attribute> output,
      Map<String, ModelHandle> models, GptNeoConf conf, OperatorMetrics metrics) {
    this.layout = layout;
    this.childOutput = childOutput;
    this.output = output;
    this.models = models;
    this.conf = conf;
    this.metrics = metrics;
  }

  static String modelKey(String ref) {
    return ref == null ? "" : ref;
  }

  @Override
  public PartitionEvaluator<InternalRow, InternalRow> createEvaluator() {
    return (partitionIndex, inputs) -> {
      TaskContext task = TaskContext.get();
      PartitionRun run = new PartitionRun(this, inputs.head(), task);
      if (task != null) {
        task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> run.close());
      }
      return run;
    };
  }
}
