#!/usr/bin/env python3
"""HF transformers' own generate() on the demo model, for the settings gptneo implements (HfGenerateGoldenTest).

Runs transformers (5.17.0 here) on the CPU in fp32 over the demo model's fp16 weights, as the shared goldens
were made, and writes hf_generate.json beside this script: per case the HF kwargs and, per prompt, the new
token ids; for greedy cases each step's top-2 margin of the processed scores (the test compares ids up to the
first step whose margin is within float error); for beam search every returned sequence and its score; for
logprobs cases compute_transition_scores(..., normalize_logits=True). Nothing is downloaded.
Usage: hf_generate.py [MODEL_DIR]   (default: datasets-sample/models/gpt-neo-demo)
"""
import json
import math
import os
import sys

import torch
import transformers
from transformers import AutoTokenizer, GPTNeoForCausalLM

PAD = 50257  # outside the vocabulary: HF fills finished or shorter sequences with it
PROMPTS = ["The jury said", "Once upon a time", "Subject: meeting tomorrow"]

CASES = [
    ("penalties", {"repetition_penalty": 1.3, "no_repeat_ngram_size": 3}),
    ("eos_list", {"eos_token_id": [13, 198]}),
    ("eos_list_min_new", {"eos_token_id": [13, 198], "min_new_tokens": 5}),
    ("suppress", {"suppress_tokens": [13, 11, 198], "begin_suppress_tokens": [464, 1169]}),
    ("bad_words", {"bad_words_ids": [[262], [11, 366], [13, 198]]}),
    ("sequence_bias", {"sequence_bias": [[[262], -5.0], [[11, 366], 3.0], [[290], 2.0], [[290], 1.5]]}),
    ("decay", {"exponential_decay_length_penalty": [3, 1.5], "eos_token_id": [13]}),
    ("min_length", {"min_length": 12, "eos_token_id": [13, 198]}),
    ("min_new_over_min_length", {"min_length": 12, "min_new_tokens": 2, "eos_token_id": [13, 198]}),
    ("max_length", {"max_length": 10, "max_new_tokens": None}),
    ("max_new_over_max_length", {"max_length": 10, "max_new_tokens": 5}),
    ("forced_eos", {"forced_eos_token_id": [13], "max_new_tokens": 6}),
    ("stop_strings", {"stop_strings": ["\n", " the"]}),
    ("logprobs", {"repetition_penalty": 1.3, "logprobs": True}),
    ("beams", {"num_beams": 3, "num_return_sequences": 3, "max_new_tokens": 12}),
    ("beams_early", {"num_beams": 4, "length_penalty": 0.3, "early_stopping": True, "eos_token_id": [13, 198],
                     "num_return_sequences": 2}),
    ("beams_never", {"num_beams": 3, "length_penalty": 2.0, "early_stopping": "never", "eos_token_id": [13]}),
    ("beams_processed", {"num_beams": 3, "length_penalty": -1.0, "eos_token_id": [13, 198], "renormalize_logits": True,
                         "repetition_penalty": 1.2, "no_repeat_ngram_size": 2, "num_return_sequences": 3}),
    ("beams_four", {"num_beams": 4, "num_return_sequences": 4, "max_new_tokens": 10}),
    ("beams_three_eos", {"num_beams": 3, "length_penalty": 0.0, "eos_token_id": [13, 198, 11],
                         "num_return_sequences": 3}),
    ("beams_banned", {"num_beams": 2, "bad_words_ids": [[262]], "suppress_tokens": [11], "min_new_tokens": 4,
                      "eos_token_id": [13]}),
]
# one-token prompts: forced_bos applies, and begin_suppress_tokens moves to the second new token
ONE_TOKEN_CASES = [
    ("forced_bos", {"forced_bos_token_id": 262, "begin_suppress_tokens": [11, 13, 290], "max_new_tokens": 6}),
    ("forced_bos_beams", {"forced_bos_token_id": 262, "begin_suppress_tokens": [11, 13, 290], "num_beams": 2,
                          "max_new_tokens": 6}),
]
ONE_TOKEN_PROMPTS = [[464], [50256]]
# prompts near max_position_embeddings (2048): 2044 tokens and 5 new ones make 2049, one past it, which HF
# allows (the last token is never fed; a sixth would need position 2048, and HF raises IndexError); a prompt
# that fills all 2048 positions gives one token
LONG_CASES = [
    ("one_past_max_positions", 2044, {"max_new_tokens": 5}),
    ("one_past_max_positions_beams", 2044, {"num_beams": 2, "max_new_tokens": 5}),
    ("prompt_fills_max_positions", 2048, {"max_new_tokens": 1}),
]


def long_prompt(length):
    import random
    rnd = random.Random(3)
    return [rnd.randrange(1000, 20000) for _ in range(length)]


def margins(scores):
    out = []
    for step in scores:
        top = torch.topk(step[0].double(), 2).values.tolist()
        out.append(1e9 if math.isinf(top[1]) else round(top[0] - top[1], 6))
    return out


def run(model, tok, ids, kwargs):
    kwargs = dict(kwargs)
    logprobs = kwargs.pop("logprobs", False)
    kwargs.setdefault("max_new_tokens", 16)
    if kwargs["max_new_tokens"] is None:
        del kwargs["max_new_tokens"]
    beams = kwargs.get("num_beams", 1) > 1
    if "stop_strings" in kwargs:
        kwargs["tokenizer"] = tok
    out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                         do_sample=False, pad_token_id=PAD, output_scores=True, return_dict_in_generate=True, **kwargs)
    rows = [[t for t in seq[len(ids):].tolist() if t != PAD] for seq in out.sequences]
    result = {"prompt_ids": ids, "completion_ids": rows[0]}
    if beams:
        result["sequences"] = rows
        result["sequences_scores"] = [round(s, 6) for s in out.sequences_scores.tolist()]
    else:
        result["step_margins"] = margins(out.scores)
    if logprobs:
        scores = model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)[0]
        result["token_logprobs"] = [round(s, 6) for s in scores.tolist()]
    return result


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    demo = os.path.join(here, "../../../../../datasets-sample/models/gpt-neo-demo")
    model_dir = sys.argv[1] if len(sys.argv) > 1 else demo
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = GPTNeoForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    cases = []
    with torch.no_grad():
        for name, kwargs in CASES:
            cases.append({"name": name, "kwargs": kwargs,
                          "results": [run(model, tok, tok(p)["input_ids"], kwargs) for p in PROMPTS]})
        for name, kwargs in ONE_TOKEN_CASES:
            cases.append({"name": name, "kwargs": kwargs,
                          "results": [run(model, tok, ids, kwargs) for ids in ONE_TOKEN_PROMPTS]})
        for name, length, kwargs in LONG_CASES:
            cases.append({"name": name, "kwargs": kwargs, "results": [run(model, tok, long_prompt(length), kwargs)]})
    golden = {"made_by": "HF transformers %s, torch %s, CPU, fp32 over the demo model's fp16 weights"
                         % (transformers.__version__, torch.__version__),
              "default_max_new_tokens": 16, "cases": cases}
    with open(os.path.join(here, "hf_generate.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
