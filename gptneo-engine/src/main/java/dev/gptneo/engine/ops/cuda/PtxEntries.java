package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.cuda.KernelFunction.Param;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The kernels ({@code .entry}) of a PTX module and their parameter types, in order. */
final class PtxEntries {
  private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_$]*)\\s*\\(([^)]*)\\)");
  private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(\\w+)");
  // An instruction: optional predicate, then its opcode (e.g. "ld.global.nc.v4.u32").
  private static final Pattern OPCODE = Pattern.compile("^\\s*(?:@!?%\\w+\\s+)?([a-z][a-z0-9_.]*)", Pattern.MULTILINE);
  private static final Set<String> NOT_GLOBAL = Set.of("param", "shared", "local", "const");

  private PtxEntries() {}

  static Map<String, Param[]> parse(String ptx) {
    Map<String, Param[]> out = new LinkedHashMap<>();
    Matcher e = ENTRY.matcher(ptx);
    while (e.find()) {
      List<Param> params = new ArrayList<>();
      Matcher p = PARAM.matcher(e.group(2));
      while (p.find()) {
        params.add(kind(e.group(1), p.group(1)));
      }
      out.put(e.group(1), params.toArray(new Param[0]));
    }
    return out;
  }

  /**
   * The kernels that wait for the previous kernel (griddepcontrol.wait) before any instruction that
   * may touch global memory: loads, stores and atomics in the global or generic space, cp.async and
   * calls. Only these may be launched with programmatic dependent launch (gptneo.cuda.pdl): the
   * others could read what the kernel before has not finished writing.
   */
  static Set<String> waitingFirst(String ptx) {
    Set<String> out = new LinkedHashSet<>();
    List<MatchResult> entries = ENTRY.matcher(ptx).results().toList();
    for (int i = 0; i < entries.size(); i++) {
      int bodyEnd = i + 1 < entries.size() ? entries.get(i + 1).start() : ptx.length(); // up to the next entry
      if (waitsFirst(ptx.substring(entries.get(i).end(), bodyEnd))) {
        out.add(entries.get(i).group(1));
      }
    }
    return out;
  }

  private static boolean waitsFirst(String body) {
    Matcher op = OPCODE.matcher(body);
    while (op.find()) {
      String opcode = op.group(1);
      if (opcode.equals("griddepcontrol.wait")) {
        return true;
      }
      if (mayTouchGlobal(opcode)) {
        return false;
      }
    }
    return false;
  }

  private static boolean mayTouchGlobal(String opcode) {
    String[] parts = opcode.split("\\.");
    switch (parts[0]) {
      case "ld":
      case "ldu":
      case "st":
      case "atom":
      case "red":
        for (String part : parts) {
          if (NOT_GLOBAL.contains(part)) {
            return false;
          }
        }
        return true;
      case "cp":
      case "call":
        return true;
      default:
        return false; // arithmetic, branches, barriers, prefetch (no data), griddepcontrol.launch_dependents
    }
  }

  private static Param kind(String entry, String type) {
    switch (type) {
      case "u64":
      case "b64":
        return Param.PTR;
      case "u32":
      case "s32":
      case "b32":
        return Param.I32;
      case "f32":
        return Param.F32;
      default:
        throw new IllegalStateException("kernel " + entry + " has a ." + type + " parameter; the backend passes"
            + " only pointers, ints and floats");
    }
  }
}
