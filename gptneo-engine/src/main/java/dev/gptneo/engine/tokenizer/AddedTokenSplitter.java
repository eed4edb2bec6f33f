package dev.gptneo.engine.tokenizer;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts added tokens out of text the way HF's AddedVocabulary does: two passes, first the tokens
 * with normalized=false over the whole text, then the normalized=true ones over each remaining
 * piece (there is no normalizer, so both see the same chars). Within a pass matches are
 * leftmost-longest and do not overlap; a single_word match next to a word char is dropped and
 * the search goes on after it.
 *
 * <p>Immutable and thread-safe.
 */
final class AddedTokenSplitter {
  /** Receives the runs of ordinary text and the added-token ids, in order. */
  interface Sink {
    void text(int from, int to);

    void token(int id);
  }

  private final Pass rawPass;
  private final Pass normalizedPass;

  AddedTokenSplitter(List<AddedToken> tokens) {
    List<AddedToken> raw = new ArrayList<>();
    List<AddedToken> normalized = new ArrayList<>();
    for (AddedToken t : tokens) {
      (t.normalized() ? normalized : raw).add(t);
    }
    rawPass = new Pass(raw);
    normalizedPass = new Pass(normalized);
  }

  void split(String text, Sink sink) {
    if (normalizedPass.isEmpty()) {
      rawPass.split(text, 0, text.length(), sink);
      return;
    }
    Sink secondPass = new Sink() {
      @Override
      public void text(int from, int to) {
        normalizedPass.split(text, from, to, sink);
      }

      @Override
      public void token(int id) {
        sink.token(id);
      }
    };
    rawPass.split(text, 0, text.length(), secondPass);
  }

  /** One set of tokens searched together. */
  private static final class Pass {
    private final AddedToken[] longestFirst;
    private final BitSet firstChars = new BitSet();

    Pass(List<AddedToken> tokens) {
      longestFirst = tokens.stream()
          .sorted(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed())
          .toArray(AddedToken[]::new);
      for (AddedToken t : longestFirst) {
        firstChars.set(t.content().charAt(0));
      }
    }

    boolean isEmpty() {
      return longestFirst.length == 0;
    }

    /** Splits text[from, to), which this pass treats as the whole sentence. */
    void split(String text, int from, int to, Sink sink) {
      int emitted = from; // text before this is already passed on
      int search = from;
      while (search < to) {
        int start = -1;
        AddedToken token = null;
        if (longestFirst.length == 1 && to == text.length()) {
          // The usual case (<|endoftext|> alone, whole text): String.indexOf is vectorized.
          token = longestFirst[0];
          start = text.indexOf(token.content(), search);
          if (start < 0 || start + token.content().length() > to) {
            break;
          }
        } else {
          for (int i = search; i < to && token == null; i++) {
            if (firstChars.get(text.charAt(i))) {
              token = longestAt(text, i, to);
              start = i;
            }
          }
          if (token == null) {
            break;
          }
        }
        int stop = start + token.content().length();
        search = stop;
        if (token.singleWord() && ((start > from && isWordChar(text.codePointBefore(start)))
            || (stop < to && isWordChar(text.codePointAt(stop))))) {
          continue; // HF's single_word: no word char right before or right after the match
        }
        int tokenStart = start;
        if (token.lstrip()) {
          while (tokenStart > emitted && CharClass.isWhiteSpace(text.charAt(tokenStart - 1))) {
            tokenStart--; // never back into what an earlier match (or its rstrip) took
          }
        }
        int tokenEnd = stop;
        if (token.rstrip()) {
          while (tokenEnd < to && CharClass.isWhiteSpace(text.charAt(tokenEnd))) {
            tokenEnd++;
          }
          search = tokenEnd;
        }
        if (emitted < tokenStart) {
          sink.text(emitted, tokenStart);
        }
        sink.token(token.id());
        emitted = tokenEnd;
      }
      if (emitted < to) {
        sink.text(emitted, to);
      }
    }

    private AddedToken longestAt(String text, int i, int to) {
      for (AddedToken t : longestFirst) {
        String c = t.content();
        if (i + c.length() <= to && text.startsWith(c, i)) {
          return t;
        }
      }
      return null;
    }

    /** Rust's char::is_alphanumeric (Alphabetic or Numeric) or '_'. */
    private static boolean isWordChar(int cp) {
      if (cp == '_' || Character.isAlphabetic(cp)) {
        return true;
      }
      int type = Character.getType(cp);
      return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
          || type == Character.OTHER_NUMBER;
    }
  }
}
