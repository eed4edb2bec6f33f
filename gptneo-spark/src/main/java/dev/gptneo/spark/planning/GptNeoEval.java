package dev.gptneo.spark.planning;

import dev.gptneo.spark.internal.Scala;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.AttributeSet$;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * Logical node that evaluates gptneo calls over its child, in batches (the counterpart of Spark's
 * {@code ArrowEvalPython}). Output: the child's columns, then one column per call.
 */
public final class GptNeoEval extends LogicalPlan {
  private static final long serialVersionUID = 1L;

  private final Seq<Expression> calls;       // GptNeoCall, one per result column
  private final Seq<Attribute> resultAttrs;
  private final LogicalPlan child;
  private transient Seq<Attribute> output; // asked for often by the optimizer

  /** Catalyst's makeCopy calls this constructor with the product elements. */
  public GptNeoEval(Seq<Expression> calls, Seq<Attribute> resultAttrs, LogicalPlan child) {
    this.calls = calls;
    this.resultAttrs = resultAttrs;
    this.child = child;
  }

  public Seq<Expression> calls() {
    return calls;
  }

  public Seq<Attribute> resultAttrs() {
    return resultAttrs;
  }

  public LogicalPlan child() {
    return child;
  }

  @Override
  public Seq<Attribute> output() {
    if (output == null) {
      List<Attribute> out = new ArrayList<>(Scala.list(child.output()));
      out.addAll(Scala.list(resultAttrs));
      output = Scala.seq(out);
    }
    return output;
  }

  @Override
  public AttributeSet producedAttributes() {
    return AttributeSet$.MODULE$.apply(Scala.<Expression>widen(resultAttrs));
  }

  @Override
  public Seq<LogicalPlan> children() {
    return Scala.seq(child);
  }

  @Override
  public LogicalPlan withNewChildrenInternal(IndexedSeq<LogicalPlan> newChildren) {
    return new GptNeoEval(calls, resultAttrs, newChildren.apply(0));
  }

  @Override
  public int productArity() {
    return 3;
  }

  @Override
  public Object productElement(int n) {
    switch (n) {
      case 0: return calls;
      case 1: return resultAttrs;
      case 2: return child;
      default: throw new IndexOutOfBoundsException(Integer.toString(n));
    }
  }

  @Override
  public boolean canEqual(Object that) {
    return that instanceof GptNeoEval;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof GptNeoEval)) {
      return false;
    }
    GptNeoEval e = (GptNeoEval) o;
    return calls.equals(e.calls) && resultAttrs.equals(e.resultAttrs) && child.equals(e.child);
  }

  @Override
  public int hashCode() {
    return Objects.hash(calls, resultAttrs, child);
  }
}
