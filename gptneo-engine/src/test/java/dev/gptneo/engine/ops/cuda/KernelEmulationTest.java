package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernels' arithmetic without a GPU: the .cu sources compiled as host C++ over a small CUDA
 * emulator (emu/emu.h, threads as fibers) and run by emu/emu_test.cpp: layer norm, epilogues,
 * casts, embedding, gathers, argmax, and attention through prompt chunks and decode steps on global
 * and local layers with windows below, at and above the sequence lengths, odd head sizes and every
 * cache type, against double-precision references; and choose_tokens against the host's own
 * choices (ChoiceCases: GenerateJob's processors and sampler in Java), token_logprobs against
 * LogitsProcessors.logProb (TargetCases), and beam_candidates against HostChoice.rank
 * (BeamCases). Built with AddressSanitizer where g++ has it, so a kernel that reads or writes
 * outside its buffers fails. Launches vary the order of their blocks and the schedule of each
 * block's threads (emu.h), so a missing barrier or a result that depends on which block ends last
 * fails too. Each suite also runs, side by side, built with ThreadSanitizer where g++ has it: two
 * threads of a block that touch one address, one of them writing, with no barrier between them
 * fail whatever the schedule, global and shared memory alike, and so do two blocks of a launch
 * without a ticket's fences between them (emu.h).
 * Needs g++ with C++20; skipped without.
 */
class KernelEmulationTest {
  @TempDir
  static Path tmp;

  private static Path exe;
  private static Path raceExe; // ThreadSanitizer's build, or null where g++ has none

  @BeforeAll
  static void build() throws IOException {
    Path gpp = Paths.get("/usr/bin/g++");
    assumeTrue(Files.isExecutable(gpp), "g++ not found: kernel emulation skipped");
    Path src = Nvcc.sources(tmp.resolve("src"));
    for (String f : List.of("emu.h", "attention_checks.h", "emu_test.cpp")) {
      try (InputStream in = KernelEmulationTest.class.getResourceAsStream("emu/" + f)) {
        Files.copy(in, src.resolve(f));
      }
    }
    CompletableFuture<Path> races = CompletableFuture.supplyAsync(() -> buildRaceChecker(gpp, src));
    Path out = tmp.resolve("emu_test");
    List<String> command = compile(gpp, src, out);
    if (sanitizerWorks(gpp, "address", "int main() { return 0; }\n")) {
      // every kernel read and write outside its buffers (global memory, from the test's vectors) fails the run
      command.addAll(1, List.of("-fsanitize=address", "-fno-omit-frame-pointer"));
    } else {
      System.out.println("g++ without AddressSanitizer: kernels emulated without bounds checks");
    }
    Nvcc.Result build = Nvcc.run(command, 300);
    assertEquals(0, build.status, "the emulated kernels do not build:\n" + build.output);
    exe = out;
    raceExe = races.join();
  }

  private static List<String> compile(Path gpp, Path src, Path out) {
    return new ArrayList<>(List.of(gpp.toString(), "-std=c++20", "-O2", "-DGPTNEO_EMU", "-Wall", "-Werror",
        "-Wno-unknown-pragmas", "-I", src.toString(), "-o", out.toString(), src.resolve("emu_test.cpp").toString()));
  }

  /** The ThreadSanitizer build, or null where g++ has none that runs fibers here. */
  private static Path buildRaceChecker(Path gpp, Path src) {
    String fibers = "#include <sanitizer/tsan_interface.h>\n"
        + "int main() { void* f = __tsan_create_fiber(0); __tsan_destroy_fiber(f); return 0; }\n";
    if (!sanitizerWorks(gpp, "thread", fibers)) {
      System.out.println("g++ without a working ThreadSanitizer: kernels emulated without the race check");
      return null;
    }
    Path out = tmp.resolve("emu_test_races");
    List<String> command = compile(gpp, src, out);
    command.add(1, "-fsanitize=thread");
    Nvcc.Result build = Nvcc.run(command, 300);
    assertEquals(0, build.status, "the emulated kernels do not build with ThreadSanitizer:\n" + build.output);
    return out;
  }

  private static boolean sanitizerWorks(Path gpp, String sanitizer, String program) {
    try {
      Path probe = tmp.resolve(sanitizer + "_probe.cpp");
      Files.writeString(probe, program);
      Path exe = tmp.resolve(sanitizer + "_probe");
      return Nvcc.run(List.of(gpp.toString(), "-fsanitize=" + sanitizer, "-o", exe.toString(), probe.toString()), 60)
          .status == 0 && Nvcc.run(List.of(exe.toString()), 60).status == 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void kernelsMatchTheReferenceOnTheEmulator() {
    run(List.of());
  }

  /**
   * choose_tokens picks the host's token on every row: the exact path and the parallel ones, at two
   * block sizes (the exact path does not depend on it), and at GPT-Neo's vocab.
   */
  @Test
  void chooseTokensPicksTheHostsTokens() {
    Path broad = tmp.resolve("broad.bin");
    ChoiceCases.broad(3001, 11).write(broad);
    Path full = tmp.resolve("full.bin");
    ChoiceCases.fullVocab(12).write(full);
    run(List.of("--choices", "64", broad.toString(), full.toString()), List.of("--choices", "128", broad.toString()));
  }

  /** token_logprobs gives the host's log-probabilities within the tolerance, at vocab 3001 and 50257. */
  @Test
  void tokenLogprobsAreTheHosts() {
    Path small = tmp.resolve("targets-small.bin");
    TargetCases.of(3001, 31).write(small);
    Path full = tmp.resolve("targets-full.bin");
    TargetCases.of(50257, 32).write(full);
    run(List.of("--targets", "512", small.toString(), full.toString()), List.of("--targets", "64", small.toString()));
  }

  /** beam_candidates gives the host's continuations (HostChoice.rank), at vocab 3001 and 50257. */
  @Test
  void beamCandidatesAreTheHosts() {
    Path small = tmp.resolve("beams-small.bin");
    BeamCases.of(3001, 41).write(small);
    Path full = tmp.resolve("beams-full.bin");
    BeamCases.of(50257, 42).write(full);
    run(List.of("--beams", "512", small.toString(), full.toString()), List.of("--beams", "64", small.toString()));
  }

  /**
   * Runs the emulator with each list of arguments (none: the main suite), and with the first one
   * under ThreadSanitizer at the same time (where it builds): a race it reports fails the run.
   */
  @SafeVarargs
  private static void run(List<String>... argumentLists) {
    CompletableFuture<Void> races = CompletableFuture.completedFuture(null);
    if (raceExe != null) {
      races = CompletableFuture.runAsync(() -> check(raceExe, argumentLists[0], "under ThreadSanitizer"));
    }
    for (List<String> arguments : argumentLists) {
      check(exe, arguments, "");
    }
    races.join();
  }

  private static void check(Path binary, List<String> arguments, String how) {
    List<String> command = new ArrayList<>(List.of(binary.toString()));
    command.addAll(arguments);
    Nvcc.Result run = Nvcc.run(command, 900);
    System.out.println(run.output);
    assertEquals(0, run.status, "kernel checks failed on the emulator " + how + ":\n" + run.output);
    assertTrue(run.output.contains("0 failures") && !run.output.contains("ThreadSanitizer"), run.output);
  }
}
