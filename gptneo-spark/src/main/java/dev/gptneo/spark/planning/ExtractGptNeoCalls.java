package dev.gptneo.spark.planning;

import dev.gptneo.spark.functions.GptNeoCall;
import dev.gptneo.spark.internal.Scala;
import dev.gptneo.spark.internal.Trees;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.expressions.And;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.OuterReference;
import org.apache.spark.sql.catalyst.expressions.WindowExpression;
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateExpression;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.LocalLimit;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.plans.logical.Subquery;
import org.apache.spark.sql.catalyst.rules.Rule;
import scala.Function1;

/**
 * Pulls gptneo calls out of every operator into a {@link GptNeoEval} below it, the way Spark's
 * {@code ExtractPythonUDFs} makes {@code ArrowEvalPython} nodes: the operator then reads the call's
 * result as a column. Identical calls are evaluated once; calls nested in calls get a second node.
 * Also: conjuncts of a WHERE that need no call are filtered before the calls run, only the columns
 * the calls and their consumer need go in, and a LIMIT above is copied below (the node keeps rows
 * one to one). Idempotent: nodes it made are skipped, so it may run in a fixed-point batch too.
 */
public final class ExtractGptNeoCalls extends Rule<LogicalPlan> {

  @Override
  public LogicalPlan apply(LogicalPlan plan) {
    if (plan instanceof Subquery && ((Subquery) plan).correlated()) {
      return plan; // rewritten into a join later; extracted then
    }
    if (!plan.exists((Function1<LogicalPlan, Object>) p -> !(p instanceof GptNeoEval) && hasCall(p))) {
      return plan;
    }
    return LimitPushdown.apply(rewrite(plan));
  }

  private LogicalPlan rewrite(LogicalPlan plan) {
    LogicalPlan node = plan.mapChildren(this::rewrite);
    if (node instanceof GptNeoEval || !hasCall(node)) {
      return node;
    }
    if (node instanceof Aggregate) {
      LogicalPlan pulled = AggregateCalls.pullOut((Aggregate) node);
      if (pulled != node) {
        return rewrite(pulled);
      }
    }
    return extract(node);
  }

  static boolean hasCall(LogicalPlan plan) {
    for (Expression e : Scala.list(plan.expressions())) {
      if (Trees.exists(e, x -> x instanceof GptNeoCall)) {
        return true;
      }
    }
    return false;
  }

  private LogicalPlan extract(LogicalPlan original) {
    LogicalPlan plan = original instanceof Filter ? filterFirst((Filter) original) : original;
    Map<Expression, GptNeoCall> calls = new LinkedHashMap<>();
    for (Expression e : Scala.list(plan.expressions())) {
      collectEvaluable(e, calls);
    }
    calls.values().removeIf(c -> !c.references().subsetOf(plan.inputSet()));
    if (calls.isEmpty()) {
      return original;
    }
    Map<Expression, Attribute> results = new LinkedHashMap<>();
    List<LogicalPlan> newChildren = new ArrayList<>();
    for (LogicalPlan child : Scala.list(plan.children())) {
      List<Expression> here = new ArrayList<>();
      List<Attribute> attrs = new ArrayList<>();
      for (Map.Entry<Expression, GptNeoCall> e : calls.entrySet()) {
        if (!results.containsKey(e.getKey()) && e.getValue().references().subsetOf(child.outputSet())) {
          Attribute attr = Trees.newAttribute(e.getValue().prettyName(), e.getValue().dataType());
          here.add(e.getValue());
          attrs.add(attr);
          results.put(e.getKey(), attr);
        }
      }
      newChildren.add(here.isEmpty() ? child
          : new GptNeoEval(Scala.seq(here), Scala.seq(attrs), pruneInput(plan, child)));
    }
    if (results.isEmpty()) {
      return original; // each call needs more than one child (e.g. both sides of a join): see GptNeoCall.eval
    }
    LogicalPlan rewritten = plan.withNewChildren(Scala.seq(newChildren)).transformExpressions(Trees.partial(
        e -> e instanceof GptNeoCall ? results.get(e.canonicalized()) : null));
    LogicalPlan done = extract(rewritten); // calls that took another call's result as input
    if (!done.output().equals(original.output())) {
      done = new Project(Scala.seq(new ArrayList<NamedExpression>(Scala.list(original.output()))), done);
    }
    return done;
  }

