package dev.gptneo.engine;

/**
 * A model folder, a checkpoint or a request cannot be used. The message names the problem and,
 * where there is one, the fix.
 */
public class ModelException extends RuntimeException {
  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
