package dev.gptneo.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generation_config.json as HF's generate() reads it: the defaults a call's own settings override. */
class GenerationDefaultsTest {
  @TempDir
  Path dir;

  private GenerationDefaults load(String json) throws IOException {
    Files.writeString(dir.resolve(GenerationDefaults.FILE), json);
    return GenerationDefaults.load(dir);
  }

  @Test
  void withoutTheFileTheEngineDefaultsApply() {
    assertSame(GenerationDefaults.none(), GenerationDefaults.load(dir));
    assertSame(GenerationParams.DEFAULT, GenerationDefaults.none().params);
  }

  @Test
  void supportedSettingsBecomeTheDefaults() throws IOException {
    GenerationDefaults d = load("{\"do_sample\": true, \"temperature\": 0.7, \"top_k\": 10, \"top_p\": 0.9,"
        + " \"repetition_penalty\": 1.3, \"no_repeat_ngram_size\": 3, \"max_new_tokens\": 12, \"min_new_tokens\": 2,"
        + " \"eos_token_id\": [999, 5], \"stop_strings\": \"\\n\\n\", \"bos_token_id\": 999,"
        + " \"transformers_version\": \"5.17.0\", \"num_beams\": 1, \"typical_p\": 1.0}");
    GenerationParams p = d.params;
    assertTrue(d.sampling && p.doSample);
    assertEquals(0.7, p.temperature);
    assertEquals(10, p.topK);
    assertEquals(0.9, p.topP);
    assertEquals(1.3, p.repetitionPenalty);
    assertEquals(3, p.noRepeatNgramSize);
    assertEquals(12, p.maxNewTokens);
    assertEquals(2, p.minNewTokens);
    assertArrayEquals(new int[] {999, 5}, p.eosTokenIds);
    assertArrayEquals(new int[0], p.stopTokenIds);
    assertEquals(List.of("\n\n"), p.stopStrings);
    assertEquals(List.of(), d.ignored, "ids, versions and HF's 'off' values change nothing");
  }

  @Test
  void minPTheCutoffsAndSuppressedTokensAreApplied() throws IOException {
    GenerationDefaults d = load("{\"do_sample\": true, \"min_p\": 0.05, \"typical_p\": 0.9, \"epsilon_cutoff\": 0.0003,"
        + " \"eta_cutoff\": 0.0002, \"suppress_tokens\": [50256, 198], \"begin_suppress_tokens\": [13],"
        + " \"bad_words_ids\": [[1, 2], [3]]}");
    assertEquals(List.of(), d.ignored);
    assertEquals(0.05, d.params.minP);
    assertEquals(0.9, d.params.typicalP);
    assertEquals(0.0003, d.params.epsilonCutoff);
    assertEquals(0.0002, d.params.etaCutoff);
    assertArrayEquals(new int[] {50256, 198}, d.params.suppressTokens);
    assertArrayEquals(new int[] {13}, d.params.beginSuppressTokens);
    assertArrayEquals(new int[][] {{1, 2}, {3}}, d.params.badWordsIds);
    GenerationParams biased = load("{\"sequence_bias\": [[[5, 6], -1.5], [[7], 2.0]],"
        + " \"exponential_decay_length_penalty\": [10, 1.05]}").params;
    assertArrayEquals(new int[][] {{5, 6}, {7}}, biased.biasedSequences);
    assertArrayEquals(new double[] {-1.5, 2.0}, biased.sequenceBiases);
    assertEquals(10, biased.decayStart);
    GenerationParams forced = load("{\"forced_bos_token_id\": 1, \"forced_eos_token_id\": [2, 3],"
        + " \"renormalize_logits\": true}").params;
    assertEquals(1, forced.forcedBosTokenId);
    assertArrayEquals(new int[] {2, 3}, forced.forcedEosTokenIds);
    assertTrue(forced.renormalizeLogits);
    assertArrayEquals(new int[] {7}, load("{\"forced_eos_token_id\": 7}").params.forcedEosTokenIds);
    assertEquals(1.05, biased.decayFactor);
    IllegalArgumentException map = assertThrows(IllegalArgumentException.class,
        () -> load("{\"sequence_bias\": {\"5\": 1.0}}"));
    assertTrue(map.getMessage().contains("sequence_bias must be a JSON list of [token ids, bias] pairs"),
        map.getMessage());
    GenerationDefaults off = load("{\"min_p\": null, \"epsilon_cutoff\": 0.0, \"eta_cutoff\": 0.0,"
        + " \"suppress_tokens\": null, \"begin_suppress_tokens\": null, \"bad_words_ids\": null}"); // HF's "off"
    assertEquals(GenerationParams.DEFAULT.toBuilder().eosTokenIds().build(), off.params, "no eos_token_id: none");
    assertEquals(1.5, load("{\"min_p\": 1.5}").params.minP, "greedy: HF neither applies nor checks it");
    assertEquals(0.4, load("{\"do_sample\": true, \"top_h\": 0.4}").params.topH);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> load("{\"do_sample\": true, \"min_p\": 1.5}"));
    assertTrue(e.getMessage().contains("generation_config.json: min_p must be in [0, 1]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> load("{\"suppress_tokens\": 5}"));
    assertTrue(e.getMessage().contains("'suppress_tokens' must be a list of token ids"), e.getMessage());
  }

