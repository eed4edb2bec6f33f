package dev.gptneo.spark.distribution;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A model folder as the driver sees it: the files the engine reads and the content hash that
 * identifies the model. The hash is SHA-256 over each file (sorted by name) as name, NUL, 8-byte
 * size, bytes; it is computed once per driver and folder, and again only when a file's size or
 * modification time changes.
 */
public final class ModelFolder implements Serializable {
  private static final long serialVersionUID = 1L;

  /** One file of the folder. */
  public static final class ModelFile implements Serializable {
    private static final long serialVersionUID = 1L;
    public final String name;
    public final long size;
    final long modified;

    ModelFile(String name, long size, long modified) {
      this.name = name;
      this.size = size;
      this.modified = modified;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ModelFile && ((ModelFile) o).name.equals(name) && ((ModelFile) o).size == size
          && ((ModelFile) o).modified == modified;
    }

    @Override
    public int hashCode() {
      return name.hashCode() * 31 + Long.hashCode(size);
    }
  }

  private static final Map<String, ModelFolder> HASHED = new ConcurrentHashMap<>();

  public final String uri;            // fully qualified, e.g. file:/models/neo or hdfs://nn/models/neo
  public final List<ModelFile> files; // sorted by name
  public final String contentHash;    // hex SHA-256

  private ModelFolder(String uri, List<ModelFile> files, String contentHash) {
    this.uri = uri;
    this.files = List.copyOf(files);
    this.contentHash = contentHash;
  }

  /** The files a GPT-Neo folder needs; others (README, pytorch_model.bin, .git) are ignored. */
  public static boolean isModelFile(String name) {
    return name.equals("config.json") || name.equals("generation_config.json") || name.endsWith(".safetensors")
        || name.endsWith(".safetensors.index.json") || name.equals("vocab.json") || name.equals("merges.txt")
        || name.equals("tokenizer.json") || name.equals("tokenizer_config.json")
        || name.equals("special_tokens_map.json") || name.equals("added_tokens.json");
  }

  public long totalBytes() {
    return files.stream().mapToLong(f -> f.size).sum();
  }

  /** Lists the folder and returns it with its content hash (cached while the files are unchanged). */
  public static ModelFolder inspect(String uri, Configuration hadoopConf) {
    try {
      Path path = new Path(uri);
      FileSystem fs = path.getFileSystem(hadoopConf);
      Path qualified = fs.makeQualified(path);
      List<ModelFile> files = list(fs, qualified);
      String key = qualified.toString();
      ModelFolder cached = HASHED.get(key);
      if (cached != null && cached.files.equals(files)) {
        return cached;
      }
      ModelFolder folder = new ModelFolder(key, files, hash(fs, qualified, files));
      HASHED.put(key, folder);
      return folder;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the model folder " + uri + ": " + e.getMessage(), e);
    }
  }

  private static List<ModelFile> list(FileSystem fs, Path dir) throws IOException {
    FileStatus[] statuses;
    try {
      if (!fs.getFileStatus(dir).isDirectory()) {
        throw new IllegalArgumentException("the model path " + dir + " is a file; give the folder that holds "
            + "config.json and the *.safetensors files");
      }
      statuses = fs.listStatus(dir);
    } catch (FileNotFoundException e) {
      throw new IllegalArgumentException("the model folder " + dir + " does not exist; check spark.gptneo.model "
          + "or spark.gptneo.models.<name>", e);
    }
    List<ModelFile> files = new ArrayList<>();
    boolean pytorchOnly = false;
    for (FileStatus s : statuses) {
      String name = s.getPath().getName();
      if (s.isFile() && isModelFile(name)) {
        files.add(new ModelFile(name, s.getLen(), s.getModificationTime()));
      }
      pytorchOnly |= name.equals("pytorch_model.bin");
    }
    files.sort(Comparator.comparing(f -> f.name));
    if (files.stream().noneMatch(f -> f.name.equals("config.json"))) {
      throw new IllegalArgumentException("the model folder " + dir + " has no config.json; is it a Hugging Face "
          + "GPT-Neo folder?");
    }
    if (files.stream().noneMatch(f -> f.name.endsWith(".safetensors"))) {
      throw new IllegalArgumentException("the model folder " + dir + " has no *.safetensors weights"
          + (pytorchOnly ? " (only pytorch_model.bin, which is never unpickled: convert it to safetensors, e.g. "
          + "with transformers' save_pretrained(..., safe_serialization=True))" : ""));
    }
    return files;
  }

  private static String hash(FileSystem fs, Path dir, List<ModelFile> files) throws IOException {
    MessageDigest digest = ContentHash.newDigest();
    byte[] buffer = new byte[1 << 20];
    for (ModelFile f : files) {
      ContentHash.updateHeader(digest, f.name, f.size);
      try (InputStream in = fs.open(new Path(dir, f.name))) {
        for (int n; (n = in.read(buffer)) > 0; ) {
          digest.update(buffer, 0, n);
        }
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /** The hash format, shared by the driver and by executors that verify what they received. */
  public static final class ContentHash {
    private ContentHash() {}

    public static MessageDigest newDigest() {
      try {
        return MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    public static void updateHeader(MessageDigest digest, String name, long size) {
      digest.update(name.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
      digest.update(ByteBuffer.allocate(8).putLong(size).array());
    }
  }
}
