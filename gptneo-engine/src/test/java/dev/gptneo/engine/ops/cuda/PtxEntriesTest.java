package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gptneo.engine.ops.cuda.KernelFunction.Param;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Which kernels may launch early (gptneo.cuda.pdl): those whose PTX waits for the previous kernel
 * before any instruction that may read or write global memory. PtxBuildTest checks the real
 * kernels; here each rule is one small module.
 */
class PtxEntriesTest {
  private static String entry(String name, String body) {
    return ".visible .entry " + name + "(\n\t.param .u64 " + name + "_param_0,\n\t.param .u32 " + name
        + "_param_1\n)\n.maxntid 256, 1, 1\n{\n\t.reg .b64 %rd<9>;\n" + body + "\n\tret;\n}\n";
  }

  @Test
  void waitingFirstIsDecidedPerKernelByTheFirstMemoryInstruction() {
    String ptx = ".version 8.8\n.target sm_90\n.address_size 64\n"
        + entry("waits_then_loads", "\tld.param.u64 %rd1, [waits_then_loads_param_0];\n\tcvta.to.global.u64 %rd2, %rd1;\n"
            + "\tprefetch.global.L2 [%rd2];\n\tgriddepcontrol.wait;\n\tgriddepcontrol.launch_dependents;\n"
            + "\tld.global.nc.v4.u32 {%r1, %r2, %r3, %r4}, [%rd2];")
        + entry("loads_first", "\tld.global.f32 %f1, [%rd2];\n\tgriddepcontrol.wait;")
        + entry("generic_store_first", "\t@%p1 st.u64 [%rd2], %rd3;\n\tgriddepcontrol.wait;")
        + entry("atomic_first", "\t@!%p2 atom.global.add.u32 %r1, [%rd2], 1;\n\tgriddepcontrol.wait;")
        + entry("calls_first", "\tcall.uni (retval0), helper, (param0);\n\tgriddepcontrol.wait;")
        + entry("copies_first", "\tcp.async.cg.shared.global [%r1], [%rd2], 16;\n\tgriddepcontrol.wait;")
        + entry("shared_and_local_first", "\tst.shared.f32 [%r1], %f1;\n\tld.local.u32 %r2, [%rd1];\n"
            + "\tld.const.u32 %r3, [c];\n\tbar.sync 0;\n$L__BB0_1:\n\tgriddepcontrol.wait;\n\tst.global.f32 [%rd2], %f1;")
        + entry("never_waits", "\tld.param.u32 %r1, [never_waits_param_1];\n\tst.global.u32 [%rd2], %r1;");
    assertEquals(Set.of("waits_then_loads", "shared_and_local_first"), PtxEntries.waitingFirst(ptx));
    assertEquals(8, PtxEntries.parse(ptx).size());
    assertArrayEquals(new Param[] {Param.PTR, Param.I32}, PtxEntries.parse(ptx).get("loads_first"));
  }
}
