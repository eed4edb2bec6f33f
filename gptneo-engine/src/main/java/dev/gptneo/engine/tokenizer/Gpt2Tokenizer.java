package dev.gptneo.engine.tokenizer;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * GPT-2 / GPT-Neo byte-level BPE tokenizer giving the ids and text Hugging Face gives (the
 * tokenizers library with the model's tokenizer.json, or vocab.json + merges.txt).
 *
 * <p>Encoding: added tokens such as {@code <|endoftext|>} are cut out of the text first; the rest
 * is split by GPT-2's pre-tokenizer regex, each piece is turned into UTF-8 bytes and merged by
 * BPE rank. No special tokens are added around the text (GPT-2 adds none).
 *
 * <p>Decoding: the bytes of all tokens are joined, then read as UTF-8, one U+FFFD per ill-formed
 * part (HF's lossy decode). Special tokens decode to their text; {@code clean_up_tokenization_spaces}
 * is not applied (HF does not for GPT-2 with transformers 5).
 *
 * <p>Thread-safe: one instance can serve any number of threads. Its only mutable state is a
 * bounded cache of word -> ids shared by all of them.
 */
public final class Gpt2Tokenizer {
  /** Pre-tokens longer than this are not cached: rare, and they would crowd out real words. */
  private static final int MAX_CACHED_CHARS = 64;
  private static final int CACHE_CAPACITY = 1 << 16;
  private static final byte[] EMPTY = new byte[0];

  private final String[] tokenById;
  private final byte[][] bytesById;
  private final boolean[] specialById; // (vocab) added tokens marked special: decode may skip them
  private final Map<String, Integer> idByToken;
  private final BpeModel bpe;
  private final AddedTokenSplitter addedTokens;
  private final boolean addPrefixSpace;
  private final boolean useRegex;
  private final int endOfTextId;
  /** BPE ids of each one-char ASCII pre-token ("\n", ".", " "...), skipping the cache lookup. */
  private final int[][] asciiCharIds = new int[128][];
  private final WordCache cache = new WordCache(CACHE_CAPACITY);

  Gpt2Tokenizer(Map<String, Integer> modelVocab, MergeTable merges, List<AddedToken> added,
      boolean addPrefixSpace, boolean useRegex, boolean ignoreMerges) {
    Map<String, Integer> ids = new HashMap<>(modelVocab);
    int size = 0;
    for (int id : modelVocab.values()) {
      size = Math.max(size, id + 1);
    }
    for (AddedToken t : added) {
      ids.put(t.content(), t.id());
      size = Math.max(size, t.id() + 1);
    }
    tokenById = new String[size];
    specialById = new boolean[size];
    modelVocab.forEach((token, id) -> tokenById[id] = token);
    for (AddedToken t : added) {
      tokenById[t.id()] = t.content(); // HF looks ids up in the added tokens first
      specialById[t.id()] = t.special();
    }
    bytesById = new byte[size][];
    for (int id = 0; id < size; id++) {
      bytesById[id] = tokenById[id] == null ? EMPTY : ByteLevelAlphabet.decode(tokenById[id]);
    }
    idByToken = ids;
    bpe = new BpeModel(modelVocab, merges, ignoreMerges ? modelVocab : null);
    addedTokens = new AddedTokenSplitter(added);
    this.addPrefixSpace = addPrefixSpace;
    this.useRegex = useRegex;
    Integer eot = ids.get("<|endoftext|>");
    endOfTextId = eot == null ? -1 : eot;
    BpeModel.Scratch scratch = new BpeModel.Scratch();
    for (int c = 0; c < 128; c++) {
      scratch.bytes[0] = (byte) c;
      asciiCharIds[c] = bpe.encodeWord(scratch, 1);
    }
  }

  /**
   * Loads the tokenizer of a Hugging Face model folder: tokenizer.json when present (as HF's
   * AutoTokenizer prefers it), else vocab.json + merges.txt.
   *
   * @return empty when the folder (or the folder itself) has none of those files
   * @throws TokenizerException when a file is unreadable, corrupt, incomplete (vocab.json without
   *     merges.txt) or describes a tokenizer other than byte-level BPE; the message names the file
   */
  public static Optional<Gpt2Tokenizer> load(Path modelDir) {
    return TokenizerFiles.load(modelDir);
  }

  /** Loads a tokenizers-library tokenizer.json (model.vocab, model.merges, added_tokens). */
  public static Gpt2Tokenizer fromTokenizerJson(Path tokenizerJson) {
    return TokenizerFiles.fromTokenizerJson(tokenizerJson);
  }

  /** Loads GPT-2's original files; {@code <|endoftext|>}, when in the vocab, is a special token. */
  public static Gpt2Tokenizer fromVocabAndMerges(Path vocabJson, Path mergesTxt) {
    return TokenizerFiles.fromVocabAndMerges(vocabJson, mergesTxt);
  }

  /**
   * Token ids for text, as HF's {@code tokenizer.encode(text)} gives them for GPT-2. Added tokens
   * ({@code <|endoftext|>} and any other in tokenizer.json's added_tokens, special or not, as HF
   * does) written in the text become their id. An unpaired surrogate, which HF cannot be given,
   * is encoded as U+FFFD.
   */
  public int[] encode(String text) {
    Objects.requireNonNull(text, "text");
    Encoding encoding = new Encoding(text);
    if (!text.isEmpty()) {
      addedTokens.split(text, encoding);
    }
    return encoding.ids();
  }

  /** The text of ids (see {@link #decode(int[], int, int)}). */
  public String decode(int[] ids) {
    return decode(ids, 0, ids.length);
  }

  /**
   * The text of ids[from, to): the tokens' bytes joined, then decoded as UTF-8 where each
   * ill-formed part (such as half of an emoji) becomes one U+FFFD, as HF's decode does. Ids with
   * no token are skipped, as HF skips them.
   */
  public String decode(int[] ids, int from, int to) {
    return decode(ids, from, to, false);
  }

  /**
   * As {@link #decode(int[], int, int)}; with {@code skipSpecialTokens}, special tokens (such as
   * {@code <|endoftext|>}) are left out, as HF's {@code decode(ids, skip_special_tokens=True)}.
   */
  public String decode(int[] ids, int from, int to, boolean skipSpecialTokens) {
    Objects.checkFromToIndex(from, to, ids.length);
    int length = 0;
    for (int i = from; i < to; i++) {
      length += bytesOf(ids[i], skipSpecialTokens).length;
    }
    byte[] joined = new byte[length];
    int at = 0;
    for (int i = from; i < to; i++) {
      byte[] b = bytesOf(ids[i], skipSpecialTokens);
      System.arraycopy(b, 0, joined, at, b.length);
      at += b.length;
    }
    return Utf8.decode(joined, 0, length);
  }

  /** A decoder that turns ids into text one at a time, for streaming generation. */
  public StreamDecoder streamDecoder() {
    return new StreamDecoder(this);
  }

  /** The raw bytes of one token (a copy); empty for an id with no token. */
  public byte[] tokenBytes(int id) {
    return bytesOf(id).clone();
  }

  private byte[] bytesOf(int id, boolean skipSpecial) {
    return skipSpecial && isSpecial(id) ? EMPTY : bytesOf(id);
  }

  /** Whether id is an added token marked special (GPT-2: {@code <|endoftext|>}). */
  public boolean isSpecial(int id) {
    return id >= 0 && id < specialById.length && specialById[id];
  }

  /** Shared, never-written bytes of a token, for this package's hot paths. */
  byte[] bytesOf(int id) {
    return id >= 0 && id < bytesById.length ? bytesById[id] : EMPTY;
  }

  /** The vocab string of a token, in GPT-2's byte-to-unicode spelling (e.g. "Ġthe"), or null. */
  public String tokenString(int id) {
    return id >= 0 && id < tokenById.length ? tokenById[id] : null;
  }

  /** The id of a vocab string (byte-to-unicode spelling, or an added token's text). */
  public OptionalInt tokenId(String vocabString) {
    Integer id = idByToken.get(vocabString);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** Largest id + 1 (50257 for GPT-2). */
  public int vocabSize() {
    return tokenById.length;
  }

  /** The id of {@code <|endoftext|>}, or -1 when the vocab has none. */
  public int endOfTextId() {
    return endOfTextId;
  }

  /** Number of words in the shared BPE cache (for tests and diagnostics). */
  int cachedWords() {
    return cache.size();
  }

  /** One encode call: collects ids for the text runs and added tokens the splitter hands over. */
  private final class Encoding implements AddedTokenSplitter.Sink {
    private final String text;
    private final BpeModel.Scratch scratch = new BpeModel.Scratch();
    private int[] ids;
    private int count;

    Encoding(String text) {
      this.text = text;
      this.ids = new int[Math.max(16, text.length() / 3)]; // emails average ~4 chars a token
    }

    int[] ids() {
      return Arrays.copyOf(ids, count);
    }

    @Override
    public void token(int id) {
      add(id);
    }

    @Override
    public void text(int from, int to) {
      if (addPrefixSpace && text.charAt(from) != ' ') {
        String prefixed = " " + text.substring(from, to); // HF's ByteLevel add_prefix_space, per run
        encodeRun(prefixed, 0, prefixed.length());
      } else {
        encodeRun(text, from, to);
      }
    }

    private void encodeRun(String s, int from, int to) {
      if (!useRegex) {
        encodePiece(s, from, to);
        return;
      }
      for (int start = from; start < to; ) {
        int end = Gpt2PreTokenizer.pieceEnd(s, start, to);
        encodePiece(s, start, end);
        start = end;
      }
    }

    private void encodePiece(String s, int from, int to) {
      if (to - from == 1 && s.charAt(from) < 128) {
        addAll(asciiCharIds[s.charAt(from)]);
        return;
      }
      if (to - from > MAX_CACHED_CHARS) {
        addAll(bpe(s, from, to));
        return;
      }
      String word = s.substring(from, to);
      int[] wordIds = cache.get(word);
      if (wordIds == null) {
        wordIds = bpe(s, from, to);
        cache.put(word, wordIds);
      }
      addAll(wordIds);
    }

    private int[] bpe(String s, int from, int to) {
      scratch.ensureBytes(3 * (to - from));
      int length = Utf8.encode(s, from, to, scratch.bytes);
      return bpe.encodeWord(scratch, length);
    }

    private void add(int id) {
      if (count == ids.length) {
        ids = Arrays.copyOf(ids, ids.length * 2);
      }
      ids[count++] = id;
    }

    private void addAll(int[] more) {
      if (count + more.length > ids.length) {
        ids = Arrays.copyOf(ids, Math.max(ids.length * 2, count + more.length));
      }
      System.arraycopy(more, 0, ids, count, more.length);
      count += more.length;
    }
  }
}
