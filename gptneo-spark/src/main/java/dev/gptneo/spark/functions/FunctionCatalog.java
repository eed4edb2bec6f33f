package dev.gptneo.spark.functions;

import dev.gptneo.spark.internal.Scala;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;
import scala.Function1;
import scala.Tuple3;
import scala.collection.immutable.Seq;

/** The function registrations, in the shape both SparkSessionExtensions and FunctionRegistry take. */
public final class FunctionCatalog {
  private FunctionCatalog() {}

  /** A serializable builder: the analyzer may ship function builders with plans. */
  private static final class Builder implements Function1<Seq<Expression>, Expression>, java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final GptNeoFunction function;

    Builder(GptNeoFunction function) {
      this.function = function;
    }

    @Override
    public Expression apply(Seq<Expression> args) {
      return FunctionBuilder.build(function, Scala.list(args));
    }
  }

  public static List<Tuple3<FunctionIdentifier, ExpressionInfo, Function1<Seq<Expression>, Expression>>> all() {
    List<Tuple3<FunctionIdentifier, ExpressionInfo, Function1<Seq<Expression>, Expression>>> out = new ArrayList<>();
    for (GptNeoFunction f : GptNeoFunction.values()) {
      out.add(new Tuple3<>(FunctionIdentifier.apply(f.sqlName), FunctionDocs.info(f), new Builder(f)));
    }
    return out;
  }
}
