package dev.gptneo.spark.execution;

import dev.gptneo.spark.functions.GptNeoCall;

/** A row the engine could not process, with 'on_error' = 'fail' (the default): fails the query. */
public final class GptNeoRowException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  GptNeoRowException(GptNeoCall call, String problem, String inputPreview) {
    super(call.prettyName() + " failed on a row: " + problem + ". The row's input: \"" + inputPreview + "\". "
        + "Fix the input, allow truncation with 'truncation' = 'right' (or 'left') for long inputs, or add "
        + "'on_error' = 'null' to the options to get NULL for such rows and keep the others.");
  }
}
