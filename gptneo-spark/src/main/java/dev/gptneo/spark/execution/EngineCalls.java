package dev.gptneo.spark.execution;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.arrow.ArrowTasks;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.spark.functions.CallOptions;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/** One engine call per group and batch, through the engine's Arrow batch API. */
final class EngineCalls {
  private EngineCalls() {}

  static VectorSchemaRoot run(CallLayout.Group group, Engine engine, VarCharVector[] inputs,
      List<GenerationParams> params, BufferAllocator allocator) {
    CallOptions o = group.options;
    InputPolicy policy = o.inputPolicy();
    switch (group.function) {
      case GENERATE:
        return ArrowTasks.generate(engine, inputs[0], params, policy, allocator);
      case CLASSIFY:
        return ArrowTasks.classify(engine, inputs[0], o.labels, policy, allocator);
      case EMBED:
        return ArrowTasks.embed(engine, inputs[0], policy, allocator);
      case SCORE:
        return ArrowTasks.score(engine, inputs[0], policy, allocator);
      case COUNT_TOKENS:
      case TOKENIZE:
        return ArrowTasks.tokenize(engine, inputs[0], policy, allocator);
      case TOKEN_CLASSIFY:
        return ArrowTasks.tokenClassify(engine, inputs[0], policy, allocator);
      case ANSWER:
        return ArrowTasks.answer(engine, inputs[0], inputs[1], o.maxAnswerTokens, policy, allocator);
      default:
        throw new IllegalStateException("unhandled function " + group.function);
    }
  }
}
