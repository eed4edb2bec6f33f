#!/usr/bin/env python3
"""How far the GPU backend's fp16 / bf16 rounding moves GPT-Neo's logits, estimated on the CPU.

A float64 GPT-Neo forward pass (numpy) that rounds where the GPU rounds: the weights (an fp32
checkpoint runs in bf16), the input of every GEMM and the cached keys and values; everything else
in full precision. The largest logit change against the unrounded pass, over the goldens' prompts,
is where CudaGoldenTest's tolerances come from (docs/GPU.md). Needs numpy and ../shared.
Usage: device/precision_estimate.py   (SHARED=... overrides ../shared)
"""
import json, os, struct, numpy as np
def load(path):
    f = open(path, 'rb'); n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n)); base = 8 + n; out = {}
    for k, m in h.items():
        if k == '__metadata__': continue
        f.seek(base + m['data_offsets'][0]); raw = f.read(m['data_offsets'][1] - m['data_offsets'][0])
        dt = {'F32': np.float32, 'F16': np.float16, 'I64': np.int64, 'BF16': np.uint16}[m['dtype']]
        a = np.frombuffer(raw, dtype=dt)
        if m['dtype'] == 'BF16': a = (a.astype(np.uint32) << 16).view(np.float32)
        out[k.replace('transformer.', '')] = a.astype(np.float64 if dt != np.int64 else np.int64).reshape(m['shape'])
    return out
def bf16(a):
    b = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    b = ((b + 0x7fff + ((b >> 16) & 1)) >> 16) << 16
    return b.astype(np.uint32).view(np.float32).astype(np.float64)
R = {'f32': lambda a: a.astype(np.float32).astype(np.float64), 'f16': lambda a: a.astype(np.float16).astype(np.float64), 'bf16': bf16}
def ln(x, g, b): m = x.mean(-1, keepdims=True); v = ((x - m) ** 2).mean(-1, keepdims=True); return (x - m) / np.sqrt(v + 1e-5) * g + b
def gelu(x): return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
def forward(w, cfg, ids, r):
    T = len(ids); d = cfg['hidden_size']; H = cfg['num_heads']; hd = d // H
    types = [t for pat, n in cfg['attention_types'] for _ in range(n) for t in pat]
    W = lambda k: r(w[k])
    x = W('wte.weight')[ids] + W('wpe.weight')[np.arange(T)]
    for l in range(cfg['num_layers']):
        p = 'h.%d.' % l
        h = ln(x, w[p + 'ln_1.weight'], w[p + 'ln_1.bias'])
        q = r(h) @ W(p + 'attn.attention.q_proj.weight').T; k = r(r(h) @ W(p + 'attn.attention.k_proj.weight').T); v = r(r(h) @ W(p + 'attn.attention.v_proj.weight').T)
        att = np.zeros((T, d))
        for hh in range(H):
            s = q[:, hh*hd:(hh+1)*hd] @ k[:, hh*hd:(hh+1)*hd].T
            i = np.arange(T)[:, None]; j = np.arange(T)[None, :]
            mask = j <= i
            if types[l] == 'local': mask &= j > i - cfg['window_size']
            s = np.where(mask, s, -np.inf); s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
            att[:, hh*hd:(hh+1)*hd] = s @ v[:, hh*hd:(hh+1)*hd]
        x = x + r(att) @ W(p + 'attn.attention.out_proj.weight').T + w[p + 'attn.attention.out_proj.bias']
        h = ln(x, w[p + 'ln_2.weight'], w[p + 'ln_2.bias'])
        m = gelu(r(h) @ W(p + 'mlp.c_fc.weight').T + w[p + 'mlp.c_fc.bias'])
        x = x + r(m) @ W(p + 'mlp.c_proj.weight').T + w[p + 'mlp.c_proj.bias']
    h = ln(x, w['ln_f.weight'], w['ln_f.bias'])
    return r(h) @ W('wte.weight').T
ident = lambda a: a
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
shared = os.environ.get('SHARED', os.path.join(root, '..', 'shared'))
demo_golden = json.load(open(shared + '/golden/demo_golden.json'))
for name, model, prompts in [
    ('tiny-neo', shared + '/golden/tiny-neo/causal-lm', [load(shared + '/golden/tiny-neo/golden.safetensors')['forward.%d.input_ids' % i] for i in range(4)]),
    ('demo', root + '/datasets-sample/models/gpt-neo-demo',
     [np.array(g['prompt_ids']) for g in demo_golden['greedy'][:4]] + [np.array(demo_golden['score']['input_ids'])])]:
    w = load(model + '/model.safetensors'); cfg = json.load(open(model + '/config.json'))
    for prec in ['f32', 'f16', 'bf16']:
        err = 0
        for ids in prompts:
            ids = np.asarray(ids).reshape(-1)
            ref = forward(w, cfg, ids, ident); got = forward(w, cfg, ids, R[prec])
            err = max(err, np.abs(ref - got).max())
        print(name, prec, 'max |logit error| %.4f' % err, flush=True)
