package dev.gptneo.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;

/**
 * Streams JSONL: reads a batch of lines, has a task turn them into output objects, writes one
 * output line per input line in order, keeping each line's {@code id}. A line that is not a JSON
 * object gets an error line; the others go on.
 */
final class JsonlRows {
  static final ObjectMapper JSON = new ObjectMapper();

  /** One input line. {@code json} is null when the line did not parse ({@code error} says why). */
  static final class Line {
    final int number;      // 1-based
    final JsonNode id;     // null when the line has none
    final ObjectNode json;
    final String error;

    Line(int number, JsonNode id, ObjectNode json, String error) {
      this.number = number;
      this.id = id;
      this.json = json;
      this.error = error;
    }

    /** A string field, or null when absent / JSON null. */
    String text(String field) {
      JsonNode n = json.get(field);
      if (n == null || n.isNull()) {
        return null;
      }
      if (!n.isTextual()) {
        throw new IllegalArgumentException("\"" + field + "\" must be a string");
      }
      return n.asText();
    }

    /** "input_ids" as ints, or null when absent. */
    int[] inputIds() {
      JsonNode n = json.get("input_ids");
      if (n == null || n.isNull()) {
        return null;
      }
      if (!n.isArray()) {
        throw new IllegalArgumentException("\"input_ids\" must be an array of integers");
      }
      int[] ids = new int[n.size()];
      for (int i = 0; i < ids.length; i++) {
        JsonNode v = n.get(i);
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
          throw new IllegalArgumentException("\"input_ids\" must hold integers; item " + i + " is " + v);
        }
        ids[i] = v.asInt();
      }
      return ids;
    }
  }

  /** Turns a batch of parsed lines into output objects (same size and order; "id" is added here). */
  interface Task {
    List<ObjectNode> run(List<Line> lines);
  }

  private JsonlRows() {}

  /** Processes every line; returns the number of lines written. */
  static int process(BufferedReader in, Writer out, int batchSize, Task task) throws IOException {
    List<Line> batch = new ArrayList<>(batchSize);
    int number = 0;
    int written = 0;
    for (String raw; (raw = in.readLine()) != null; ) {
      number++;
      batch.add(parse(number, raw));
      if (batch.size() == batchSize) {
        written += flush(batch, out, task);
      }
    }
    written += flush(batch, out, task);
    return written;
  }

  private static Line parse(int number, String raw) {
    if (raw.isBlank()) {
      return new Line(number, null, null, "line " + number + " is empty; expected a JSON object");
    }
    try {
      JsonNode node = JSON.readTree(raw);
      if (!(node instanceof ObjectNode)) {
        return new Line(number, null, null, "line " + number + " is not a JSON object");
      }
      return new Line(number, node.get("id"), (ObjectNode) node, null);
    } catch (IOException e) {
      return new Line(number, null, null, "line " + number + " is not valid JSON: "
          + e.getMessage().split("\n")[0]);
    }
  }

  private static int flush(List<Line> batch, Writer out, Task task) throws IOException {
    if (batch.isEmpty()) {
      return 0;
    }
    List<Line> good = new ArrayList<>();
    for (Line l : batch) {
      if (l.error == null) {
        good.add(l);
      }
    }
    List<ObjectNode> results = good.isEmpty() ? List.of() : task.run(good);
    int g = 0;
    for (Line l : batch) {
      ObjectNode o = JSON.createObjectNode();
      o.set("id", l.id);
      if (l.error != null) {
        o.put("error", l.error);
      } else {
        o.setAll(results.get(g++));
      }
      out.write(JSON.writeValueAsString(o));
      out.write('\n');
    }
    out.flush();
    int n = batch.size();
    batch.clear();
    return n;
  }

  static ObjectNode error(String message) {
    return JSON.createObjectNode().put("error", message);
  }
}
