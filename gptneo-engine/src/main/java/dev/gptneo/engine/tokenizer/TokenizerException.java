package dev.gptneo.engine.tokenizer;

/**
 * A tokenizer file is missing, corrupt or describes a tokenizer this class cannot reproduce. The
 * message names the file and the problem.
 */
public final class TokenizerException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TokenizerException(String message) {
    super(message);
  }

  public TokenizerException(String message, Throwable cause) {
    super(message, cause);
  }
}