  /** Calls whose inputs can be computed from one child row: no nested call, aggregate, window or outer reference. */
  private static void collectEvaluable(Expression e, Map<Expression, GptNeoCall> out) {
    if (e instanceof GptNeoCall) {
      GptNeoCall call = (GptNeoCall) e;
      boolean evaluable = call.inputs().stream().noneMatch(in -> Trees.exists(in, x -> x instanceof GptNeoCall
          || x instanceof AggregateExpression || x instanceof WindowExpression || x instanceof OuterReference));
      if (evaluable) {
        out.putIfAbsent(call.canonicalized(), call);
        return;
      }
    }
    for (Expression child : Scala.list(e.children())) {
      collectEvaluable(child, out);
    }
  }

  /**
   * A Project or Aggregate consumes only the columns it references, so only those (which include
   * the calls' inputs) go through the node; then the scan below reads only them.
   */
  private static LogicalPlan pruneInput(LogicalPlan consumer, LogicalPlan child) {
    if (!(consumer instanceof Project) && !(consumer instanceof Aggregate)) {
      return child;
    }
    AttributeSet needed = consumer.references();
    List<NamedExpression> keep = new ArrayList<>();
    for (Attribute a : Scala.list(child.output())) {
      if (needed.contains(a)) {
        keep.add(a);
      }
    }
    return keep.size() == child.output().size() ? child : new Project(Scala.seq(keep), child);
  }

  /** Splits a WHERE so that conjuncts without calls filter rows before any call runs. */
  private static LogicalPlan filterFirst(Filter filter) {
    List<Expression> before = new ArrayList<>();
    List<Expression> after = new ArrayList<>();
    for (Expression c : conjuncts(filter.condition())) {
      boolean plain = !Trees.exists(c, x -> x instanceof GptNeoCall) && c.deterministic();
      (plain && after.isEmpty() ? before : after).add(c);
    }
    if (before.isEmpty() || after.isEmpty()) {
      return filter;
    }
    return new Filter(and(after), new Filter(and(before), filter.child()));
  }

  private static List<Expression> conjuncts(Expression e) {
    List<Expression> out = new ArrayList<>();
    if (e instanceof And) {
      out.addAll(conjuncts(((And) e).left()));
      out.addAll(conjuncts(((And) e).right()));
    } else {
      out.add(e);
    }
    return out;
  }

  private static Expression and(List<Expression> parts) {
    Expression out = parts.get(0);
    for (int i = 1; i < parts.size(); i++) {
      out = new And(out, parts.get(i));
    }
    return out;
  }

  /** Copies LocalLimit(n) below a GptNeoEval reached through Projects, so a LIMIT runs no extra rows. */
  static final class LimitPushdown {
    private LimitPushdown() {}

    static LogicalPlan apply(LogicalPlan plan) {
      return plan.transformDown(Trees.partial(p -> {
        if (!(p instanceof LocalLimit)) {
          return null;
        }
        LocalLimit limit = (LocalLimit) p;
        LogicalPlan pushed = pushInto(limit.child(), limit.limitExpr());
        return pushed == null || pushed.fastEquals(limit.child()) ? null : new LocalLimit(limit.limitExpr(), pushed);
      }));
    }

    /** The subtree with the limit below its GptNeoEval, or null when there is none to reach. */
    private static LogicalPlan pushInto(LogicalPlan p, Expression limitExpr) {
      if (p instanceof Project) {
        LogicalPlan child = pushInto(((Project) p).child(), limitExpr);
        return child == null ? null : p.withNewChildren(Scala.seq(child));
      }
      if (!(p instanceof GptNeoEval)) {
        return null;
      }
      GptNeoEval eval = (GptNeoEval) p;
      LogicalPlan child = eval.child();
      if (child instanceof LocalLimit && ((LocalLimit) child).limitExpr().semanticEquals(limitExpr)) {
        return p; // already done
      }
      LogicalPlan below = pushInto(child, limitExpr);
      return new GptNeoEval(eval.calls(), eval.resultAttrs(), below != null ? below : new LocalLimit(limitExpr, child));
    }
  }
}
