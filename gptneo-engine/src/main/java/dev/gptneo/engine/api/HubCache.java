package dev.gptneo.engine.api;

import dev.gptneo.engine.ModelException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hugging Face Hub ids ({@code EleutherAI/gpt-neo-125M}, {@code org/name@revision}) to the snapshot
 * folder that HF's own tools already downloaded into the local Hub cache, as {@code from_pretrained}
 * finds it offline. Nothing is ever downloaded.
 *
 * <p>Cache layout (huggingface_hub): {@code CACHE/models--ORG--NAME/refs/REVISION} holds a commit
 * hash, and {@code CACHE/models--ORG--NAME/snapshots/HASH/} holds the files (links into blobs/).
 */
public final class HubCache {
  private static final Logger LOG = LoggerFactory.getLogger(HubCache.class);
  private static final Pattern ID = Pattern.compile(
      "([A-Za-z0-9][A-Za-z0-9._-]*)/([A-Za-z0-9][A-Za-z0-9._-]*)(?:@([A-Za-z0-9._/-]+))?");
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

  private HubCache() {}

  /** Whether {@code model} has the form of a Hub id: ORG/NAME, optionally @REVISION. */
  public static boolean looksLikeId(String model) {
    return ID.matcher(model).matches();
  }

  /**
   * The cache folder as huggingface_hub chooses it: {@code HF_HUB_CACHE}, else {@code HF_HOME/hub},
   * else {@code XDG_CACHE_HOME/huggingface/hub}, else {@code ~/.cache/huggingface/hub}.
   */
  public static Path cacheDir(Map<String, String> env, String userHome) {
    if (!blank(env.get("HF_HUB_CACHE"))) {
      return Paths.get(env.get("HF_HUB_CACHE"));
    }
    if (!blank(env.get("HF_HOME"))) {
      return Paths.get(env.get("HF_HOME"), "hub");
    }
    if (!blank(env.get("XDG_CACHE_HOME"))) {
      return Paths.get(env.get("XDG_CACHE_HOME"), "huggingface", "hub");
    }
    return Paths.get(userHome, ".cache", "huggingface", "hub");
  }

  /** This process's cache folder (its environment and user.home). */
  public static Path cacheDir() {
    return cacheDir(System.getenv(), System.getProperty("user.home"));
  }

  /** The cached snapshot of a Hub id (default revision: main); empty when the cache has none. */
  public static Optional<Path> snapshot(Path cache, String id) {
    Matcher m = ID.matcher(id);
    if (!m.matches()) {
      return Optional.empty();
    }
    Path repo = cache.resolve("models--" + m.group(1) + "--" + m.group(2));
    String revision = m.group(3) == null ? "main" : m.group(3);
    String commit = revision;
    if (!COMMIT.matcher(revision).matches()) {
      Path ref = repo.resolve("refs").resolve(revision);
      if (!ref.normalize().startsWith(repo.resolve("refs")) || !Files.isRegularFile(ref)) {
        return Optional.empty();
      }
      try {
        commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        return Optional.empty();
      }
    }
    Path snapshot = repo.resolve("snapshots").resolve(commit);
    return COMMIT.matcher(commit).matches() && Files.isDirectory(snapshot) ? Optional.of(snapshot) : Optional.empty();
  }

  /**
   * A model argument as a folder: an existing path as it is; else a Hub id's cached snapshot in
   * {@code cache}; else a {@link ModelException} that says what was looked for and how to fix it.
   */
  public static Path resolve(String model, Path cache) {
    Path path = Paths.get(model);
    if (Files.exists(path) || !looksLikeId(model)) {
      return path; // loading reports a missing or wrong folder
    }
    Optional<Path> snapshot = snapshot(cache, model);
    if (snapshot.isEmpty()) {
      throw new ModelException(notFound(model, cache.toString()));
    }
    LOG.info("{}: the Hugging Face cache's snapshot {}", model, snapshot.get());
    return snapshot.get();
  }

  /** {@link #resolve(String, Path)} with this process's cache folder. */
  public static Path resolve(String model) {
    return resolve(model, cacheDir());
  }

  /** The message for a model that is neither a folder nor a cached Hub id. */
  public static String notFound(String model, String cache) {
    int at = model.indexOf('@');
    String download = at < 0 ? model : model.substring(0, at) + " --revision " + model.substring(at + 1);
    return "model " + model + " is not a folder, and the Hugging Face cache (" + cache + ") has no snapshot "
        + "of it; nothing is downloaded at run time: fetch it first (huggingface-cli download " + download
        + ", or from_pretrained once in Python; HF_HUB_CACHE or HF_HOME say where the cache is), or pass the "
        + "model's folder";
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
