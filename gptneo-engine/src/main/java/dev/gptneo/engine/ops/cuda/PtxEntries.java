package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.cuda.KernelFunction.Param;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The kernels ({@code .entry}) of a PTX module and their parameter types, in order. */
final class PtxEntries {
  private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_$]*)\\s*\\(([^)]*)\\)");
  private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(\\w+)");

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
