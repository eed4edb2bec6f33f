package dev.gptneo.spark.execution;

import dev.gptneo.spark.GptNeoConf;
import dev.gptneo.spark.distribution.ModelHandle;
import dev.gptneo.spark.distribution.ModelShipper;
import dev.gptneo.spark.functions.GptNeoCall;
import dev.gptneo.spark.internal.Scala;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.AttributeSet$;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.metric.SQLMetric;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;
import scala.reflect.ClassTag$;

/**
 * Physical operator for {@code GptNeoEval} (the counterpart of Spark's EvalPythonExec): each task
 * copies its input rows into batches, fills Arrow vectors, calls the engine's Arrow API, and joins
 * the results back to the rows in order. On the driver, {@link #doExecute} resolves each model
 * (content hash, broadcast or path) once per query.
 */
public final class GptNeoEvalExec extends SparkPlan {
  private static final long serialVersionUID = 1L;

  private final Seq<Expression> calls;
  private final Seq<Attribute> resultAttrs;
  private final SparkPlan child;
  private final GptNeoConf conf;
  private transient OperatorMetrics operatorMetrics;

  /** Catalyst's makeCopy calls this constructor with the product elements. */
  public GptNeoEvalExec(Seq<Expression> calls, Seq<Attribute> resultAttrs, SparkPlan child, GptNeoConf conf) {
    this.calls = calls;
    this.resultAttrs = resultAttrs;
    this.child = child;
    this.conf = conf;
  }

  public SparkPlan child() {
    return child;
  }

  /** The calls this operator evaluates, one per result column. */
  public List<GptNeoCall> calls() {
    List<GptNeoCall> out = new ArrayList<>();
    for (Expression e : Scala.list(calls)) {
      out.add((GptNeoCall) e);
    }
    return out;
  }

  @Override
  public Seq<Attribute> output() {
    List<Attribute> out = new ArrayList<>(Scala.list(child.output()));
    out.addAll(Scala.list(resultAttrs));
    return Scala.seq(out);
  }

  @Override
  public AttributeSet producedAttributes() {
    return AttributeSet$.MODULE$.apply(Scala.<Expression>widen(resultAttrs));
  }

  @Override
  public Seq<SparkPlan> children() {
    return Scala.seq(child);
  }

  @Override
  public SparkPlan withNewChildrenInternal(IndexedSeq<SparkPlan> newChildren) {
    return new GptNeoEvalExec(calls, resultAttrs, newChildren.apply(0), conf);
  }

  /** The operator's metrics; created on first use, on the driver. */
  public synchronized OperatorMetrics operatorMetrics() {
    if (operatorMetrics == null) {
      operatorMetrics = new OperatorMetrics(sparkContext());
    }
    return operatorMetrics;
  }

  @Override
  public scala.collection.immutable.Map<String, SQLMetric> metrics() {
    return Scala.map(operatorMetrics().asMap());
  }

  @Override
  public RDD<InternalRow> doExecute() {
    CallLayout layout = new CallLayout(calls());
    Map<String, ModelHandle> models = new HashMap<>();
    org.apache.hadoop.conf.Configuration hadoopConf = session().sessionState().newHadoopConf();
    for (String ref : layout.modelRefs()) {
      models.put(EvalPartitions.modelKey(ref), ModelShipper.prepare(sparkContext(), hadoopConf, conf, ref));
    }
    RecentQueries.record(operatorMetrics());
    EvalPartitions factory = new EvalPartitions(layout, child.output(), output(), models, conf, operatorMetrics());
    return child.execute().mapPartitionsWithEvaluator(factory, ClassTag$.MODULE$.apply(InternalRow.class));
  }

  @Override
  public int productArity() {
    return 4;
  }

  @Override
  public Object productElement(int n) {
    switch (n) {
      case 0: return calls;
      case 1: return resultAttrs;
      case 2: return child;
      case 3: return conf;
      default: throw new IndexOutOfBoundsException(Integer.toString(n));
    }
  }

  /** Plan strings show the calls and result columns, not the settings snapshot. */
  @Override
  public scala.collection.Iterator<Object> stringArgs() {
    return Scala.<Object>seq(calls, resultAttrs).iterator();
  }

  @Override
  public boolean canEqual(Object that) {
    return that instanceof GptNeoEvalExec;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof GptNeoEvalExec)) {
      return false;
    }
    GptNeoEvalExec e = (GptNeoEvalExec) o;
    return calls.equals(e.calls) && resultAttrs.equals(e.resultAttrs) && child.equals(e.child);
  }

  @Override
  public int hashCode() {
    return Objects.hash(calls, resultAttrs, child);
  }
}
