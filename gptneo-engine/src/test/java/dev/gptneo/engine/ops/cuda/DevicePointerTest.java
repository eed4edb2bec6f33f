package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.Test;

/** The device addresses handed to bytedeco keep their value (runs without a GPU: JavaCPP's Pointer only). */
class DevicePointerTest {
  @Test
  void aDeviceAddressSurvivesTheWrapping() {
    long address = 0x7f12_3456_7000L;
    assertEquals(address, DriverGpu.at(address).address());
    assertEquals(0, DriverGpu.at(address).position());
  }

  @Test
  void kernelParametersAreTheSlotAddressesThemselves() {
    try (LongPointer slots = new LongPointer(4)) {
      slots.put(2, 42L);
      var params = DriverGpu.asPointerArray(slots);
      assertEquals(slots.address(), params.address());
      assertEquals(42L, params.get(2).address());
    }
  }
}
