#!/usr/bin/env python3
"""HF transformers, eager attention, fp16, on the GPU: the reference for `bin/gptneo bench --device cuda`.

Same workloads as device/gpu-checks.sh runs for the engine (and as ../shared/anchors.json):
  prefill   batch 64 x 256 random ids, use_cache=False: the transformer body (what the engine's
            prefill counts) and, separately, the whole model with its LM head
  generate  prompt 128 random ids, exactly 128 new tokens (greedy, min_new_tokens=128), batch 1, 32, 128
Random weights of the real GPT-Neo sizes, built on the GPU: nothing is downloaded.

  hf_bench.py --size 2.7B --out hf-2.7B.json   one JSON object per workload, one per line
  hf_bench.py --summarize DIR                    a Markdown table of ours-*.json against hf-*.json
"""
import argparse
import glob
import json
import os
import sys
import time

SIZES = {  # hidden, layers, heads: EleutherAI/gpt-neo-125m, -1.3B, -2.7B
    "125M": (768, 12, 12),
    "1.3B": (2048, 24, 16),
    "2.7B": (2560, 32, 20),
}
WORKLOADS = ["prefill-b64-p256", "generate-b1-p128-n128", "generate-b32-p128-n128", "generate-b128-p128-n128"]
TARGETS = {"2.7B": {"prefill-b64-p256": 1.5, "generate-b1-p128-n128": 10, "generate-b128-p128-n128": 10}}
# HF eager fp16 on an H100 as ../shared/anchors.json records it (tokens/s), the reference numbers
ANCHORS = {"125M": {"prefill-b64-p256": 330988, "generate-b1-p128-n128": 62.4, "generate-b32-p128-n128": 1951.2,
                    "generate-b128-p128-n128": 8398.1},
           "1.3B": {"prefill-b64-p256": 86184, "generate-b1-p128-n128": 49.9, "generate-b32-p128-n128": 1276.0,
                    "generate-b128-p128-n128": 4549.6},
           "2.7B": {"prefill-b64-p256": 51105, "generate-b1-p128-n128": 28.2, "generate-b32-p128-n128": 823.9,
                    "generate-b128-p128-n128": 2775.7}}


def build(size):
    import torch
    from transformers import GPTNeoConfig, GPTNeoForCausalLM

    hidden, layers, heads = SIZES[size]
    config = GPTNeoConfig(vocab_size=50257, max_position_embeddings=2048, hidden_size=hidden, num_layers=layers,
                          num_heads=heads, attention_types=[[["global", "local"], layers // 2]], window_size=256,
                          intermediate_size=4 * hidden, bos_token_id=50256, eos_token_id=50256)
    config._attn_implementation = "eager"
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = GPTNeoForCausalLM(config).to(torch.float16).eval()
    return model


def timed(fn):
    import torch

    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def run(size, out_path):
    import torch
    import transformers

    model = build(size)
    common = {"impl": "hf-eager-fp16", "model": size, "device": torch.cuda.get_device_name(0),
              "transformers": transformers.__version__, "torch": torch.__version__,
              "attn_implementation": getattr(model.config, "_attn_implementation", "?")}
    gen = torch.Generator(device="cuda").manual_seed(1)
    results = []

    def emit(r):
        r.update(common)
        results.append(r)
        print(json.dumps(r), flush=True)

    with torch.inference_mode():
        ids = torch.randint(0, 50257, (64, 256), device="cuda", generator=gen)
        for name, fn in (("prefill-b64-p256", lambda: model.transformer(ids, use_cache=False)),
                         ("prefill-b64-p256-with-lm-head", lambda: model(ids, use_cache=False))):
            timed(fn)  # warm-up
            seconds = min(timed(fn)[0] for _ in range(2))
            emit({"workload": name, "batch_size": 64, "prompt_tokens": 256, "new_tokens": 0, "seconds": seconds,
                  "tokens_per_s": 64 * 256 / seconds})
        del ids
        for batch in (1, 32, 128):
            prompt = torch.randint(0, 50257, (batch, 128), device="cuda", generator=gen)
            mask = torch.ones_like(prompt)

            def generate(n):
                return model.generate(prompt, attention_mask=mask, max_new_tokens=n, min_new_tokens=n,
                                      do_sample=False, pad_token_id=50256)

            timed(lambda: generate(8))  # warm-up
            seconds, out = timed(lambda: generate(128))
            assert out.shape == (batch, 256), out.shape
            emit({"workload": "generate-b%d-p128-n128" % batch, "batch_size": batch, "prompt_tokens": 128,
                  "new_tokens": 128, "seconds": seconds, "tokens_per_s": batch * 128 / seconds})
    with open(out_path, "w") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")


def summarize(folder):
    def load(path):
        rows = []
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
        return rows

    print("| model | workload | ours tokens/s | HF eager fp16 tokens/s | ours / HF | ours / anchor | target |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for size in SIZES:
        hf = {}
        for path in glob.glob(os.path.join(folder, "hf-%s.json" % size)):
            hf = {r["workload"]: r for r in load(path)}
        prefix = "ours-%s-" % size
        names = sorted(os.path.basename(p)[len(prefix):-len(".json")]
                       for p in glob.glob(os.path.join(folder, prefix + "*.json")))
        for base in WORKLOADS:  # each workload, then its kernel variants (a suffix: -simt, -split, ...)
            for workload in [n for n in names if n == base] + [n for n in names if n.startswith(base + "-")]:
                ours = load(os.path.join(folder, prefix + workload + ".json"))
                mine = ours[0]["tokens_per_s"] if ours else None
                theirs = hf.get(base, {}).get("tokens_per_s")
                anchor = ANCHORS.get(size, {}).get(base)
                ratio = "%.2fx" % (mine / theirs) if mine and theirs else "-"
                vs_anchor = "%.2fx" % (mine / anchor) if mine and anchor else "-"
                target = TARGETS.get(size, {}).get(base)
                print("| %s | %s | %s | %s | %s | %s | %s |" % (
                    size, workload, "%.0f" % mine if mine else "failed", "%.0f" % theirs if theirs else "-", ratio,
                    vs_anchor, "%gx" % target if target else ""))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=sorted(SIZES))
    p.add_argument("--out")
    p.add_argument("--summarize", metavar="DIR")
    a = p.parse_args()
    if a.summarize:
        summarize(a.summarize)
    elif a.size and a.out:
        run(a.size, a.out)
    else:
        p.error("give --size and --out, or --summarize DIR")
        sys.exit(2)
