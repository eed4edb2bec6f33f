package dev.gptneo.spark.internal;

import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression$;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.Metadata;
import scala.Function1;
import scala.Option;
import scala.PartialFunction;
import scala.runtime.AbstractPartialFunction;

/** Catalyst tree helpers with Java signatures: partial functions, new attributes and aliases. */
public final class Trees {
  private Trees() {}

  /** A partial function defined where {@code f} returns non-null. */
  public static <A, B> PartialFunction<A, B> partial(Function<A, B> f) {
    return new AbstractPartialFunction<A, B>() {
      @Override
      public boolean isDefinedAt(A a) {
        return f.apply(a) != null;
      }

      @Override
      @SuppressWarnings("unchecked")
      public <A1 extends A, B1> B1 applyOrElse(A1 a, Function1<A1, B1> otherwise) {
        B b = f.apply(a);
        return b != null ? (B1) b : otherwise.apply(a);
      }
    };
  }

  /** Rewrites an expression bottom-up: {@code f} returns a replacement, or null to keep a node. */
  public static Expression transformUp(Expression e, Function<Expression, Expression> f) {
    return e.transformUp(partial(f));
  }

  /** Rewrites an expression top-down: a replaced node's children are not visited. */
  public static Expression transformDown(Expression e, Function<Expression, Expression> f) {
    return e.transformDown(partial(f));
  }

  public static boolean exists(Expression e, Predicate<Expression> p) {
    return e.exists((Function1<Expression, Object>) x -> p.test(x));
  }

  /** A NamedExpression as the Expression it is (a Scala trait over a class, which Java cannot see). */
  public static Expression expr(org.apache.spark.sql.catalyst.expressions.NamedExpression e) {
    return (Expression) (Object) e;
  }

  public static AttributeReference newAttribute(String name, DataType type) {
    return new AttributeReference(name, type, true, Metadata.empty(), NamedExpression$.MODULE$.newExprId(),
        Scala.emptySeq());
  }

  public static Alias alias(Expression child, String name) {
    return new Alias(child, name, NamedExpression$.MODULE$.newExprId(), Scala.emptySeq(), Option.empty(),
        Scala.emptySeq());
  }
}
