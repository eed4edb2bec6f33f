package dev.gptneo.engine.config;

/** GPT-Neo alternates global (full causal) and local (sliding window) attention layers. */
public enum AttentionType {
  GLOBAL,
  LOCAL;

  static AttentionType parse(String s) {
    switch (s) {
      case "global":
        return GLOBAL;
      case "local":
        return LOCAL;
      default:
        throw new IllegalArgumentException("unknown attention type '" + s + "' (expected global or local)");
    }
  }
}
