package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Device names as torch writes them, and the KV-cache budget on the heap and on a GPU. */
class EngineOptionsTest {
  @Test
  void devicesAndTheirIndex() {
    assertEquals("cpu", EngineOptions.defaults().device);
    EngineOptions one = EngineOptions.builder().device("CUDA:1").build();
    assertEquals("cuda", one.device);
    assertEquals(1, one.deviceIndex);
    assertEquals(0, EngineOptions.builder().device("auto").build().deviceIndex);
    assertEquals(2, EngineOptions.builder().device("auto:2").build().deviceIndex);
    for (String bad : new String[] {"gpu", "cuda:x", "cuda:-1", "cuda:"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> EngineOptions.builder().device(bad).build(), bad);
      assertTrue(e.getMessage().contains("device"), e.getMessage());
    }
  }

  @Test
  void theKvCacheBudgetIsAFractionOfFreeDeviceMemoryUnlessGiven() {
    EngineOptions defaults = EngineOptions.defaults();
    assertFalse(defaults.kvCacheBytesSet);
    assertEquals(defaults.kvCacheBytes, defaults.kvCacheBudget(-1), "on the heap: the heap-sized default");
    assertEquals(9_000, defaults.kvCacheBudget(10_000), "on a GPU: 0.9 of the free memory");
    assertEquals(5_000, EngineOptions.builder().kvCacheFraction(0.5).build().kvCacheBudget(10_000));
    EngineOptions given = EngineOptions.builder().kvCacheBytes(1234).build();
    assertEquals(1234, given.kvCacheBudget(10_000), "given bytes win on a GPU too");
    assertEquals(1234, given.toBuilder().build().kvCacheBudget(10_000), "and survive toBuilder");
    for (double bad : new double[] {0, -0.1, 1.5, Double.NaN}) {
      assertThrows(IllegalArgumentException.class, () -> EngineOptions.builder().kvCacheFraction(bad).build());
    }
  }
}
