package dev.gptneo.spark.distribution;

import dev.gptneo.spark.GptNeoConf.Distribution;
import java.io.Serializable;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;

/**
 * What an executor needs to get one model: its folder (URI, files, content hash) and how to
 * fetch it. Serializable; made by {@link ModelShipper} on the driver, once per query and model.
 */
public final class ModelHandle implements Serializable {
  private static final long serialVersionUID = 1L;

  public final String name;                          // as the query named it, for messages
  public final ModelFolder folder;
  public final Distribution distribution;            // BROADCAST or PATH
  public final List<Broadcast<ModelChunks.Chunk>> chunks; // empty unless BROADCAST
  /** The session's Hadoop settings (credentials...), for PATH on a non-local file system; else null. */
  final Broadcast<SerializableConfiguration> hadoopConf;

  ModelHandle(String name, ModelFolder folder, Distribution distribution, List<Broadcast<ModelChunks.Chunk>> chunks,
      Broadcast<SerializableConfiguration> hadoopConf) {
    this.name = name;
    this.folder = folder;
    this.distribution = distribution;
    this.chunks = List.copyOf(chunks);
    this.hadoopConf = hadoopConf;
  }

  public String hash() {
    return folder.contentHash;
  }

  @Override
  public String toString() {
    return name + " (" + folder.uri + ", sha256 " + hash().substring(0, 12) + ", " + distribution.name()
        .toLowerCase(java.util.Locale.ROOT) + ")";
  }
}
