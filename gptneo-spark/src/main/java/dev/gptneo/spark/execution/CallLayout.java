package dev.gptneo.spark.execution;

import dev.gptneo.spark.functions.CallOptions;
import dev.gptneo.spark.functions.GptNeoCall;
import dev.gptneo.spark.functions.GptNeoFunction;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.expressions.Expression;

/**
 * How the operator's calls become engine calls. Calls with equal engine keys (function, model and
 * every option the engine sees) form a <em>group</em>: one Arrow batch and one engine call per
 * batch of rows. Within a group, calls with the same inputs share a <em>slot</em>, so
 * {@code gptneo_classify(t)} and {@code gptneo_classify(t, map('output','struct'))} run once. A
 * batch of R rows puts R x slots entries in the group's vectors, entry {@code row * slots + slot}.
 */
final class CallLayout implements Serializable {
  private static final long serialVersionUID = 1L;

  static final class Group implements Serializable {
    private static final long serialVersionUID = 1L;
    final GptNeoFunction function;
    final CallOptions options;               // the first call's; equal to the others' for the engine
    final List<int[]> slotInputs = new ArrayList<>(); // per slot: index of each input in the projected row

    Group(GptNeoFunction function, CallOptions options) {
      this.function = function;
      this.options = options;
    }

    int slots() {
      return slotInputs.size();
    }

    String modelRef() {
      return options.model;
    }
  }

  final List<GptNeoCall> calls;
  final List<Group> groups = new ArrayList<>();
  final List<Expression> inputs = new ArrayList<>(); // distinct input expressions, projected once per row
  final int[] callGroup;
  final int[] callSlot;

  CallLayout(List<GptNeoCall> calls) {
    this.calls = List.copyOf(calls);
    this.callGroup = new int[calls.size()];
    this.callSlot = new int[calls.size()];
    Map<CallOptions.EngineKey, Integer> groupByKey = new LinkedHashMap<>();
    List<Map<List<Integer>, Integer>> slotByInputs = new ArrayList<>();
    for (int c = 0; c < calls.size(); c++) {
      GptNeoCall call = calls.get(c);
      CallOptions.EngineKey key = call.options().engineKey(call.function());
      int g = groupByKey.computeIfAbsent(key, k -> {
        groups.add(new Group(call.function(), call.options()));
        slotByInputs.add(new LinkedHashMap<>());
        return groups.size() - 1;
      });
      List<Integer> inputIndexes = new ArrayList<>();
      for (Expression in : call.inputs()) {
        inputIndexes.add(inputIndex(in));
      }
      Group group = groups.get(g);
      int slot = slotByInputs.get(g).computeIfAbsent(inputIndexes, k -> {
        group.slotInputs.add(k.stream().mapToInt(Integer::intValue).toArray());
        return group.slotInputs.size() - 1;
      });
      callGroup[c] = g;
      callSlot[c] = slot;
    }
  }

  private int inputIndex(Expression e) {
    for (int i = 0; i < inputs.size(); i++) {
      if (inputs.get(i).semanticEquals(e)) {
        return i;
      }
    }
    inputs.add(e);
    return inputs.size() - 1;
  }

  /** Distinct model references (null: the default model). */
  List<String> modelRefs() {
    List<String> refs = new ArrayList<>();
    for (Group g : groups) {
      if (!refs.contains(g.modelRef())) {
        refs.add(g.modelRef());
      }
    }
    return refs;
  }
}
