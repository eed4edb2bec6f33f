package dev.gptneo.spark.planning;

import dev.gptneo.spark.functions.GptNeoCall;
import dev.gptneo.spark.internal.Scala;
import dev.gptneo.spark.internal.Trees;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateExpression;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;

/**
 * Where a call sits in an Aggregate decides when it runs (as in Spark's
 * ExtractPythonUDFFromAggregate and ExtractGroupingPythonUDFFromAggregate):
 * <ul>
 *   <li>over grouping keys or aggregate results ({@code gptneo_generate(category)} with
 *       {@code GROUP BY category}): once per group, in a Project above the Aggregate;</li>
 *   <li>in a grouping key ({@code GROUP BY gptneo_classify(text)}): per input row, in a Project
 *       below, and the Aggregate groups by its result;</li>
 *   <li>inside an aggregate function ({@code count(gptneo_classify(text))}): per input row,
 *       extracted below by the main rule.</li>
 * </ul>
 */
final class AggregateCalls {
  private AggregateCalls() {}

  /** The rewritten plan, or {@code agg} itself when no call needs moving. */
  static LogicalPlan pullOut(Aggregate agg) {
    LogicalPlan above = pullAbove(agg);
    Aggregate inner = above instanceof Project ? (Aggregate) ((Project) above).child() : agg;
    Aggregate grouped = groupingBelow(inner);
    if (above == agg && grouped == inner) {
      return agg;
    }
    return above instanceof Project ? above.withNewChildren(Scala.seq(grouped)) : grouped;
  }

  private static boolean belongsToAggregate(Expression e, Aggregate agg) {
    return e instanceof AggregateExpression
        || Scala.list(agg.groupingExpressions()).stream().anyMatch(g -> g.semanticEquals(e));
  }

  private static boolean hasCallOverAggregate(Expression expr, Aggregate agg) {
    return Trees.exists(expr, e -> e instanceof GptNeoCall
        && (e.references().isEmpty() || Trees.exists(e, x -> belongsToAggregate(x, agg))));
  }

  private static LogicalPlan pullAbove(Aggregate agg) {
    List<NamedExpression> aggExprs = Scala.list(agg.aggregateExpressions());
    if (aggExprs.stream().noneMatch(e -> hasCallOverAggregate(Trees.expr(e), agg))) {
      return agg;
    }
    List<NamedExpression> projList = new ArrayList<>();
    List<NamedExpression> newAggExprs = new ArrayList<>();
    for (NamedExpression expr : aggExprs) {
      if (hasCallOverAggregate(Trees.expr(expr), agg)) {
        Expression rewritten = Trees.transformDown(Trees.expr(expr), e -> {
          if (!belongsToAggregate(e, agg)) {
            return null;
          }
          NamedExpression named = e instanceof NamedExpression ? (NamedExpression) (Object) e : Trees.alias(e, "agg");
          newAggExprs.add(named);
          return Trees.expr(named.toAttribute());
        });
        projList.add((NamedExpression) (Object) rewritten);
      } else {
        newAggExprs.add(expr);
        projList.add(expr.toAttribute());
      }
    }
    Aggregate inner = agg.copy(agg.groupingExpressions(), Scala.seq(newAggExprs), agg.child(), agg.copy$default$4());
    return new Project(Scala.seq(projList), inner);
  }

  private static Aggregate groupingBelow(Aggregate agg) {
    List<Expression> grouping = Scala.list(agg.groupingExpressions());
    if (grouping.stream().noneMatch(g -> Trees.exists(g, e -> e instanceof GptNeoCall))) {
      return agg;
    }
    Map<Expression, NamedExpression> aliases = new LinkedHashMap<>();
    List<Expression> newGrouping = new ArrayList<>();
    for (Expression g : grouping) {
      newGrouping.add(Trees.transformDown(g, e -> {
        if (!(e instanceof GptNeoCall)) {
          return null;
        }
        return Trees.expr(aliases.computeIfAbsent(e.canonicalized(), k -> Trees.alias(e, "gptneo_group")).toAttribute());
      }));
    }
    List<NamedExpression> newAggExprs = new ArrayList<>();
    for (NamedExpression a : Scala.list(agg.aggregateExpressions())) {
      newAggExprs.add((NamedExpression) (Object) Trees.transformUp(Trees.expr(a), e -> {
        NamedExpression alias = e instanceof GptNeoCall ? aliases.get(e.canonicalized()) : null;
        return alias == null ? null : Trees.expr(alias.toAttribute());
      }));
    }
    List<NamedExpression> below = new ArrayList<>(aliases.values());
    below.addAll(Scala.list(agg.child().output()));
    return agg.copy(Scala.seq(newGrouping), Scala.seq(newAggExprs), new Project(Scala.seq(below), agg.child()),
        agg.copy$default$4());
  }
}
