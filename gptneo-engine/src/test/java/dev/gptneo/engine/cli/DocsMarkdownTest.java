package dev.gptneo.engine.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.testing.Goldens;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every Markdown page of the repository renders as written: each code fence closes, and a closing
 * fence stands alone on its line (text after it keeps the block open and turns the rest of the page
 * into code).
 */
class DocsMarkdownTest {
  @Test
  void codeFencesCloseAndStandAlone() throws IOException {
    Path repo = Goldens.demoModel().getParent().getParent().getParent();
    List<Path> pages;
    try (Stream<Path> files = Files.walk(repo)) {
      pages = files.filter(p -> p.toString().endsWith(".md"))
          .filter(p -> !repo.relativize(p).toString().matches("(?:.*[/\\\\])?(?:target|node_modules|\\.git)[/\\\\].*"))
          .collect(Collectors.toList());
    }
    List<String> problems = new ArrayList<>();
    for (Path page : pages) {
      problems.addAll(fenceProblems(repo.relativize(page).toString(), Files.readAllLines(page)));
    }
    assertTrue(pages.size() >= 8, "pages found: " + pages);
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  static List<String> fenceProblems(String name, List<String> lines) {
    List<String> problems = new ArrayList<>();
    int openedAt = 0; // 1-based line of the open fence, 0 outside a block
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (!line.startsWith("```")) {
        continue;
      }
      if (openedAt == 0) {
        openedAt = i + 1;
      } else {
        if (!line.substring(3).isBlank()) {
          problems.add(name + ":" + (i + 1) + ": text after a closing fence: " + line);
        }
        openedAt = 0;
      }
    }
    if (openedAt != 0) {
      problems.add(name + ":" + openedAt + ": the code block opened here never closes");
    }
    return problems;
  }

  @Test
  void theCheckFindsBothMistakes() {
    assertTrue(fenceProblems("a.md", List.of("```sql", "SELECT 1;", "``` Tests check this")).size() == 1);
    assertTrue(fenceProblems("b.md", List.of("```", "x")).size() == 1);
    assertTrue(fenceProblems("c.md", List.of("```bash", "x", "```", "text")).isEmpty());
  }
}
