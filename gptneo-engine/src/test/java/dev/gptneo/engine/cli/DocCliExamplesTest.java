package dev.gptneo.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gptneo.engine.testing.Goldens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The examples of docs/CLI.md whose output the page shows: each {@code echo '...' | bin/gptneo ...}
 * or {@code printf '%s\n' '...' ... | bin/gptneo ...} runs through {@link Main} and must print
 * those lines. Numbers compare within 1e-4 (relative): their last digits depend on the CPU's
 * vector width; ids, labels and texts compare exactly. Examples with files or other commands are
 * left to the reader.
 */
class DocCliExamplesTest {
  private static final Pattern EXAMPLE = // a bash block right before an output block, neither holding a fence
      Pattern.compile("```bash\n((?:(?!```).)*)```\n```\n((?:(?!```).)*)```", Pattern.DOTALL);
  private static final Pattern PIPE = Pattern.compile(
      "(echo|printf '%s\\\\n')((?:\\s+'[^']*')+)\\s*\\|\\s*bin/gptneo\\s+(.*)");
  private static final Pattern QUOTED = Pattern.compile("'([^']*)'|(\\S+)");

  @Test
  void everyShownOutputIsWhatTheCommandPrints() throws Exception {
    Path repo = Goldens.demoModel().getParent().getParent().getParent();
    String page = Files.readString(repo.resolve("docs/CLI.md"));
    ObjectMapper json = new ObjectMapper();
    int checked = 0;
    Matcher m = EXAMPLE.matcher(page);
    while (m.find()) {
      List<String[]> runs = commands(m.group(1));
      if (runs == null) {
        continue;
      }
      StringBuilder out = new StringBuilder();
      for (String[] run : runs) {
        String[] args = new String[run.length - 1];
        for (int i = 1; i < run.length; i++) {
          args[i - 1] = resolve(run[i], repo);
        }
        out.append(MainTest.run(run[0], args).out);
      }
      String[] got = out.toString().strip().split("\n");
      String[] want = m.group(2).strip().split("\n");
      assertEquals(want.length, got.length, m.group(1) + "\n" + out);
      for (int i = 0; i < want.length; i++) {
        assertClose(json.readTree(want[i]), json.readTree(got[i]), m.group(1).strip() + "\nline " + (i + 1));
      }
      checked++;
    }
    assertTrue(checked >= 8, "examples checked: " + checked);
  }

  /** (stdin, args...) per pipeline of a block, or null when a line is not such a pipeline. */
  private static List<String[]> commands(String block) {
    List<String[]> runs = new ArrayList<>();
    for (String line : block.replace("\\\n", " ").replaceAll("\\|\\s*\n", "| ").split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      Matcher p = PIPE.matcher(line.strip());
      if (!p.matches()) {
        return null;
      }
      StringBuilder stdin = new StringBuilder();
      Matcher q = QUOTED.matcher(p.group(2));
      while (q.find()) {
        stdin.append(q.group(1)).append('\n');
      }
      List<String> run = new ArrayList<>(List.of(stdin.toString()));
      Matcher a = QUOTED.matcher(p.group(3));
      while (a.find()) {
        run.add(a.group(1) != null ? a.group(1) : a.group(2));
      }
      runs.add(run.toArray(new String[0]));
    }
    return runs.isEmpty() ? null : runs;
  }

  /** The page's paths are from the repository root; ../shared examples skip where it is absent. */
  private static String resolve(String arg, Path repo) {
    if (arg.startsWith("datasets-sample/")) {
      return repo.resolve(arg).toString();
    }
    if (arg.startsWith("../shared/")) {
      return Goldens.path(arg.substring("../shared/".length())).toString();
    }
    return arg;
  }

  private static void assertClose(JsonNode want, JsonNode got, String where) {
    if (want.isNumber() && got.isNumber() && (want.isFloatingPointNumber() || got.isFloatingPointNumber())) {
      double w = want.asDouble();
      double g = got.asDouble();
      assertTrue(Math.abs(w - g) <= 1e-4 * Math.max(1, Math.abs(w)), where + ": " + w + " vs " + g);
    } else if (want.isContainerNode()) {
      assertEquals(want.size(), got.size(), where + ": " + got);
      if (want.isArray()) {
        for (int i = 0; i < want.size(); i++) {
          assertClose(want.get(i), got.get(i), where);
        }
      } else {
        for (Iterator<String> it = want.fieldNames(); it.hasNext(); ) {
          String f = it.next();
          assertTrue(got.has(f), where + ": no " + f + " in " + got);
          assertClose(want.get(f), got.get(f), where + " ." + f);
        }
      }
    } else {
      assertEquals(want, got, where);
    }
  }
}
