package dev.gptneo.engine.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gptneo.engine.testing.Goldens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** -Dgptneo.cpu.vectorBits: the setting's rules, and that a pinned width gives a narrower CPU's bits. */
class VectorWidthTest {

  @Test
  void settingIsAWidthTheCpuHas() {
    assertEquals(512, VectorWidth.parse(null, 512));
    assertEquals(256, VectorWidth.parse(" 256", 512));
    assertEquals(128, VectorWidth.parse("128", 256));
    for (String bad : new String[] {"512", "64", "300", "wide", ""}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VectorWidth.parse(bad, 256));
      assertTrue(e.getMessage().contains("give 128, 256 or 512, at most its own 256"), e.getMessage());
    }
  }

  /**
   * The engine pinned to 256 bits on an AVX-512 CPU gives the bits of the same CPU run as an AVX2
   * one (-XX:UseAVX=2), for every token's log-probability, packed and memory-mapped weights alike:
   * what a cluster mixing both CPUs needs. Two child JVMs each (x86 with AVX-512 only).
   */
  @Test
  void pinnedWidthGivesTheNarrowerCpusBits(@TempDir Path dir) throws Exception {
    assumeTrue(System.getProperty("os.arch").matches("amd64|x86_64") && VectorWidth.PREFERRED_BITS == 512,
        "needs an x86 CPU with 512-bit vectors");
    Path input = dir.resolve("in.jsonl");
    Files.writeString(input, "{\"id\": 1, \"text\": \"FREE!!! Click here to claim your prize, reply today\"}\n"
        + "{\"id\": 2, \"text\": \"Re: the build is broken again on the release branch\"}\n");
    for (String weights : new String[] {"packed", "mapped"}) {
      String avx2 = score(input, weights, "-XX:UseAVX=2");
      String pinned = score(input, weights, "-D" + VectorWidth.PROPERTY + "=256");
      assertTrue(avx2.contains("token_logprobs"), avx2);
      assertEquals(avx2, pinned, weights);
    }
  }

  private static String score(Path input, String weights, String flag) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules", "jdk.incubator.vector", "-Xmx1g", flag, "-cp", System.getProperty("java.class.path"),
        "dev.gptneo.engine.cli.Main", "score", "--model", Goldens.demoModel().toString(), "--weights", weights,
        "--threads", "2", "--input", input.toString()));
    Path log = Files.createTempFile(input.getParent(), "stderr", ".txt");
    Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), String.join(" ", cmd));
    String backend = Files.readString(log);
    assertTrue(backend.contains("cpu-vector(256-bit"), "both run 256-bit kernels: " + backend);
    return out;
  }
}
