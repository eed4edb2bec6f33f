package dev.gptneo.spark.distribution;

import dev.gptneo.spark.GptNeoConf;
import dev.gptneo.spark.GptNeoConf.Distribution;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver side of distribution: resolves a model reference to its folder and content hash, picks
 * broadcast or path, and broadcasts a model at most once per SparkContext and hash (later queries
 * reuse the broadcasts until {@link #forgetAll} is called).
 */
public final class ModelShipper {
  private static final Logger LOG = LoggerFactory.getLogger(ModelShipper.class);

  private static final class Shipped {
    final SparkContext sc;
    final long chunkBytes;
    final List<Broadcast<ModelChunks.Chunk>> chunks;

    Shipped(SparkContext sc, long chunkBytes, List<Broadcast<ModelChunks.Chunk>> chunks) {
      this.sc = sc;
      this.chunkBytes = chunkBytes;
      this.chunks = chunks;
    }
  }

  private static final Map<String, Shipped> BROADCASTS = new ConcurrentHashMap<>();

  private ModelShipper() {}

  /**
   * The handle executors use to get the model a call names (null: the default model).
   * {@code hadoopConf} is the session's (SparkSession.sessionState().newHadoopConf()), so settings
   * such as fs.s3a.* made with SET apply on the driver and the executors alike.
   */
  public static synchronized ModelHandle prepare(SparkContext sc, Configuration hadoopConf, GptNeoConf conf,
      String modelRef) {
    String uri = ModelRegistry.of(conf).resolve(modelRef);
    ModelFolder folder = ModelFolder.inspect(HubSnapshots.orCached(uri, hadoopConf, conf), hadoopConf);
    Distribution mode = choose(conf, folder.uri);
    String name = modelRef == null ? "default model" : modelRef;
    if (mode == Distribution.BROADCAST) {
      return new ModelHandle(name, folder, mode, broadcast(sc, hadoopConf, conf, folder), null);
    }
    boolean remote = !folder.uri.startsWith("file:");
    return new ModelHandle(name, folder, mode, List.of(),
        remote ? SerializableConfiguration.broadcast(sc, hadoopConf) : null);
  }

  private static Distribution choose(GptNeoConf conf, String qualifiedUri) {
    if (conf.distribution != Distribution.AUTO) {
      return conf.distribution;
    }
    boolean localFile = qualifiedUri.startsWith("file:");
    return !localFile || conf.localMaster ? Distribution.PATH : Distribution.BROADCAST;
  }

  private static List<Broadcast<ModelChunks.Chunk>> broadcast(SparkContext sc, Configuration hadoopConf,
      GptNeoConf conf, ModelFolder folder) {
    Shipped shipped = BROADCASTS.get(folder.contentHash);
    if (shipped != null && shipped.sc == sc && !sc.isStopped() && shipped.chunkBytes == conf.broadcastChunkBytes) {
      return shipped.chunks;
    }
    long t0 = System.nanoTime();
    List<ModelChunks.Slice> slices = ModelChunks.plan(folder.files, conf.broadcastChunkBytes);
    try {
      Path dir = new Path(folder.uri);
      FileSystem fs = dir.getFileSystem(hadoopConf);
      List<Broadcast<ModelChunks.Chunk>> chunks = ModelChunks.broadcast(JavaSparkContext.fromSparkContext(sc), fs,
          dir, slices);
      BROADCASTS.put(folder.contentHash, new Shipped(sc, conf.broadcastChunkBytes, chunks));
      LOG.info("broadcast model {} ({} bytes in {} chunks) in {} ms", folder.uri, folder.totalBytes(), chunks.size(),
          (System.nanoTime() - t0) / 1_000_000);
      return chunks;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read model " + folder.uri + " to broadcast it: " + e.getMessage(), e);
    }
  }

  /** Destroys the broadcasts made so far (executors that already loaded the model keep it). */
  public static synchronized int forgetAll() {
    int n = 0;
    for (Shipped s : BROADCASTS.values()) {
      for (Broadcast<ModelChunks.Chunk> b : s.chunks) {
        if (!s.sc.isStopped()) {
          b.destroy();
        }
      }
      n++;
    }
    BROADCASTS.clear();
    return n;
  }
}
