package dev.gptneo.spark.distribution;

import dev.gptneo.engine.api.HubCache;
import dev.gptneo.spark.GptNeoConf;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Paths;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * A model setting that names a Hugging Face Hub id ({@code EleutherAI/gpt-neo-125M}) rather than a
 * folder: the snapshot in the driver's Hugging Face cache, shipped to the executors like any local
 * folder. Nothing is downloaded; a folder of that name (on the default FileSystem) wins.
 */
final class HubSnapshots {
  private HubSnapshots() {}

  static String orCached(String uri, Configuration hadoopConf, GptNeoConf conf) {
    if (uri.contains(":") || !HubCache.looksLikeId(uri)) {
      return uri;
    }
    try {
      Path path = new Path(uri);
      if (path.getFileSystem(hadoopConf).exists(path)) {
        return uri;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the model folder " + uri + ": " + e.getMessage(), e);
    }
    java.nio.file.Path cache = conf.hubCache != null ? Paths.get(conf.hubCache) : HubCache.cacheDir();
    Optional<java.nio.file.Path> snapshot = HubCache.snapshot(cache, uri);
    if (snapshot.isEmpty()) {
      throw new IllegalArgumentException(HubCache.notFound(uri, cache.toString()) + " (on the driver: "
          + GptNeoConf.HUB_CACHE + " sets the cache folder)");
    }
    return snapshot.get().toAbsolutePath().toUri().toString();
  }
}
