package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.TokenChoice;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A {@link TokenChoice} in the layout choose_tokens and beam_candidates read (choice.cuh): rows x
 * ChoiceRow (96 bytes), then the ids: all rows' penalized ids, then their banned ids, then their
 * biases as (id, float bits) pairs. One host buffer, reused; one upload per chunk of rows.
 */
final class ChoiceTable {
  static final int ROW_BYTES = 96;

  private ByteBuffer host = ByteBuffer.allocateDirect(ROW_BYTES * 64 + 4 * 1024).order(ByteOrder.LITTLE_ENDIAN);

  /** Bytes the encoded table takes. */
  static long bytes(TokenChoice c) {
    return (long) ROW_BYTES * c.rows() + 4L * (c.penaltyCount() + c.banCount() + 2L * c.biasCount());
  }

  /** Where the ids start, in bytes from the table's start. */
  static long idsOffset(TokenChoice c) {
    return (long) ROW_BYTES * c.rows();
  }

  /** The table, ready to upload (valid until the next call). */
  ByteBuffer encode(TokenChoice c) {
    int bytes = (int) bytes(c);
    if (bytes > host.capacity()) {
      host = ByteBuffer.allocateDirect(Math.max(bytes, 2 * host.capacity())).order(ByteOrder.LITTLE_ENDIAN);
    }
    ByteBuffer b = host;
    b.clear();
    int bans = c.penaltyCount(); // the ban ids follow the penalized ones
    int biases = bans + c.banCount(); // and the bias pairs the ban ids
    for (int r = 0; r < c.rows(); r++) {
      double topP = c.topP(r);
      b.putInt(c.sample(r) ? 1 : 0)
          .putInt(c.topK(r))
          .putInt(topP < 1.0 ? 1 : 0)
          .putInt(c.penaltyFrom(r))
          .putInt(c.penaltyTo(r))
          .putInt(bans + c.banFrom(r))
          .putInt(bans + c.banTo(r))
          .putFloat(c.temperature(r))
          .putFloat(c.penalty(r))
          .putInt(c.logprob(r) ? 1 : 0)
          .putDouble((float) (1.0 - topP)) // the host's fp32 threshold, LogitsProcessors.topP
          .putDouble(c.uniform(r))
          .putFloat(c.minP(r))
          .putFloat(c.beamScore(r))
          .putInt(biases + 2 * c.biasFrom(r))
          .putInt(biases + 2 * c.biasTo(r))
          .putFloat(c.epsilon(r))
          .putFloat(c.eta(r))
          .putFloat(c.typical(r))
          .putInt(c.renormalize(r) ? 1 : 0)
          .putDouble(c.topH(r));
    }
    for (int i = 0; i < c.penaltyCount(); i++) {
      b.putInt(c.penaltyId(i));
    }
    for (int i = 0; i < c.banCount(); i++) {
      b.putInt(c.banId(i));
    }
    for (int i = 0; i < c.biasCount(); i++) {
      b.putInt(c.biasId(i)).putFloat(c.biasValue(i));
    }
    b.flip();
    return b;
  }
}
