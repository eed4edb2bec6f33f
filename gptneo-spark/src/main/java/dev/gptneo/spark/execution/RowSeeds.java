package dev.gptneo.spark.execution;

import dev.gptneo.spark.distribution.ModelFolder;
import java.nio.ByteBuffer;
import java.security.MessageDigest;

/**
 * The sampling seed of a row depends only on the user's seed and the row's input, never on its
 * position, batch, partition or task attempt: {@code seed_row} = the first 8 bytes (big-endian)
 * of SHA-256(8-byte big-endian user seed, UTF-8 prompt). So a query gives the same generations
 * however it is partitioned, and rows with equal prompts get equal completions.
 */
public final class RowSeeds {
  private RowSeeds() {}

  /**
   * The seed of row {@code rowId} of the gptneo data source, where every row has the same prompt:
   * the first 8 bytes of SHA-256(user seed, row id, UTF-8 prompt), each number 8 bytes big-endian.
   */
  public static long seed(long userSeed, long rowId, byte[] utf8Prompt) {
    MessageDigest sha = ModelFolder.ContentHash.newDigest();
    sha.update(ByteBuffer.allocate(16).putLong(userSeed).putLong(rowId).array());
    sha.update(utf8Prompt);
    return ByteBuffer.wrap(sha.digest()).getLong();
  }

  public static long seed(long userSeed, byte[] utf8Prompt) {
    MessageDigest sha = ModelFolder.ContentHash.newDigest();
    sha.update(ByteBuffer.allocate(8).putLong(userSeed).array());
    sha.update(utf8Prompt);
    return ByteBuffer.wrap(sha.digest()).getLong();
  }
}
