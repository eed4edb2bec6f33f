package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.ops.cuda.KernelFunction.Param;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The PTX build: every .cu resource compiles with nvcc for compute_90 (the H100 the benchmarks
 * use) and compute_80 (the backend's minimum) without a single warning. NVRTC compiles the same
 * sources at run time; this catches their errors on machines without a GPU.
 */
class PtxBuildTest {
  @TempDir
  Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"compute_90", "compute_80"})
  void everyKernelFileCompilesWithoutWarnings(String arch) {
    Path nvcc = Nvcc.require();
    Path dir = Nvcc.sources(tmp);
    for (String file : KernelSources.FILES) {
      Nvcc.Result r = Nvcc.ptx(nvcc, dir.resolve(file), arch);
      assertEquals(0, r.status, file + " does not compile for " + arch + ":\n" + r.output);
      assertTrue(r.output.isBlank(), file + " compiles with messages for " + arch + ":\n" + r.output);
      Map<String, Param[]> entries = PtxEntries.parse(r.ptx);
      assertTrue(!entries.isEmpty(), file + " has no kernels");
    }
  }

  /**
   * gptneo.cuda.pdl: compiled with GPTNEO_PDL for sm_90, every kernel waits for the previous one
   * before it touches memory, so the backend launches each of them early; without the macro, or for
   * sm_80, none has the instruction and every launch is an ordinary one.
   */
  @ParameterizedTest
  @ValueSource(strings = {"compute_90:GPTNEO_PDL", "compute_90:", "compute_80:GPTNEO_PDL"})
  void programmaticLaunchOnlyWhereEveryKernelWaitsFirst(String build) {
    String arch = build.substring(0, build.indexOf(':'));
    List<String> defines = build.endsWith(":") ? List.of() : List.of(build.substring(build.indexOf(':') + 1));
    boolean expected = arch.equals("compute_90") && !defines.isEmpty();
    Path nvcc = Nvcc.require();
    Path dir = Nvcc.sources(tmp);
    for (String file : KernelSources.FILES) {
      Nvcc.Result r = Nvcc.ptx(nvcc, dir.resolve(file), arch, defines);
      assertEquals(0, r.status, file + " does not compile (" + build + "):\n" + r.output);
      Set<String> kernels = PtxEntries.parse(r.ptx).keySet();
      Set<String> waiting = PtxEntries.waitingFirst(r.ptx);
      assertEquals(expected ? kernels : Set.of(), waiting, file + " (" + build + ")");
      assertEquals(expected, r.ptx.contains("griddepcontrol.launch_dependents"), file + " (" + build + ")");
    }
  }

  /** The PTX also assembles for the H100 (what the driver's JIT does when the module loads). */
  @Test
  void everyKernelFileAssemblesForSm90() {
    Path nvcc = Nvcc.require();
    Path dir = Nvcc.sources(tmp);
    for (String file : KernelSources.FILES) {
      Nvcc.Result r = Nvcc.run(List.of(nvcc.toString(), "-cubin", "-arch=sm_90", "-Werror", "all-warnings", "-I",
          dir.toString(), "-o", dir.resolve(file + ".cubin").toString(), dir.resolve(file).toString()), 300);
      assertEquals(0, r.status, file + " does not assemble for sm_90:\n" + r.output);
      assertTrue(r.output.isBlank(), file + " assembles with messages:\n" + r.output);
    }
  }
}
