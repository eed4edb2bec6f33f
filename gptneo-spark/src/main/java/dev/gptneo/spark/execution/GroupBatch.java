package dev.gptneo.spark.execution;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.spark.functions.GptNeoFunction;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * One group's share of a batch: the Arrow input vectors the task thread fills, then (on a caller
 * thread) the engine call and its result root. Entry {@code row * slots + slot}.
 */
final class GroupBatch implements AutoCloseable {
  final CallLayout.Group group;
  private final VarCharVector[] columns;            // one per text input (answer: question, context)
  private final boolean generate;
  final BitSet nullInputs = new BitSet();
  final BitSet emptyInputs = new BitSet(); // "" has 0 tokens; the engine treats it as a bad row
  private int entries;
  long estimatedTokens;

  // set by run()
  VectorSchemaRoot result;
  long engineNanos;
  long promptTokens;
  long generatedTokens;

  GroupBatch(CallLayout.Group group, BufferAllocator allocator, int expectedEntries) {
    this.group = group;
    this.columns = new VarCharVector[group.function.inputCount()];
    try {
      for (int i = 0; i < columns.length; i++) {
        columns[i] = new VarCharVector("input" + i, allocator);
        columns[i].setInitialCapacity(expectedEntries);
        columns[i].allocateNew();
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    this.generate = group.function == GptNeoFunction.GENERATE;
  }

  /** Adds the row's entries (one per slot) from its projected inputs. */
  void add(InternalRow projected) {
    for (int[] slot : group.slotInputs) {
      int entry = entries++;
      boolean isNull = false;
      for (int p = 0; p < slot.length; p++) {
        UTF8String s = projected.isNullAt(slot[p]) ? null : projected.getUTF8String(slot[p]);
        if (s == null) {
          columns[p].setNull(entry);
          isNull = true;
        } else {
          byte[] bytes = s.getBytes();
          columns[p].setSafe(entry, bytes);
          if (bytes.length == 0) {
            emptyInputs.set(entry);
          }
          estimatedTokens += bytes.length / 4 + 1;
        }
      }
      if (isNull) {
        nullInputs.set(entry);
      }
      if (generate) {
        estimatedTokens += group.options.maxNewTokens();
      }
    }
  }

  /** Runs the engine on the filled vectors, keeps the result, and frees the inputs. */
  void run(Engine engine, BufferAllocator allocator) {
    long t0 = System.nanoTime();
    try {
      for (VarCharVector c : columns) {
        c.setValueCount(entries);
      }
      try {
        result = EngineCalls.run(group, engine, columns, rowParams(engine), allocator);
      } catch (IllegalArgumentException e) {
        // a problem of the whole call (e.g. the model lacks the head the function needs)
        String model = group.options.model == null ? "the default model" : "model '" + group.options.model + "'";
        throw new IllegalArgumentException(group.function.sqlName + " cannot run on " + model + ": "
            + e.getMessage(), e);
      }
      engineNanos = System.nanoTime() - t0;
      TokenCounts counts = TokenCounts.of(group.function, result);
      if (counts == null) {
        counts = TokenCounts.byTokenizing(engine, columns, group.options.inputPolicy(), allocator);
      }
      promptTokens = counts.prompt;
      generatedTokens = counts.generated;
    } finally {
      closeInputs();
    }
  }

  /**
   * Each generate entry's parameters: the call's over the model's defaults; when sampling, each row
   * seeded from its prompt (RowSeeds).
   */
  private List<GenerationParams> rowParams(Engine engine) {
    if (!generate) {
      return null;
    }
    GenerationParams base = group.options.generationParams(engine.generationDefaults());
    List<GenerationParams> out = new ArrayList<>(entries);
    for (int e = 0; e < entries; e++) {
      out.add(nullInputs.get(e) || !base.doSample ? base
          : base.toBuilder().seed(RowSeeds.seed(group.options.seed(), columns[0].get(e))).build());
    }
    return out;
  }

  private void closeInputs() {
    for (VarCharVector c : columns) {
      if (c != null) {
        c.close();
      }
    }
  }

  @Override
  public void close() {
    closeInputs();
    if (result != null) {
      result.close();
      result = null;
    }
  }
}
