package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the CUDA toolkit's nvcc on the kernel sources (copied from the classpath); tests skip without it. */
final class Nvcc {
  /** The result of one compile: exit status, everything nvcc printed, and the PTX when it succeeded. */
  static final class Result {
    final int status;
    final String output;
    final String ptx;

    Result(int status, String output, String ptx) {
      this.status = status;
      this.output = output;
      this.ptx = ptx;
    }
  }

  private Nvcc() {}

  static Path find() {
    List<String> candidates = new ArrayList<>();
    String home = System.getenv("CUDA_HOME");
    if (home != null) {
      candidates.add(home + "/bin/nvcc");
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      candidates.add(dir + "/nvcc");
    }
    candidates.add("/usr/local/bin/nvcc");
    candidates.add("/usr/local/cuda/bin/nvcc");
    for (String c : candidates) {
      Path p = Paths.get(c);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  static Path require() {
    Path nvcc = find();
    assumeTrue(nvcc != null, "nvcc not found (CUDA_HOME, PATH, /usr/local/bin): PTX build skipped");
    return nvcc;
  }

  /** Copies the kernel sources and headers out of the classpath into {@code dir}. */
  static Path sources(Path dir) {
    try {
      Files.createDirectories(dir);
      for (String h : KernelSources.HEADERS) {
        Files.writeString(dir.resolve(h), KernelSources.read(h));
      }
      for (String f : KernelSources.FILES) {
        Files.writeString(dir.resolve(f), KernelSources.read(f));
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** nvcc -ptx -arch=ARCH, every warning an error. */
  static Result ptx(Path nvcc, Path source, String arch) {
    return ptx(nvcc, source, arch, List.of());
  }

  /** {@link #ptx(Path, Path, String)} with macros defined (e.g. "GPTNEO_PDL", as the backend's gptneo.cuda.pdl). */
  static Result ptx(Path nvcc, Path source, String arch, List<String> defines) {
    Path out = source.resolveSibling(source.getFileName() + "." + arch + String.join("", defines) + ".ptx");
    List<String> command = new java.util.ArrayList<>(List.of(nvcc.toString(), "-ptx", "-arch=" + arch, "-Werror",
        "all-warnings", "-I", source.getParent().toString(), "-o", out.toString(), source.toString()));
    defines.forEach(d -> command.add("-D" + d));
    Result r = run(command, 300);
    try {
      return new Result(r.status, r.output, r.status == 0 ? Files.readString(out) : null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Result run(List<String> command, int timeoutSeconds) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] output = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, "timed out: " + command, null);
      }
      return new Result(p.exitValue(), new String(output, StandardCharsets.UTF_8), null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
