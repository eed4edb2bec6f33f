package dev.gptneo.engine.ops.cuda;

import static org.bytedeco.cuda.global.nvrtc.NVRTC_SUCCESS;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCompileProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCreateProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcDestroyProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetErrorString;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetPTX;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetPTXSize;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLog;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLogSize;

import java.util.Map;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Compiles CUDA C to PTX at run time with NVRTC (no toolkit needed on the machine, only the library). */
final class Nvrtc {
  private static final Logger LOG = LoggerFactory.getLogger(Nvrtc.class);

  private Nvrtc() {}

  /** @param arch e.g. "compute_90" */
  static String compile(String file, String source, Map<String, String> headers, String arch) {
    BytePointer[] contents = new BytePointer[headers.size()];
    BytePointer[] names = new BytePointer[headers.size()];
    int i = 0;
    for (Map.Entry<String, String> h : headers.entrySet()) {
      names[i] = new BytePointer(h.getKey());
      contents[i] = new BytePointer(h.getValue());
      i++;
    }
    _nvrtcProgram program = new _nvrtcProgram(); // NVRTC copies the strings it is given
    check(nvrtcCreateProgram(program, new BytePointer(source), new BytePointer(file), headers.size(), new PointerPointer<>(contents),
        new PointerPointer<>(names)), "nvrtcCreateProgram " + file);
    try {
      BytePointer[] options = {new BytePointer("--gpu-architecture=" + arch), new BytePointer("--std=c++17")};
      int rc = nvrtcCompileProgram(program, options.length, new PointerPointer<>(options));
      String log = log(program);
      if (rc != NVRTC_SUCCESS) {
        throw new CudaException("NVRTC could not compile " + file + " for " + arch + " ("
            + nvrtcGetErrorString(rc).getString() + "):\n" + log);
      }
      if (!log.isBlank()) {
        LOG.warn("NVRTC warnings for {}:\n{}", file, log);
      }
      SizeTPointer size = new SizeTPointer(1);
      check(nvrtcGetPTXSize(program, size), "nvrtcGetPTXSize");
      BytePointer ptx = new BytePointer(size.get());
      check(nvrtcGetPTX(program, ptx), "nvrtcGetPTX");
      return ptx.getString();
    } finally {
      nvrtcDestroyProgram(program);
    }
  }

  private static String log(_nvrtcProgram program) {
    SizeTPointer size = new SizeTPointer(1);
    check(nvrtcGetProgramLogSize(program, size), "nvrtcGetProgramLogSize");
    BytePointer log = new BytePointer(Math.max(1, size.get()));
    check(nvrtcGetProgramLog(program, log), "nvrtcGetProgramLog");
    return log.getString().trim();
  }

  private static void check(int rc, String what) {
    if (rc != NVRTC_SUCCESS) {
      throw new CudaException(what + " failed: " + nvrtcGetErrorString(rc).getString());
    }
  }
}
