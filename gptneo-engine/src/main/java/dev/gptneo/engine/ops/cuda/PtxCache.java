package dev.gptneo.engine.ops.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NVRTC's output kept on disk, keyed by a hash of everything that went into the compile, so a new
 * JVM loads the kernels in milliseconds instead of compiling for seconds. Folder:
 * {@code -Dgptneo.cuda.ptxCache=DIR} (default ~/.cache/gptneo/ptx; "none" turns it off). Any
 * trouble with the folder only costs the compile.
 */
final class PtxCache {
  private static final Logger LOG = LoggerFactory.getLogger(PtxCache.class);

  private PtxCache() {}

  static String get(String arch, String file, String source, Map<String, String> headers, Supplier<String> compile) {
    Path dir = folder();
    if (dir == null) {
      return compile.get();
    }
    Path cached = dir.resolve(file + "-" + arch + "-" + hash(arch, file, source, headers) + ".ptx");
    try {
      if (Files.isRegularFile(cached)) {
        return Files.readString(cached);
      }
    } catch (IOException e) {
      LOG.debug("PTX cache unreadable: {}", e.toString());
    }
    String ptx = compile.get();
    try {
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, file, ".tmp");
      Files.writeString(tmp, ptx);
      Files.move(tmp, cached, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      LOG.debug("PTX cache not written: {}", e.toString());
    }
    return ptx;
  }

  private static Path folder() {
    String prop = System.getProperty("gptneo.cuda.ptxCache");
    if ("none".equals(prop)) {
      return null;
    }
    return prop != null ? Paths.get(prop) : Paths.get(System.getProperty("user.home"), ".cache", "gptneo", "ptx");
  }

  static String hash(String arch, String file, String source, Map<String, String> headers) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (String part : new String[] {arch, file, source}) {
        d.update(part.getBytes(StandardCharsets.UTF_8));
        d.update((byte) 0);
      }
      for (Map.Entry<String, String> h : new TreeMap<>(headers).entrySet()) {
        d.update(h.getKey().getBytes(StandardCharsets.UTF_8));
        d.update((byte) 0);
        d.update(h.getValue().getBytes(StandardCharsets.UTF_8));
        d.update((byte) 0);
      }
      StringBuilder hex = new StringBuilder();
      for (byte b : d.digest()) {
        hex.append(String.format("%02x", b));
      }
      return hex.substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
