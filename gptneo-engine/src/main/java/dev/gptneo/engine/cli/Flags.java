package dev.gptneo.engine.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses {@code --flag value}, {@code --flag=value} and boolean {@code --flag}. Each command says
 * which flags it takes; anything else is a usage error naming the flag.
 */
final class Flags {
  private final Map<String, List<String>> values = new LinkedHashMap<>();

  private Flags() {}

  /**
   * @param withValue flags that take a value
   * @param booleans flags that take none
   * @param repeatable flags that may appear more than once
   */
  static Flags parse(String command, String[] args, int from, Set<String> withValue, Set<String> booleans,
      Set<String> repeatable) {
    Flags f = new Flags();
    for (int i = from; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new UsageException("unexpected argument '" + a + "' (flags start with --)");
      }
      String name = a.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (booleans.contains(name)) {
        if (value != null) {
          throw new UsageException("--" + name + " takes no value");
        }
        value = "true";
      } else if (withValue.contains(name)) {
        if (value == null) {
          if (i + 1 >= args.length) {
            throw new UsageException("--" + name + " needs a value");
          }
          value = args[++i];
        }
      } else {
        throw new UsageException("unknown flag --" + name + " for '" + command + "'");
      }
      List<String> list = f.values.computeIfAbsent(name, k -> new ArrayList<>());
      if (!list.isEmpty() && !repeatable.contains(name)) {
        throw new UsageException("--" + name + " given more than once");
      }
      list.add(value);
    }
    return f;
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  String get(String name, String dflt) {
    List<String> v = values.get(name);
    return v == null ? dflt : v.get(0);
  }

  List<String> all(String name) {
    return values.getOrDefault(name, List.of());
  }

  int getInt(String name, int dflt, int min) {
    String v = get(name, null);
    if (v == null) {
      return dflt;
    }
    try {
      int i = Integer.parseInt(v.trim());
      if (i < min) {
        throw new UsageException("--" + name + " must be >= " + min + ", got " + v);
      }
      return i;
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be an integer, got '" + v + "'");
    }
  }

  long getLong(String name, long dflt) {
    String v = get(name, null);
    if (v == null) {
      return dflt;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be an integer, got '" + v + "'");
    }
  }

  double getDouble(String name, double dflt) {
    String v = get(name, null);
    if (v == null) {
      return dflt;
    }
    try {
      double d = Double.parseDouble(v.trim());
      if (!Double.isFinite(d)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be a number, got '" + v + "'");
    }
  }
}
