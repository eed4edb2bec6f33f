package dev.gptneo.spark.functions;

import dev.gptneo.spark.distribution.ModelRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.QueryContext;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.trees.CurrentOrigin$;
import org.apache.spark.sql.catalyst.trees.Origin;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.MapData;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.NullType;
import org.apache.spark.sql.types.StringType;
import scala.Option;

/**
 * Builds a {@link GptNeoCall} from the arguments the analyzer resolved: the text inputs, then for
 * classify an optional literal array of labels, then an optional literal options map. Every
 * problem is an {@link AnalysisException} raised during analysis, before any job runs.
 */
final class FunctionBuilder {
  private FunctionBuilder() {}

  static Expression build(GptNeoFunction function, List<Expression> args) {
    try {
      return parse(function, args);
    } catch (IllegalArgumentException e) {
      throw Sneaky.<RuntimeException>raise(analysisError(function.sqlName + ": " + e.getMessage()));
    }
  }

  private static GptNeoCall parse(GptNeoFunction function, List<Expression> args) {
    int n = function.inputCount();
    int maxArgs = n + 1 + (function.acceptsLabels() ? 1 : 0);
    if (args.size() < n || args.size() > maxArgs) {
      throw new IllegalArgumentException("expected " + FunctionDocs.signature(function) + ", got " + args.size()
          + " argument" + (args.size() == 1 ? "" : "s"));
    }
    List<Expression> inputs = args.subList(0, n);
    List<String> labels = null;
    Expression optionsArg = null;
    for (Expression arg : args.subList(n, args.size())) {
      DataType t = arg.dataType();
      if (t instanceof MapType && optionsArg == null) {
        optionsArg = arg;
      } else if (function.acceptsLabels() && t instanceof ArrayType && labels == null && optionsArg == null) {
        labels = labels(arg);
      } else {
        throw new IllegalArgumentException("unexpected argument " + arg.sql() + " of type " + t.sql()
            + "; expected " + FunctionDocs.signature(function));
      }
    }
    Map<String, String> raw = optionsArg == null ? Map.of() : options(optionsArg);
    ModelRegistry registry = ModelRegistry.fromConf(SQLConf.get());
    CallOptions options = OptionsParser.parse(function, raw, registry::isKnown);
    if (labels != null) {
      options = options.withLabels(labels);
    }
    String extraArgsSql = args.subList(n, args.size()).stream().map(Expression::sql)
        .collect(java.util.stream.Collectors.joining(", "));
    return new GptNeoCall(function, new ArrayList<>(inputs), options, extraArgsSql);
  }

  /** The literal options map, keys and values as strings (numbers and booleans are accepted). */
  private static Map<String, String> options(Expression arg) {
    MapType type = (MapType) arg.dataType();
    if (!arg.foldable()) {
      throw new IllegalArgumentException("the options must be a literal map such as map('max_new_tokens', '32'); "
          + arg.sql() + " depends on the row");
    }
    if (!(type.keyType() instanceof StringType)) {
      throw new IllegalArgumentException("option keys must be strings; " + arg.sql() + " has " + type.keyType().sql()
          + " keys");
    }
    MapData map;
    try {
      map = (MapData) arg.eval(null);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("the options map " + arg.sql() + " cannot be evaluated (" + e.getMessage()
          + "). Write every value as a string, e.g. map('max_new_tokens', '32', 'temperature', '0.8'): a map "
          + "that mixes numbers and strings is coerced to the numeric type");
    }
    Map<String, String> out = new LinkedHashMap<>();
    if (map == null) {
      return out;
    }
    ArrayData keys = map.keyArray();
    ArrayData values = map.valueArray();
    for (int i = 0; i < map.numElements(); i++) {
      String key = keys.get(i, type.keyType()).toString();
      Object value = values.isNullAt(i) ? null : values.get(i, type.valueType());
      out.put(key, value == null ? null : value.toString());
    }
    return out;
  }

  /** The literal, non-empty candidate labels of zero-shot classification. */
  private static List<String> labels(Expression arg) {
    DataType element = ((ArrayType) arg.dataType()).elementType();
    if (!arg.foldable() || !(element instanceof StringType || element instanceof NullType)) {
      throw new IllegalArgumentException("the labels must be a literal array of strings such as "
          + "array('spam', 'ham'); got " + arg.sql());
    }
    ArrayData data = (ArrayData) arg.eval(null);
    List<String> labels = new ArrayList<>();
    for (int i = 0; data != null && i < data.numElements(); i++) {
      Object v = data.isNullAt(i) ? null : data.get(i, element);
      if (v == null || v.toString().isBlank()) {
        throw new IllegalArgumentException("candidate labels must not be null or blank; got " + arg.sql());
      }
      labels.add(v.toString());
    }
    if (labels.isEmpty()) {
      throw new IllegalArgumentException("the labels array is empty; give at least one candidate label");
    }
    return labels;
  }

  /** Throws a checked exception (Scala's AnalysisException) without declaring it, as Scala code does. */
  static final class Sneaky {
    @SuppressWarnings("unchecked")
    static <T extends Throwable> T raise(Throwable t) throws T {
      throw (T) t;
    }
  }

  /** An analysis error at the current query position (line and column, when known). */
  static AnalysisException analysisError(String message) {
    Origin origin = CurrentOrigin$.MODULE$.get();
    return new AnalysisException(message, origin.line(), origin.startPosition(), Option.empty(), Option.empty(),
        scala.collection.immutable.Map$.MODULE$.empty(), new QueryContext[0]);
  }
}
