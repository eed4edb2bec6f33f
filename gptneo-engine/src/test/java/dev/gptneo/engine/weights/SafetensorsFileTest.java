package dev.gptneo.engine.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.testing.TinyCheckpoints;
import dev.gptneo.engine.testing.TinyCheckpoints.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader: dtypes, and every kind of broken file gives a message naming the problem. */
class SafetensorsFileTest {
  @TempDir Path dir;

  static final float[] VALUES = {0f, 1f, -2.5f, 0.015625f, 65504f, -0.125f};

  String failure(Path file) {
    String m = assertThrows(ModelException.class, () -> SafetensorsFile.open(file)).getMessage();
    assertTrue(m.contains(file.toString()), "names the file: " + m);
    return m;
  }

  @Test
  void readsF32F16AndBf16() {
    Map<String, Tensor> t = new LinkedHashMap<>();
    for (String d : new String[] {"F32", "F16", "BF16"}) {
      t.put("x." + d, new Tensor(d, new long[] {2, 3}, VALUES));
    }
    t.put("ids", new Tensor("I64", new long[] {2}, new byte[] {7, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1}));
    Path file = dir.resolve("m.safetensors");
    TinyCheckpoints.writeSafetensors(file, t);
    SafetensorsFile f = SafetensorsFile.open(file);
    assertEquals(Map.of("format", "pt"), f.metadata());
    assertArrayEquals(VALUES, f.get("x.F32").toFloatArray());
    assertArrayEquals(VALUES, f.get("x.F16").toFloatArray()); // all exact in fp16
    float[] bf = f.get("x.BF16").toFloatArray();
    for (int i = 0; i < VALUES.length; i++) {
      assertEquals(VALUES[i], bf[i], Math.abs(VALUES[i]) / 128, "bf16 " + i); // 8 bits of mantissa
    }
    assertEquals(DType.F16, f.get("x.F16").dtype);
    assertArrayEquals(new long[] {2, 3}, f.get("x.BF16").shape);
    assertArrayEquals(new int[] {7, -1}, f.get("ids").toIntArray());
    String missing = assertThrows(ModelException.class, () -> f.get("nope")).getMessage();
    assertTrue(missing.contains("'nope'"), missing);
  }

  @Test
  void corruptJsonHeader() {
    Path file = dir.resolve("bad-json.safetensors");
    TinyCheckpoints.writeRaw(file, "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], ", new byte[4]);
    String m = failure(file);
    assertTrue(m.contains("corrupt safetensors") && m.contains("JSON header does not parse"), m);
    assertTrue(m.contains("Download the file again"), "gives the fix: " + m);
    Path array = dir.resolve("array.safetensors");
    TinyCheckpoints.writeRaw(array, "[1, 2, 3]", new byte[0]);
    assertTrue(failure(array).contains("not a JSON object"));
  }

  @Test
  void headerLengthOutOfBounds() {
    byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
    Path longer = dir.resolve("longer.safetensors");
    TinyCheckpoints.writeRaw(longer, 1_000, header, new byte[0]); // claims more bytes than the file has
    String m = failure(longer);
    assertTrue(m.contains("header length 1000 is out of bounds") && m.contains("file size 10"), m);
    Path negative = dir.resolve("negative.safetensors");
    TinyCheckpoints.writeRaw(negative, -1L, header, new byte[0]);
    assertTrue(failure(negative).contains("header length 18446744073709551615 is out of bounds"));
    Path zero = dir.resolve("zero.safetensors");
    TinyCheckpoints.writeRaw(zero, 0, header, new byte[0]);
    assertTrue(failure(zero).contains("header length 0 is out of bounds"));
    Path huge = dir.resolve("huge.safetensors");
    TinyCheckpoints.writeRaw(huge, 200L << 20, header, new byte[0]); // above the 100 MB limit
    assertTrue(failure(huge).contains("limit 104857600"));
  }

  @Test
  void fileShorterThanTheLengthField() throws Exception {
    Path file = dir.resolve("tiny.safetensors");
    Files.write(file, new byte[] {1, 2, 3});
    assertTrue(failure(file).contains("fewer than the 8-byte header length"));
  }

  @Test
  void truncatedFile() throws Exception {
    Path file = dir.resolve("full.safetensors");
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("a", new Tensor("F32", new long[] {4}, new float[4]));
    t.put("b", new Tensor("F32", new long[] {4}, new float[4]));
    TinyCheckpoints.writeSafetensors(file, t);
    byte[] all = Files.readAllBytes(file);
    Path cut = dir.resolve("cut.safetensors");
    Files.write(cut, java.util.Arrays.copyOf(all, all.length - 5));
    String m = failure(cut);
    assertTrue(m.contains("tensor 'b'") && m.contains("data_offsets [16, 32]") && m.contains("27 data bytes")
        && m.contains("truncated"), m);
  }

  @Test
  void unknownDtypeNamesTheTensorTheDtypeAndTheFix() {
    Path file = dir.resolve("f8.safetensors");
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("w", new Tensor("F8_E4M3", new long[] {2}, new byte[2]));
    TinyCheckpoints.writeSafetensors(file, t);
    String m = failure(file);
    assertTrue(m.contains("'w'") && m.contains("'F8_E4M3'") && m.contains("F32, F16 or BF16")
        && m.contains("save_pretrained"), m);
  }

  @Test
  void shapeAndByteCountMustAgree() {
    Path file = dir.resolve("mismatch.safetensors");
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("w", new Tensor("F32", new long[] {3, 3}, new byte[32])); // needs 36
    TinyCheckpoints.writeSafetensors(file, t);
    String m = failure(file);
    assertTrue(m.contains("'w' has 32 bytes") && m.contains("[3,3]") && m.contains("needs 36"), m);
  }

  @Test
  void badTensorEntries() {
    Path noOffsets = dir.resolve("no-offsets.safetensors");
    TinyCheckpoints.writeRaw(noOffsets, "{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", new byte[4]);
    assertTrue(failure(noOffsets).contains("needs dtype, shape and data_offsets"));
    Path negative = dir.resolve("negative-dim.safetensors");
    TinyCheckpoints.writeRaw(negative, "{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}",
        new byte[4]);
    assertTrue(failure(negative).contains("negative or non-integer dimension"));
    Path backwards = dir.resolve("backwards.safetensors");
    TinyCheckpoints.writeRaw(backwards, "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}",
        new byte[4]);
    assertTrue(failure(backwards).contains("data_offsets [4, 0]"));
    Path overflow = dir.resolve("overflow.safetensors");
    TinyCheckpoints.writeRaw(overflow, "{\"w\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 4],"
        + " \"data_offsets\": [0, 4]}}", new byte[4]);
    String m = failure(overflow);
    assertTrue(m.contains("'w'") && m.contains("too large"), m);
  }

  @Test
  void missingFileIsNamed() {
    Path file = dir.resolve("absent.safetensors");
    String m = failure(file);
    assertTrue(m.contains("does not exist"), m);
  }

  @Test
  void emptyTensorAndScalar() {
    Path file = dir.resolve("edge.safetensors");
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("empty", new Tensor("F32", new long[] {0, 4}, new float[0]));
    t.put("scalar", new Tensor("F32", new long[] {}, new float[] {3f}));
    TinyCheckpoints.writeSafetensors(file, t);
    SafetensorsFile f = SafetensorsFile.open(file);
    assertEquals(0, f.get("empty").numel());
    assertArrayEquals(new float[] {3f}, f.get("scalar").toFloatArray());
  }
}
