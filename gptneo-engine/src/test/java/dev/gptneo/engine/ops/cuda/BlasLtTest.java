package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * What BlasLt decides without a GPU: the cuBLASLt epilogue of each linear layer (the values of
 * cublasLtEpilogue_t), the bytes a survey's scratch output needs, names, and the option's values.
 * Its calls into cuBLASLt run on the device only (device/gpu-checks.sh).
 */
class BlasLtTest {
  private static BlasLt.Shape shape(int rows, int ldy, boolean halfOut, boolean accumulate, boolean bias,
      boolean gelu) {
    return new BlasLt.Shape(Precision.F16, rows, 2560, 10240, ldy, halfOut, accumulate, bias, gelu);
  }

  @Test
  void eachLinearLayerGetsItsEpilogue() {
    assertEquals(1, shape(8, 10240, false, false, false, false).epilogue(), "q|k|v: CUBLASLT_EPILOGUE_DEFAULT");
    assertEquals(4, shape(8, 10240, false, true, true, false).epilogue(), "out_proj, c_proj: CUBLASLT_EPILOGUE_BIAS");
    assertEquals(36, shape(8, 10240, true, false, true, true).epilogue(), "c_fc: CUBLASLT_EPILOGUE_GELU_BIAS");
    assertEquals(32, shape(8, 10240, true, false, false, true).epilogue(), "CUBLASLT_EPILOGUE_GELU");
  }

  @Test
  void scratchCoversTheLastRowOnly() {
    assertEquals((3L * 12000 + 10240) * 4, shape(4, 12000, false, false, false, false).outBytes());
    assertEquals(4L * 10240 * 2, shape(4, 10240, true, false, true, true).outBytes());
  }

  @Test
  void namesSayShapeAndEpilogue() {
    BlasLt.Shape s = shape(128, 10240, true, false, true, true);
    assertEquals("gemm f16 (128 x 2560) x (10240 x 2560)^T lt +bias gelu ->f16", s.toString());
    assertEquals("gemm f16 rows<=256 2560->10240 lt +bias gelu ->f16", s.label());
    assertTrue(shape(8, 10240, false, true, true, false).label().endsWith(" lt +y +bias"));
  }

  @Test
  void algorithmChoiceParses() {
    assertEquals(BlasLt.Choice.HEURISTIC, BlasLt.Choice.parse(null));
    assertEquals(BlasLt.Choice.SURVEY, BlasLt.Choice.parse(" Survey"));
    assertEquals(BlasLt.Choice.FASTEST, BlasLt.Choice.parse("fastest"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BlasLt.Choice.parse("best"));
    assertTrue(e.getMessage().contains("gptneo.cuda.ltAlgo must be heuristic, survey or fastest"), e.getMessage());
  }
}
