package dev.gptneo.spark.functions;

import dev.gptneo.spark.internal.Scala;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.analysis.TypeCheckResult;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenContext;
import org.apache.spark.sql.catalyst.expressions.Unevaluable;
import org.apache.spark.sql.catalyst.expressions.codegen.ExprCode;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NullType;
import org.apache.spark.sql.types.StringType;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * One call of a gptneo SQL function. Like Spark's {@code PythonUDF}, it is never evaluated row by
 * row: the optimizer rule {@code ExtractGptNeoCalls} moves every call into a {@code GptNeoEval}
 * node, whose operator evaluates the calls in batches. The options are parsed at analysis time and
 * kept as a value; the children are only the text inputs.
 */
public final class GptNeoCall extends Expression implements Unevaluable, Serializable {
  private static final long serialVersionUID = 1L;

  private final GptNeoFunction function;
  private final List<Expression> inputs;
  private final CallOptions options;
  private final String optionsSql; // how the options were written, for plan strings and SQL

  /** The constructor Catalyst's makeCopy uses: its parameters follow {@link #productElement}. */
  public GptNeoCall(GptNeoFunction function, Seq<Expression> inputs, CallOptions options, String optionsSql) {
    this(function, Scala.list(inputs), options, optionsSql);
  }

  public GptNeoCall(GptNeoFunction function, List<Expression> inputs, CallOptions options, String optionsSql) {
    if (inputs.size() != function.inputCount()) {
      throw new IllegalArgumentException(function.sqlName + " takes " + function.inputCount() + " text inputs");
    }
    this.function = function;
    this.inputs = List.copyOf(inputs);
    this.options = options;
    this.optionsSql = optionsSql;
  }

  public GptNeoFunction function() {
    return function;
  }

  public List<Expression> inputs() {
    return inputs;
  }

  public CallOptions options() {
    return options;
  }

  @Override
  public Seq<Expression> children() {
    return Scala.seq(inputs);
  }

  @Override
  public DataType dataType() {
    return function.resultType(options);
  }

  @Override
  public boolean nullable() {
    return true;
  }

  @Override
  public TypeCheckResult checkInputDataTypes() {
    for (Expression in : inputs) {
      DataType t = in.dataType();
      if (!(t instanceof StringType) && !(t instanceof NullType)) {
        return new TypeCheckResult.TypeCheckFailure(function.sqlName + " expects STRING inputs (" + function.inputNames
            + "), but " + in.sql() + " is " + t.sql() + "; cast it with CAST(... AS STRING)");
      }
    }
    return TypeCheckResult.TypeCheckSuccess$.MODULE$;
  }

  /**
   * Never called when the extension's optimizer rule ran; says why when it did not. (Being
   * {@link Unevaluable} also keeps Spark from evaluating calls while it optimizes, e.g. over
   * a local relation.)
   */
  @Override
  public Object eval(InternalRow row) {
    throw new UnsupportedOperationException(notExtracted());
  }

  private String notExtracted() {
    return sql() + " cannot be evaluated here. gptneo functions run in batches: "
        + "they can be used in SELECT lists, WHERE, GROUP BY and ORDER BY over one input, but not in a join "
        + "condition or over aggregate results. Compute the call in a subquery first. If this is a plain SELECT, "
        + "the gptneo extension's optimizer rule is missing: start Spark with spark.sql.extensions="
        + "dev.gptneo.spark.extensions.GptNeoSparkExtensions or call dev.gptneo.spark.GptNeoSpark.register(spark).";
  }

  @Override
  public ExprCode doGenCode(CodegenContext ctx, ExprCode ev) {
    throw new UnsupportedOperationException(notExtracted());
  }

  @Override
  public boolean foldable() {
    return false;
  }

  @Override
  public Expression withNewChildrenInternal(IndexedSeq<Expression> newChildren) {
    return new GptNeoCall(function, Scala.list(newChildren), options, optionsSql);
  }

  @Override
  public String prettyName() {
    return function.sqlName;
  }

  @Override
  public String sql() {
    String args = inputs.stream().map(Expression::sql).collect(Collectors.joining(", "));
    return function.sqlName + "(" + args + (optionsSql.isEmpty() ? "" : ", " + optionsSql) + ")";
  }

  @Override
  public String toString() {
    String args = inputs.stream().map(Object::toString).collect(Collectors.joining(", "));
    String opts = options.toString();
    return function.sqlName + "(" + args + (opts.isEmpty() ? "" : ", {" + opts + "}") + ")";
  }

  // ---- scala.Product, as a case class would have it ----

  @Override
  public int productArity() {
    return 4;
  }

  @Override
  public Object productElement(int n) {
    switch (n) {
      case 0: return function;
      case 1: return children();
      case 2: return options;
      case 3: return optionsSql;
      default: throw new IndexOutOfBoundsException(Integer.toString(n));
    }
  }

  @Override
  public boolean canEqual(Object that) {
    return that instanceof GptNeoCall;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof GptNeoCall)) {
      return false;
    }
    GptNeoCall c = (GptNeoCall) o;
    return function == c.function && inputs.equals(c.inputs) && options.equals(c.options);
  }

  @Override
  public int hashCode() {
    return Objects.hash(function, inputs, options);
  }
}
