package dev.gptneo.engine.arrow;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.MapVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.FieldType;

/**
 * Builds the output columns of a batch, all allocated from the caller's allocator. If building
 * fails, everything allocated so far is released.
 */
final class Columns implements AutoCloseable {
  private final BufferAllocator allocator;
  private final int rows;
  private final List<FieldVector> vectors = new ArrayList<>();

  Columns(BufferAllocator allocator, int rows) {
    this.allocator = allocator;
    this.rows = rows;
  }

  private <V extends FieldVector> V add(V v) {
    vectors.add(v);
    v.setInitialCapacity(rows);
    v.allocateNew();
    return v;
  }

  VarCharVector utf8(String name) {
    return add(new VarCharVector(name, allocator));
  }

  IntVector int32(String name) {
    return add(new IntVector(name, allocator));
  }

  Float8Vector float64(String name) {
    return add(new Float8Vector(name, allocator));
  }

  ListVector list(String name, ArrowType element) {
    ListVector v = ListVector.empty(name, allocator);
    v.addOrGetVector(FieldType.notNullable(element));
    return add(v);
  }

  /** A list of lists of float64 (one inner list per sequence of a row). */
  ListVector listOfFloat64Lists(String name) {
    ListVector v = ListVector.empty(name, allocator);
    ListVector inner = (ListVector) v.addOrGetVector(FieldType.notNullable(ArrowType.List.INSTANCE)).getVector();
    inner.addOrGetVector(FieldType.notNullable(FLOAT64));
    return add(v);
  }

  MapVector mapUtf8ToFloat64(String name) {
    MapVector v = MapVector.empty(name, allocator, false);
    StructVector entries = (StructVector) v.addOrGetVector(FieldType.notNullable(ArrowType.Struct.INSTANCE)).getVector();
    entries.addOrGet(MapVector.KEY_NAME, FieldType.notNullable(ArrowType.Utf8.INSTANCE), VarCharVector.class);
    entries.addOrGet(MapVector.VALUE_NAME, FieldType.notNullable(FLOAT64), Float8Vector.class);
    return add(v);
  }

  static final ArrowType INT32 = new ArrowType.Int(32, true);
  static final ArrowType FLOAT32 = new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
  static final ArrowType FLOAT64 = new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);

  static void set(VarCharVector v, int row, String s) {
    if (s != null) {
      v.setSafe(row, s.getBytes(StandardCharsets.UTF_8));
    }
  }

  static void setInts(ListVector v, int row, int[] values) {
    if (values == null) {
      return;
    }
    IntVector child = (IntVector) v.getDataVector();
    int start = v.startNewValue(row);
    for (int i = 0; i < values.length; i++) {
      child.setSafe(start + i, values[i]);
    }
    v.endValue(row, values.length);
  }

  static void setFloats(ListVector v, int row, float[] values) {
    if (values == null) {
      return;
    }
    Float4Vector child = (Float4Vector) v.getDataVector();
    int start = v.startNewValue(row);
    for (int i = 0; i < values.length; i++) {
      child.setSafe(start + i, values[i]);
    }
    v.endValue(row, values.length);
  }

  static void setDoubleLists(ListVector v, int row, List<double[]> values) {
    ListVector inner = (ListVector) v.getDataVector();
    int start = v.startNewValue(row);
    for (int i = 0; i < values.size(); i++) {
      setDoubles(inner, start + i, values.get(i));
    }
    v.endValue(row, values.size());
  }

  static void setDoubles(ListVector v, int row, double[] values) {
    if (values == null) {
      return;
    }
    Float8Vector child = (Float8Vector) v.getDataVector();
    int start = v.startNewValue(row);
    for (int i = 0; i < values.length; i++) {
      child.setSafe(start + i, values[i]);
    }
    v.endValue(row, values.length);
  }

  static void setStrings(ListVector v, int row, String[] values) {
    if (values == null) {
      return;
    }
    VarCharVector child = (VarCharVector) v.getDataVector();
    int start = v.startNewValue(row);
    for (int i = 0; i < values.length; i++) {
      child.setSafe(start + i, values[i].getBytes(StandardCharsets.UTF_8));
    }
    v.endValue(row, values.length);
  }

  static void setMap(MapVector v, int row, Map<String, Double> values) {
    if (values == null) {
      return;
    }
    StructVector entries = (StructVector) v.getDataVector();
    VarCharVector keys = entries.getChild(MapVector.KEY_NAME, VarCharVector.class);
    Float8Vector vals = entries.getChild(MapVector.VALUE_NAME, Float8Vector.class);
    int start = v.startNewValue(row);
    int i = 0;
    for (Map.Entry<String, Double> e : values.entrySet()) {
      entries.setIndexDefined(start + i);
      keys.setSafe(start + i, e.getKey().getBytes(StandardCharsets.UTF_8));
      vals.setSafe(start + i, e.getValue());
      i++;
    }
    v.endValue(row, values.size());
  }

  /** Sets every vector's value count and hands them over as a root; the caller closes it. */
  VectorSchemaRoot finish() {
    for (FieldVector v : vectors) {
      v.setValueCount(rows);
    }
    List<FieldVector> out = new ArrayList<>(vectors);
    vectors.clear();
    return new VectorSchemaRoot(out);
  }

  @Override
  public void close() {
    for (FieldVector v : vectors) {
      v.close();
    }
    vectors.clear();
  }
}
