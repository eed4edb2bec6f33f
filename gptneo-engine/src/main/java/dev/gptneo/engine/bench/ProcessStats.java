package dev.gptneo.engine.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Facts about this process and machine from /proc (Linux); absent elsewhere. */
public final class ProcessStats {
  private ProcessStats() {}

  /** Peak resident set size (VmHWM) in MB, or -1 when /proc/self/status is not there. */
  public static double peakRssMb() {
    return statusKb("VmHWM:") / 1024.0;
  }

  /** Current resident set size (VmRSS) in MB, or -1. */
  public static double rssMb() {
    return statusKb("VmRSS:") / 1024.0;
  }

  private static double statusKb(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.substring(key.length()).replace("kB", "").trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1024;
  }

  /**
   * CPU time of the whole machine and of this process, in clock ticks, for {@link #otherBusyFraction}:
   * {total, busy, self}; all -1 off Linux.
   */
  public static long[] cpuTicks() {
    try {
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < cpu.length; i++) {
        total += Long.parseLong(cpu[i]);
      }
      long idle = Long.parseLong(cpu[4]) + (cpu.length > 5 ? Long.parseLong(cpu[5]) : 0); // idle + iowait
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // fields from 3 (state) on
      long self = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime (14), stime (15)
      return new long[] {total, total - idle, self};
    } catch (IOException | RuntimeException e) {
      return new long[] {-1, -1, -1};
    }
  }

  /**
   * The fraction of the machine's CPU time that other processes used between two
   * {@link #cpuTicks} readings (0 on a quiet machine; 0.5 means one of two cores was busy with
   * something else); NaN off Linux or for a too short interval.
   */
  public static double otherBusyFraction(long[] before, long[] after) {
    long total = after[0] - before[0];
    if (before[0] < 0 || after[0] < 0 || total < 10) {
      return Double.NaN;
    }
    long other = (after[1] - before[1]) - (after[2] - before[2]);
    return Math.max(0, Math.min(1, (double) other / total));
  }

  /** The CPU's model name, e.g. "AMD EPYC 9R45", or the OS arch. */
  public static String cpuModel() {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
      for (String line : lines) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return System.getProperty("os.arch");
  }
}
