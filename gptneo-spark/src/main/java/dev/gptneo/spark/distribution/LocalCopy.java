package dev.gptneo.spark.distribution;

import dev.gptneo.spark.GptNeoConf.Distribution;
import dev.gptneo.spark.distribution.ModelFolder.ModelFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.apache.spark.broadcast.Broadcast;

/**
 * The model folder on this machine's disk, where {@code Engine.open} can map it: the folder itself
 * for a local path, else a copy (from the broadcast chunks, or from a remote file system) under the
 * executor's work folder, checked against the driver's content hash.
 */
final class LocalCopy {
  private final Path dir;
  private final String source;
  private final boolean owned; // a copy we made, deleted on unload

  private LocalCopy(Path dir, String source, boolean owned) {
    this.dir = dir;
    this.source = source;
    this.owned = owned;
  }

  Path dir() {
    return dir;
  }

  String source() {
    return source;
  }

  static LocalCopy obtain(ModelHandle handle, String localDir, boolean verifyPath) {
    try {
      if (handle.distribution == Distribution.BROADCAST) {
        Path target = newCopyDir(handle, localDir);
        ModelChunks.materialize(handle.chunks, handle.folder.files, target, handle.hash());
        dropLocalBlocks(handle);
        return new LocalCopy(target, "broadcast", true);
      }
      if (handle.folder.uri.startsWith("file:")) {
        Path dir = Paths.get(URI.create(handle.folder.uri));
        checkSameFiles(handle, dir, verifyPath);
        return new LocalCopy(dir, "path", false);
      }
      Path target = newCopyDir(handle, localDir);
      copyFromFileSystem(handle, target);
      return new LocalCopy(target, "path (copied from " + handle.folder.uri + ")", true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot get model " + handle + " on this executor: " + e.getMessage(), e);
    }
  }

  void delete() {
    if (!owned) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // best effort: the executor's work folder is removed with the executor anyway
    }
  }

  private static Path newCopyDir(ModelHandle handle, String localDir) throws IOException {
    Path base;
    if (localDir != null) {
      base = Paths.get(localDir);
    } else if (SparkEnv.get() != null) {
      base = Paths.get(SparkFiles.getRootDirectory());
    } else {
      base = Paths.get(System.getProperty("java.io.tmpdir"));
    }
    // unique per load: an engine being unloaded may still map an older copy
    Path dir = base.resolve("gptneo-models").resolve(handle.hash().substring(0, 16) + "-" + System.nanoTime());
    return Files.createDirectories(dir);
  }

  /** Path mode reads the folder the driver hashed; make sure this executor sees the same files. */
  private static void checkSameFiles(ModelHandle handle, Path dir, boolean verifyHash) throws IOException {
    for (ModelFile f : handle.folder.files) {
      Path p = dir.resolve(f.name);
      if (!Files.isRegularFile(p) || Files.size(p) != f.size) {
        throw new IllegalStateException("path distribution needs the same model folder on every executor, but "
            + p + " is " + (Files.exists(p) ? Files.size(p) + " bytes, not " + f.size : "missing") + " here. "
            + "Use a shared file system, or set spark.gptneo.distribution=broadcast");
      }
    }
    if (verifyHash) {
      MessageDigest digest = ModelFolder.ContentHash.newDigest();
      for (ModelFile f : handle.folder.files) {
        ModelFolder.ContentHash.updateHeader(digest, f.name, f.size);
        try (InputStream in = new DigestInputStream(Files.newInputStream(dir.resolve(f.name)), digest)) {
          in.transferTo(OutputStream.nullOutputStream());
        }
      }
      checkHash(handle, HexFormat.of().formatHex(digest.digest()), dir.toString());
    }
  }

  private static void copyFromFileSystem(ModelHandle handle, Path target) throws IOException {
    org.apache.hadoop.fs.Path remote = new org.apache.hadoop.fs.Path(handle.folder.uri);
    Configuration conf = handle.hadoopConf != null ? handle.hadoopConf.value().value() : new Configuration();
    FileSystem fs = remote.getFileSystem(conf);
    MessageDigest digest = ModelFolder.ContentHash.newDigest();
    for (ModelFile f : handle.folder.files) {
      ModelFolder.ContentHash.updateHeader(digest, f.name, f.size);
      try (InputStream in = new DigestInputStream(fs.open(new org.apache.hadoop.fs.Path(remote, f.name)), digest)) {
        Files.copy(in, target.resolve(f.name));
      }
    }
    checkHash(handle, HexFormat.of().formatHex(digest.digest()), handle.folder.uri);
  }

  private static void checkHash(ModelHandle handle, String actual, String where) {
    if (!actual.equals(handle.hash())) {
      throw new IllegalStateException("the model at " + where + " has content hash " + actual + " on this executor, "
          + "but " + handle.hash() + " on the driver: the files differ or changed during the query");
    }
  }

  /**
   * Once written to disk, the chunks need not stay in this executor's block manager (they would
   * hold the whole model in storage memory). The driver keeps its copy for executors that come later.
   */
  private static void dropLocalBlocks(ModelHandle handle) {
    SparkEnv env = SparkEnv.get();
    if (env == null || "driver".equals(env.executorId())) {
      return;
    }
    for (Broadcast<ModelChunks.Chunk> b : handle.chunks) {
      try {
        env.blockManager().removeBroadcast(b.id(), false);
      } catch (RuntimeException e) {
        return; // best effort
      }
    }
  }
}
