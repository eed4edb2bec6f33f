package dev.gptneo.engine.cli;

/** A bad command line: the launcher prints the message and the usage, and exits with status 2. */
final class UsageException extends RuntimeException {
  UsageException(String message) {
    super(message);
  }
}