  /** Without generation_config.json, HF's from_model_config: config.json's top-level generation keys apply. */
  @Test
  void withoutTheFileConfigJsonsGenerationKeysApply() throws IOException {
    Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt_neo\", \"eos_token_id\": 50256,"
        + " \"hidden_size\": 128, \"task_specific_params\": {\"text-generation\": {\"do_sample\": true}}}");
    assertSame(GenerationDefaults.none(), GenerationDefaults.load(dir), "model keys and nested params: none apply");
    Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt_neo\", \"eos_token_id\": 7,"
        + " \"do_sample\": true, \"top_k\": 5, \"hidden_size\": 128}");
    GenerationDefaults top = GenerationDefaults.load(dir);
    assertTrue(top.sampling && top.params.doSample);
    assertEquals(5, top.params.topK);
    assertEquals(null, top.params.eosTokenIds, "config.json's own eos: the engine's default");
    assertEquals(List.of(), top.ignored);
    assertTrue(top.toString().startsWith("config.json"), top.toString());
    Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt_neo\", \"eos_token_id\": null}");
    GenerationDefaults noEos = GenerationDefaults.load(dir);
    assertArrayEquals(new int[0], noEos.params.eosTokenIds, "HF drops None: no eos");
    assertTrue(noEos.warnings.get(0).contains("config.json has no eos_token_id (and there is no "
        + "generation_config.json)"), noEos.warnings.get(0));
    Files.writeString(dir.resolve("config.json"), "not json");
    assertSame(GenerationDefaults.none(), GenerationDefaults.load(dir), "the model's load reports a bad config");
  }

  /** As in HF, the file's eos_token_id is the only one: a file without it means no eos, with a warning. */
  @Test
  void aFileWithoutEosTokenIdMeansNoEos() throws IOException {
    GenerationDefaults without = load("{\"top_k\": 5}");
    assertArrayEquals(new int[0], without.params.eosTokenIds);
    assertArrayEquals(new int[0], without.params.eosOr(new int[] {50256}));
    assertEquals(1, without.warnings.size());
    assertTrue(without.warnings.get(0).contains("has no eos_token_id") && without.warnings.get(0)
        .contains("\"eos_token_id\": 50256"), without.warnings.get(0));
    GenerationDefaults with = load("{\"eos_token_id\": 50256}");
    assertArrayEquals(new int[] {50256}, with.params.eosOr(new int[] {7}));
    assertEquals(List.of(), with.warnings);
    assertArrayEquals(new int[] {7}, GenerationDefaults.none().params.eosOr(new int[] {7}), "no file: config.json's");
    assertEquals(List.of(), GenerationDefaults.none().warnings);
  }

  /** max_length and min_length count the prompt (a max_new_tokens wins); a prompt at max_length fails, as HF 5.17. */
  @Test
  void maxAndMinLengthBecomeNewTokenCountsPerPrompt() throws IOException {
    GenerationParams p = load("{\"max_length\": 50, \"min_length\": 12}").params;
    assertEquals(50, p.maxLength);
    assertEquals(12, p.minLength);
    GenerationParams forTen = p.forPrompt(10);
    assertEquals(40, forTen.maxNewTokens);
    assertEquals(2, forTen.minNewTokens);
    assertEquals(0, forTen.maxLength);
    IllegalArgumentException full = assertThrows(IllegalArgumentException.class, () -> p.forPrompt(50));
    assertTrue(full.getMessage().contains("the prompt has 50 tokens but max_length is 50"), full.getMessage());
    assertEquals(0, p.forPrompt(30).minNewTokens);
    assertEquals(16, load("{\"max_length\": 20}").params.forPrompt(4).maxNewTokens, "an explicit 20 counts");
    assertEquals(9, load("{\"max_length\": 50, \"max_new_tokens\": 9}").params.forPrompt(4).maxNewTokens,
        "max_new_tokens wins");
    assertEquals(46, load("{\"max_length\": 50, \"max_new_tokens\": null}").params.forPrompt(4).maxNewTokens);
    GenerationParams over = GenerationParams.builder().maxLength(8).minLength(30).build().forPrompt(4);
    assertEquals(4, over.maxNewTokens);
    assertEquals(26, over.minNewTokens, "min_length past max_length bans eos to the end (HF only warns)");
    assertSame(GenerationParams.DEFAULT, GenerationParams.DEFAULT.forPrompt(7));
  }

  @Test
  void settingsHfAppliesButGptneoLacksAreListed() throws IOException {
    GenerationDefaults d = load("{\"num_beam_groups\": 2, \"penalty_alpha\": 0.6, \"diversity_penalty\": 0.5,"
        + " \"shiny\": 1, \"repetition_penalty\": 1.2, \"num_beams\": 3, \"early_stopping\": \"never\"}");
    assertEquals(List.of("num_beam_groups=2", "penalty_alpha=0.6", "diversity_penalty=0.5",
        "shiny=1 (unknown)"), d.ignored);
    assertEquals(1.2, d.params.repetitionPenalty, "the rest still applies");
    assertEquals(3, d.params.numBeams);
    assertEquals("never", d.params.earlyStopping);
    assertFalse(d.sampling);
  }

  @Test
  void badValuesFailNamingTheFileAndSetting() throws IOException {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load("{\"top_k\": \"ten\"}"));
    assertTrue(e.getMessage().contains("generation_config.json: 'top_k' must be an integer, got \"ten\""),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> load("{\"do_sample\": true, \"temperature\": 0}"));
    assertTrue(e.getMessage().contains("generation_config.json: temperature must be > 0"), e.getMessage());
    UncheckedIOException io = assertThrows(UncheckedIOException.class, () -> load("{\"top_k\": "));
    assertTrue(io.getMessage().contains("fix or delete the file"), io.getMessage());
  }
}
