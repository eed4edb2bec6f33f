package dev.gptneo.spark.sql;

import java.util.ArrayList;
import java.util.List;

/** Splits a script at the semicolons that are outside quotes, backticks and comments. */
final class SqlStatements {
  private SqlStatements() {}

  static List<String> split(String script) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    char quote = 0; // ', " or ` while inside one
    int n = script.length();
    for (int i = 0; i < n; i++) {
      char c = script.charAt(i);
      char next = i + 1 < n ? script.charAt(i + 1) : 0;
      if (quote != 0) {
        current.append(c);
        if (c == '\\' && quote != '`' && i + 1 < n) {
          current.append(next);
          i++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '-' && next == '-') {
        int end = script.indexOf('\n', i);
        i = end < 0 ? n : end - 1; // keep the newline
      } else if (c == '/' && next == '*') {
        int end = script.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 1;
        current.append(' ');
      } else if (c == ';') {
        add(out, current);
      } else {
        if (c == '\'' || c == '"' || c == '`') {
          quote = c;
        }
        current.append(c);
      }
    }
    add(out, current);
    return out;
  }

  private static void add(List<String> out, StringBuilder statement) {
    String s = statement.toString().trim();
    if (!s.isEmpty()) {
      out.add(s);
    }
    statement.setLength(0);
  }
}
