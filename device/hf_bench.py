#!/usr/bin/env python3
"""HF transformers, eager attention: the reference for `bin/gptneo bench` on the device machine.

On the GPU (fp16; `bin/gptneo bench --device cuda`), the workloads device/gpu-checks.sh runs for the
engine and ../shared/anchors.json's "gpu_h100_hf_eager_fp16":
  prefill   batch 64 x 256 random ids, use_cache=False: the transformer body (what the engine's
            prefill counts) and, separately, the whole model with its LM head
  score     the same ids: each next token's log-probability (log_softmax in fp32 of the LM head's
            logits, gathered), what `bin/gptneo bench --task score` times
  generate  prompt 128 random ids, exactly 128 new tokens (greedy, min_new_tokens=128), batch 1, 32, 128
On the CPU (--device cpu: fp32, 125M, torch on --threads threads), anchors.json's
"cpu_16core_hf_eager_fp32_125M": prefill batch 8 x 256; generate prompt 64, exactly 32 new tokens,
batch 1 and 8 (gpu-checks.sh's GPU_CHECKS_MODE=cpu).
Random weights of the real GPT-Neo sizes, built where they run: nothing is downloaded.

  hf_bench.py --size 2.7B --out hf-2.7B.json                       one JSON object per workload, one per line
  hf_bench.py --size 125M --device cpu --threads 16 --out hf-cpu-125M.json
  hf_bench.py --summarize DIR          Markdown tables of ours-*.json against hf-*.json (GPU, then CPU)
"""
import argparse
import glob
import json
import os
import platform
import sys
import time

SIZES = {  # hidden, layers, heads: EleutherAI/gpt-neo-125m, -1.3B, -2.7B
    "125M": (768, 12, 12),
    "1.3B": (2048, 24, 16),
    "2.7B": (2560, 32, 20),
}
WORKLOADS = ["prefill-b64-p256", "score-b64-p256", "generate-b1-p128-n128", "generate-b32-p128-n128",
             "generate-b128-p128-n128"]
CPU_WORKLOADS = ["prefill-b8-p256", "generate-b1-p64-n32", "generate-b8-p64-n32"]
TARGETS = {"2.7B": {"prefill-b64-p256": 1.5, "generate-b1-p128-n128": 10, "generate-b128-p128-n128": 10}}
# HF eager fp16 on an H100 as ../shared/anchors.json records it (tokens/s), the reference numbers
ANCHORS = {"125M": {"prefill-b64-p256": 330988, "generate-b1-p128-n128": 62.4, "generate-b32-p128-n128": 1951.2,
                    "generate-b128-p128-n128": 8398.1},
           "1.3B": {"prefill-b64-p256": 86184, "generate-b1-p128-n128": 49.9, "generate-b32-p128-n128": 1276.0,
                    "generate-b128-p128-n128": 4549.6},
           "2.7B": {"prefill-b64-p256": 51105, "generate-b1-p128-n128": 28.2, "generate-b32-p128-n128": 823.9,
                    "generate-b128-p128-n128": 2775.7}}
# HF eager fp32 on the 16 CPU cores of the H100 machine (anchors.json's "cpu_16core_hf_eager_fp32_125M")
CPU_ANCHORS = {"prefill-b8-p256": 2188, "generate-b1-p64-n32": 48.2, "generate-b8-p64-n32": 237.3}


