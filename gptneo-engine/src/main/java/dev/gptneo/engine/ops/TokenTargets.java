package dev.gptneo.engine.ops;

import java.util.Arrays;

/**
 * Which tokens' log-probabilities each row of LM-head logits should give, for {@link
 * Ops#tokenLogprobs}: a score job's next token per row, a zero-shot text's label first tokens on
 * its last row. Jobs add one row each per step; the table is reused (it allocates only to grow).
 */
public final class TokenTargets {
  private final int vocab;
  private int rows;
  private int[] rowFrom = new int[1]; // (rows + 1) into ids: row r's targets are ids[rowFrom[r], rowFrom[r + 1])
  private int[] ids = new int[64];

  public TokenTargets(int vocab) {
    this.vocab = vocab;
  }

  public int vocab() {
    return vocab;
  }

  public int rows() {
    return rows;
  }

  /** All rows' targets. */
  public int count() {
    return rowFrom[rows];
  }

  /** Empties the table for the next chunk of rows. */
  public void clear() {
    rows = 0;
  }

  /** Drops the rows from {@code row} on (a job that failed while describing its row). */
  public void truncate(int row) {
    rows = Math.min(rows, row);
  }

  /** Starts a row (no targets yet). Returns its index. */
  public int addRow() {
    if (rows + 2 > rowFrom.length) {
      rowFrom = Arrays.copyOf(rowFrom, Math.max(2 * rowFrom.length, rows + 2));
    }
    rowFrom[rows + 1] = rowFrom[rows];
    return rows++;
  }

  /** Adds a token to the last row. */
  public void add(int id) {
    assert rows > 0 : "addRow first";
    if (id < 0 || id >= vocab) {
      throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
    }
    int at = rowFrom[rows];
    if (at == ids.length) {
      ids = Arrays.copyOf(ids, 2 * ids.length);
    }
    ids[at] = id;
    rowFrom[rows] = at + 1;
  }

  /** Row r's targets: id(i) for i in [from(r), to(r)). */
  public int from(int row) {
    return rowFrom[row];
  }

  public int to(int row) {
    return rowFrom[row + 1];
  }

  public int id(int i) {
    return ids[i];
  }
}
