package dev.gptneo.spark.sql;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Prints a result as an ASCII table, JSON lines (one object per row, structs nested) or CSV (with
 * a header; struct, array and map cells hold their JSON). Returns the number of rows printed.
 */
final class ResultPrinter {
  private final PrintStream out;
  private final int maxCellWidth; // table only; 0 = no limit

  ResultPrinter(PrintStream out, int maxCellWidth) {
    this.out = out;
    this.maxCellWidth = maxCellWidth;
  }

  long print(Dataset<Row> df, CliArgs.Output format) {
    if (df.schema().isEmpty()) {
      return 0; // a command without a result
    }
    if (format == CliArgs.Output.JSONL) {
      List<String> lines = df.select(functions.to_json(functions.struct(functions.col("*")),
          java.util.Map.of("ignoreNullFields", "false"))).as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
      lines.forEach(out::println);
      return lines.size();
    }
    String[] names = df.columns();
    List<String[]> rows = asStrings(df);
    if (format == CliArgs.Output.CSV) {
      out.println(csvLine(names));
      rows.forEach(r -> out.println(csvLine(r)));
    } else {
      table(names, rows);
    }
    return rows.size();
  }

  /** Every cell as text: complex values as JSON, NULL as null. */
  private static List<String[]> asStrings(Dataset<Row> df) {
    StructField[] fields = df.schema().fields();
    String[] positional = new String[fields.length];
    Column[] cells = new Column[fields.length];
    for (int i = 0; i < fields.length; i++) {
      positional[i] = "c" + i;
    }
    Dataset<Row> renamed = df.toDF(positional);
    for (int i = 0; i < fields.length; i++) {
      Column c = renamed.col(positional[i]);
      cells[i] = isComplex(fields[i].dataType()) ? functions.to_json(c) : c.cast("string");
    }
    List<String[]> out = new ArrayList<>();
    for (Row r : renamed.select(cells).collectAsList()) {
      String[] values = new String[fields.length];
      for (int i = 0; i < values.length; i++) {
        values[i] = r.isNullAt(i) ? null : r.getString(i);
      }
      out.add(values);
    }
    return out;
  }

  private static boolean isComplex(DataType t) {
    return t instanceof StructType || t instanceof ArrayType || t instanceof MapType;
  }

  private void table(String[] names, List<String[]> rows) {
    int[] widths = new int[names.length];
    List<String[]> shown = new ArrayList<>();
    shown.add(names);
    for (String[] r : rows) {
      String[] cells = new String[r.length];
      for (int i = 0; i < r.length; i++) {
        cells[i] = cell(r[i]);
      }
      shown.add(cells);
    }
    for (String[] r : shown) {
      for (int i = 0; i < r.length; i++) {
        widths[i] = Math.max(widths[i], r[i].length());
      }
    }
    StringBuilder rule = new StringBuilder("+");
    for (int w : widths) {
      rule.append("-".repeat(w + 2)).append('+');
    }
    out.println(rule);
    for (int k = 0; k < shown.size(); k++) {
      StringBuilder line = new StringBuilder("|");
      for (int i = 0; i < widths.length; i++) {
        line.append(' ').append(pad(shown.get(k)[i], widths[i])).append(" |");
      }
      out.println(line);
      if (k == 0) {
        out.println(rule);
      }
    }
    out.println(rule);
    out.println(rows.size() + (rows.size() == 1 ? " row" : " rows"));
  }

  private String cell(String v) {
    if (v == null) {
      return "NULL";
    }
    String s = v.replace("\r", "").replace("\n", "\\n").replace("\t", " ");
    return maxCellWidth > 0 && s.length() > maxCellWidth ? s.substring(0, maxCellWidth - 3) + "..." : s;
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(width - s.length());
  }

  private static String csvLine(String[] values) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        line.append(',');
      }
      String v = values[i];
      if (v == null) {
        continue;
      }
      boolean quote = v.isEmpty() || v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")
          || !v.equals(v.trim());
      line.append(quote ? '"' + v.replace("\"", "\"\"") + '"' : v);
    }
    return line.toString();
  }
}
