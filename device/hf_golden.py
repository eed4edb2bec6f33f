#!/usr/bin/env python3
"""Goldens at GPT-Neo's real head sizes, made on the device by HF transformers (CudaWideGoldenTest).

../shared's goldens have head sizes 16 and 32 (tiny-neo, demo) or do not fit the device's transfer
(mid-neo). The GPU's attention kernels specialise on 64 and 128, so this script builds two random
GPT-Neo checkpoints on the GPU, nothing downloaded: `wide64` (hidden 768, 12 heads: 125M's
attention) and `wide128` (hidden 2048, 16 heads: 1.3B's), each two layers (global, local),
window 256, vocab 2048, fp16 weights. For each it writes, into OUT/NAME/:
  causal-lm/         the checkpoint (config.json, model.safetensors in F16), as save_pretrained writes it
  golden.safetensors forward.P.input_ids and forward.P.logits (every position, HF eager in fp32 over the
                     fp16 weights) for prompts of 600, 300 and 37 random ids; greedy.P.output_ids
                     (40 new tokens) and greedy.P.step_margins (HF's top-2 margin per step)
  golden.json        the config and the fp16 tolerances: twice the largest logit change a float64 forward
                     pass shows when it rounds where the GPU rounds (weights, GEMM inputs, cached keys and
                     values; `mma` also the queries and softmax weights, as the tensor-core attention does)
Usage: hf_golden.py OUT
"""
import json
import math
import os
import sys

import torch

WIDTHS = {"wide64": (768, 12), "wide128": (2048, 16)}
PROMPTS = (600, 300, 37)
NEW_TOKENS = 40


def build(hidden, heads):
    from transformers import GPTNeoConfig, GPTNeoForCausalLM

    config = GPTNeoConfig(vocab_size=2048, max_position_embeddings=1024, hidden_size=hidden, num_layers=2,
                          num_heads=heads, attention_types=[[["global", "local"], 1]], window_size=256,
                          intermediate_size=4 * hidden, bos_token_id=2047, eos_token_id=2047)
    config._attn_implementation = "eager"
    torch.manual_seed(hidden)
    with torch.device("cuda"):
        model = GPTNeoForCausalLM(config).eval()
    # fp16 weights are the checkpoint; the reference computes in fp32 over exactly those values
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model


def rounding_forward(model, ids, rnd, mma):
    """float64 GPT-Neo forward; rnd() rounds where the GPU rounds to fp16 (see the module doc)."""
    sd = {k.replace("transformer.", ""): v.double() for k, v in model.state_dict().items()}
    cfg = model.config
    T, d, H = len(ids), cfg.hidden_size, cfg.num_heads
    hd = d // H

    def ln(x, p):
        return torch.nn.functional.layer_norm(x, (d,), sd[p + ".weight"], sd[p + ".bias"], 1e-5)

    def lin(x, p, bias=True):
        y = rnd(x) @ sd[p + ".weight"].T
        return y + sd[p + ".bias"] if bias else y

    pos = torch.arange(T, device=ids.device)
    x = sd["wte.weight"][ids] + sd["wpe.weight"][pos]
    i, j = pos[:, None], pos[None, :]
    for layer in range(cfg.num_layers):
        p = "h.%d." % layer
        h = ln(x, p + "ln_1")
        a = p + "attn.attention."
        q = lin(h, a + "q_proj", False)
        k = rnd(lin(h, a + "k_proj", False))
        v = rnd(lin(h, a + "v_proj", False))
        if mma:
            q = rnd(q)
        mask = j <= i
        if cfg.attention_layers[layer] == "local":
            mask = mask & (j > i - cfg.window_size)
        out = torch.empty(T, d, dtype=torch.float64, device=ids.device)
        for head in range(H):
            s = slice(head * hd, (head + 1) * hd)
            w = (q[:, s] @ k[:, s].T).masked_fill(~mask, float("-inf"))
            w = torch.exp(w - w.max(-1, keepdim=True).values)
            total = w.sum(-1, keepdim=True)
            out[:, s] = ((rnd(w) if mma else w) @ v[:, s]) / total
        x = x + lin(out, a + "out_proj")
        h = ln(x, p + "ln_2")
        m = lin(h, p + "mlp.c_fc")
        m = 0.5 * m * (1 + torch.tanh(math.sqrt(2 / math.pi) * (m + 0.044715 * m ** 3)))
        x = x + lin(m, p + "mlp.c_proj")
    return rnd(ln(x, "ln_f")) @ sd["wte.weight"].T


def to_f16(x):
    return x.half().double()


def identity(x):
    return x


def main(out_dir):
    import transformers
    from safetensors.torch import save_file

    gen = torch.Generator(device="cuda").manual_seed(7)
    for name, (hidden, heads) in WIDTHS.items():
        folder = os.path.join(out_dir, name)
        model = build(hidden, heads)
        model.half().save_pretrained(os.path.join(folder, "causal-lm"))  # safetensors, F16
        model.float()
        tensors, estimate = {}, {"simt": 0.0, "mma": 0.0}
        with torch.inference_mode():
            for n, length in enumerate(PROMPTS):
                ids = torch.randint(0, 2047, (length,), device="cuda", generator=gen)
                logits = model(ids[None]).logits[0].float()
                tensors["forward.%d.input_ids" % n] = ids.cpu()
                tensors["forward.%d.logits" % n] = logits.cpu()
                exact = rounding_forward(model, ids, identity, False)
                for kind in estimate:
                    rounded = rounding_forward(model, ids, to_f16, kind == "mma")
                    estimate[kind] = max(estimate[kind], (rounded - exact).abs().max().item())
                out = model.generate(ids[None], attention_mask=torch.ones_like(ids[None]), max_new_tokens=NEW_TOKENS,
                                     do_sample=False, pad_token_id=2047, output_scores=True,
                                     return_dict_in_generate=True)
                top2 = torch.stack([s[0].float().topk(2).values for s in out.scores])
                tensors["greedy.%d.output_ids" % n] = out.sequences[0].cpu()
                tensors["greedy.%d.step_margins" % n] = (top2[:, 0] - top2[:, 1]).cpu()
        save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(folder, "golden.safetensors"))
        meta = {"name": name, "config": model.config.to_dict(), "transformers": transformers.__version__,
                "torch": torch.__version__, "prompts": list(PROMPTS), "new_tokens": NEW_TOKENS,
                "estimate_f16": estimate, "tolerance_f16": {k: 2 * v for k, v in estimate.items()}}
        with open(os.path.join(folder, "golden.json"), "w") as f:
            json.dump(meta, f, indent=1, default=str)
        print(name, "fp16 estimate", estimate, flush=True)
        del model
        torch.cuda.empty_cache()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
