package dev.gptneo.spark.sql;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The command line of bin/gptneo-sql; a contract, so exactly these flags. */
final class CliArgs {
  static final String USAGE = String.join("\n",
      "usage: gptneo-sql [--master URL] [--conf KEY=VALUE]... (-e \"SQL; SQL\" | -f FILE.sql) "
          + "[--output table|jsonl|csv]",
      "",
      "Runs the statements in a Spark session with the gptneo SQL functions and prints the last statement's result.",
      "",
      "  --master URL        Spark master (default local[*])",
      "  --conf KEY=VALUE    a Spark setting, e.g. --conf spark.gptneo.model=/models/gpt-neo-125M (repeatable)",
      "  -e SQL              statements to run, separated by ';'",
      "  -f FILE             a file of statements separated by ';'",
      "  --output FORMAT     table (default), jsonl (one JSON object per row) or csv",
      "  -h, --help          this help",
      "",
      "The default model is datasets-sample/models/gpt-neo-demo. Statement files may use ${gptneo.home},",
      "the project folder. Per-statement gptneo throughput goes to stderr.");

  /** A usage problem: the runner prints it with the usage text and exits with status 2. */
  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }

  enum Output { TABLE, JSONL, CSV }

  String master = "local[*]";
  final Map<String, String> conf = new LinkedHashMap<>();
  String sql;        // from -e
  String file;       // from -f
  Output output = Output.TABLE;
  boolean help;

  static CliArgs parse(String[] args) throws UsageException {
    CliArgs a = new CliArgs();
    List<String> rest = new ArrayList<>(List.of(args));
    while (!rest.isEmpty()) {
      String flag = rest.remove(0);
      switch (flag) {
        case "-h":
        case "--help":
          a.help = true;
          return a;
        case "--master":
          a.master = value(flag, rest);
          break;
        case "--conf":
          String kv = value(flag, rest);
          int eq = kv.indexOf('=');
          if (eq <= 0) {
            throw new UsageException("--conf needs KEY=VALUE, got '" + kv + "'");
          }
          a.conf.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
          break;
        case "-e":
          a.sql = value(flag, rest);
          break;
        case "-f":
          a.file = value(flag, rest);
          break;
        case "--output":
          String format = value(flag, rest);
          try {
            a.output = Output.valueOf(format.toUpperCase(java.util.Locale.ROOT));
          } catch (IllegalArgumentException e) {
            throw new UsageException("--output must be table, jsonl or csv, got '" + format + "'");
          }
          break;
        default:
          throw new UsageException("unknown argument '" + flag + "'");
      }
    }
    if ((a.sql == null) == (a.file == null)) {
      throw new UsageException("give exactly one of -e SQL or -f FILE");
    }
    return a;
  }

  private static String value(String flag, List<String> rest) throws UsageException {
    if (rest.isEmpty() || (rest.get(0).startsWith("--") && !flag.equals("-e"))) {
      throw new UsageException(flag + " needs a value");
    }
    return rest.remove(0);
  }
}
