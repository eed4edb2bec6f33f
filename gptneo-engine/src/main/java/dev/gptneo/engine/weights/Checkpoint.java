package dev.gptneo.engine.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gptneo.engine.ModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * All tensors of a model folder, from {@code model.safetensors} or a sharded checkpoint
 * ({@code model.safetensors.index.json}). Never reads {@code pytorch_model.bin}: unpickling runs code.
 */
public final class Checkpoint {
  private final Map<String, TensorView> tensors;
  private final long totalBytes;

  private Checkpoint(Map<String, TensorView> tensors) {
    this.tensors = Collections.unmodifiableMap(tensors);
    long n = 0;
    for (TensorView t : tensors.values()) {
      n += t.numel() * t.dtype.bytes;
    }
    this.totalBytes = n;
  }

  public Map<String, TensorView> tensors() {
    return tensors;
  }

  public long totalBytes() {
    return totalBytes;
  }

  public static Checkpoint open(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new ModelException("model folder " + dir + " does not exist or is not a directory");
    }
    Path single = dir.resolve("model.safetensors");
    Path index = dir.resolve("model.safetensors.index.json");
    Map<String, TensorView> all = new LinkedHashMap<>();
    if (Files.isRegularFile(index)) {
      for (String shard : shardNames(index)) {
        Path file = dir.resolve(shard);
        if (!Files.isRegularFile(file)) {
          throw new ModelException(index + " names shard " + shard + ", which is missing from " + dir
              + ". Download every shard of the checkpoint.");
        }
        all.putAll(SafetensorsFile.open(file).tensors());
      }
    } else if (Files.isRegularFile(single)) {
      all.putAll(SafetensorsFile.open(single).tensors());
    } else {
      TreeSet<Path> others = listSafetensors(dir);
      if (!others.isEmpty()) {
        for (Path p : others) {
          all.putAll(SafetensorsFile.open(p).tensors());
        }
      } else if (Files.exists(dir.resolve("pytorch_model.bin")) || Files.exists(dir.resolve("pytorch_model.bin.index.json"))) {
        throw new ModelException(dir + " holds only pytorch_model.bin (a pickle, which this engine never loads because"
            + " unpickling can run code). Convert it once to model.safetensors with Python, using the class named in"
            + " config.json's \"architectures\" so that no head is dropped: from transformers import"
            + " GPTNeoForCausalLM; GPTNeoForCausalLM.from_pretrained(dir).save_pretrained(dir,"
            + " safe_serialization=True)");
      } else {
        throw new ModelException("no weights in " + dir + ": expected model.safetensors or"
            + " model.safetensors.index.json with its shards");
      }
    }
    return new Checkpoint(all);
  }

  private static TreeSet<String> shardNames(Path index) {
    try {
      JsonNode json = new ObjectMapper().readTree(Files.readString(index));
      JsonNode map = json == null ? null : json.get("weight_map");
      if (map == null || !map.isObject()) {
        throw new ModelException(index + " has no \"weight_map\" object; re-download it");
      }
      TreeSet<String> shards = new TreeSet<>();
      for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
        String s = it.next().asText();
        if (s.contains("/") || s.contains("\\") || s.startsWith("..")) {
          throw new ModelException(index + " names shard '" + s + "' outside the model folder");
        }
        shards.add(s);
      }
      return shards;
    } catch (IOException e) {
      throw new ModelException(index + " is not valid JSON: " + e.getMessage().split("\n")[0]);
    }
  }

  private static TreeSet<Path> listSafetensors(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      TreeSet<Path> out = new TreeSet<>();
      files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).forEach(out::add);
      return out;
    } catch (IOException e) {
      throw new ModelException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }
}
