package dev.gptneo.engine.api;

/** Every per-row result: either a value or an error that names the row's problem. */
public abstract class Result {
  /** Null when the row succeeded. */
  public final String error;

  protected Result(String error) {
    this.error = error;
  }

  public final boolean ok() {
    return error == null;
  }
}
