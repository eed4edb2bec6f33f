package dev.gptneo.engine.cli;

import java.io.PrintStream;

/** {@code bin/gptneo bench}: the project's end-to-end benchmark (see docs/BENCHMARKS.md). */
final class BenchCommand {
  private BenchCommand() {}

  static int run(String[] args, PrintStream stdout, PrintStream stderr) {
    throw new UsageException("bench is not built yet");
  }
}