def build(size, device="cuda"):
    import torch
    from transformers import GPTNeoConfig, GPTNeoForCausalLM

    hidden, layers, heads = SIZES[size]
    config = GPTNeoConfig(vocab_size=50257, max_position_embeddings=2048, hidden_size=hidden, num_layers=layers,
                          num_heads=heads, attention_types=[[["global", "local"], layers // 2]], window_size=256,
                          intermediate_size=4 * hidden, bos_token_id=50256, eos_token_id=50256)
    config._attn_implementation = "eager"
    torch.manual_seed(0)
    with torch.device(device):
        model = GPTNeoForCausalLM(config)
    return (model.to(torch.float16) if device == "cuda" else model.float()).eval()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def timed(fn):
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def run(size, out_path, device="cuda", threads=None):
    import torch
    import transformers

    if device == "cpu":
        torch.set_num_threads(threads or os.cpu_count())
        prefill, prompt_tokens, new_tokens, batches, repeats = (8, 256), 64, 32, (1, 8), 3
        device_name = "%s (%d threads)" % (cpu_model(), torch.get_num_threads())
        impl = "hf-eager-fp32-cpu"
    else:
        prefill, prompt_tokens, new_tokens, batches, repeats = (64, 256), 128, 128, (1, 32, 128), 1
        device_name = torch.cuda.get_device_name(0)
        impl = "hf-eager-fp16"
    model = build(size, device)
    common = {"impl": impl, "model": size, "device": device_name, "threads": torch.get_num_threads(),
              "transformers": transformers.__version__, "torch": torch.__version__,
              "attn_implementation": getattr(model.config, "_attn_implementation", "?")}
    gen = torch.Generator(device=device).manual_seed(1)
    results = []

    def emit(r):
        r.update(common)
        results.append(r)
        print(json.dumps(r), flush=True)

    with torch.inference_mode():
        ids = torch.randint(0, 50257, prefill, device=device, generator=gen)
        rows, tokens = prefill
        def score():
            logits = model(ids, use_cache=False).logits[:, :-1].float()
            return torch.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:, None])

        for name, fn in (("prefill-b%d-p%d" % prefill, lambda: model.transformer(ids, use_cache=False)),
                         ("prefill-b%d-p%d-with-lm-head" % prefill, lambda: model(ids, use_cache=False)),
                         ("score-b%d-p%d" % prefill, score)):
            timed(fn)  # warm-up
            seconds = min(timed(fn)[0] for _ in range(max(2, repeats)))
            emit({"workload": name, "batch_size": rows, "prompt_tokens": tokens, "new_tokens": 0, "seconds": seconds,
                  "tokens_per_s": rows * tokens / seconds})
        del ids
        for batch in batches:
            prompt = torch.randint(0, 50257, (batch, prompt_tokens), device=device, generator=gen)
            mask = torch.ones_like(prompt)

            def generate(n):
                return model.generate(prompt, attention_mask=mask, max_new_tokens=n, min_new_tokens=n,
                                      do_sample=False, pad_token_id=50256)

            timed(lambda: generate(8))  # warm-up
            runs = [timed(lambda: generate(new_tokens)) for _ in range(repeats)]
            seconds, out = min(runs, key=lambda r: r[0])
            assert out.shape == (batch, prompt_tokens + new_tokens), out.shape
            emit({"workload": "generate-b%d-p%d-n%d" % (batch, prompt_tokens, new_tokens), "batch_size": batch,
                  "prompt_tokens": prompt_tokens, "new_tokens": new_tokens, "seconds": seconds,
                  "tokens_per_s": batch * new_tokens / seconds})
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

    def limits(pattern):  # the GPU's limits each run measured after its timings (GpuLimits), which "% of limit" divides by
        runs = [r for path in sorted(glob.glob(os.path.join(folder, pattern))) if "-cpu-" not in path
                for r in load(path)[:1] if r.get("peak_gflops_per_s") and r.get("peak_gb_per_s")]
        if not runs:
            return "\n% of limit: no run measured the GPU's limits."
        flops = [r["peak_gflops_per_s"] / 1e3 for r in runs]
        reads = [r["peak_gb_per_s"] / 1e3 for r in runs]
        return ("\n%% of limit: prefill's FLOP/s against a cuBLAS fp16 GEMM of 8192^3 (%.0f-%.0f TFLOP/s), the decode"
                " steps' bytes against a device-memory read (%.2f-%.2f TB/s), each measured by the run itself after its timings"
                " (%d runs, on %s; the kernel variants' runs skip it)."
                % (min(flops), max(flops), min(reads), max(reads), len(runs),
                   runs[0].get("limits", "?").split(": cuBLAS")[0].replace("cuda, ", "")))

    def table(label, hf_file, prefix, workloads, anchors, targets):
        hf = {}
        for path in glob.glob(os.path.join(folder, hf_file)):
            hf = {r["workload"]: r for r in load(path)}
        names = sorted(os.path.basename(p)[len(prefix):-len(".json")]
                       for p in glob.glob(os.path.join(folder, prefix + "*.json")))
        for base in workloads:  # each workload, then its kernel variants (a suffix: -simt, -lt, ...)
            for workload in [n for n in names if n == base] + [n for n in names if n.startswith(base + "-")]:
                ours = load(os.path.join(folder, prefix + workload + ".json"))
                mine = ours[0]["tokens_per_s"] if ours else None
                # the share of the machine's limit ours reached: FLOP/s for prefill, bandwidth for decode
                limit = ours[0].get("pct_of_bandwidth" if base.startswith("generate") else "pct_of_peak") if ours else None
                theirs = hf.get(base, {}).get("tokens_per_s")
                anchor = anchors.get(base)
                target = targets.get(base)
                yield "| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    label, workload, "%.0f" % mine if mine else "failed", "%.1f%%" % limit if limit else "-",
                    "%.0f" % theirs if theirs else "-", "%.2fx" % (mine / theirs) if mine and theirs else "-",
                    "%.2fx" % (mine / anchor) if mine and anchor else "-", "%gx" % target if target else "")

    header = ["| model | workload | ours tokens/s | ours %% of limit | HF %s tokens/s | ours / HF | ours / anchor | target |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    gpu = [row for size in SIZES for row in table(size, "hf-%s.json" % size, "ours-%s-" % size, WORKLOADS,
                                                     ANCHORS.get(size, {}), TARGETS.get(size, {}))]
    cpu = list(table("125M", "hf-cpu-125M.json", "ours-cpu-125M-", CPU_WORKLOADS, CPU_ANCHORS, {}))
    if gpu or not cpu:
        print(header[0] % "eager fp16 (GPU)")
        print("\n".join(header[1:] + gpu))
        print(limits("ours-*.json"))
    if cpu:
        print("\nOn the CPU cores, fp32, both on every core (anchors: HF on 16 cores):\n")
        print(header[0] % "eager fp32 (CPU)")
        print("\n".join(header[1:] + cpu))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=sorted(SIZES))
    p.add_argument("--out")
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    p.add_argument("--threads", type=int, help="--device cpu: torch's threads (default: every core)")
    p.add_argument("--summarize", metavar="DIR")
    a = p.parse_args()
    if a.summarize:
        summarize(a.summarize)
    elif a.size and a.out:
        run(a.size, a.out, a.device, a.threads)
    else:
        p.error("give --size and --out, or --summarize DIR")
        sys.exit(2)
