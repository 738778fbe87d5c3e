"""Check an exported .safetensors against PyTorch: load it into a GPT built with nanoGPT's module names and
layouts (strict load: every name and shape must match), then print the mean next-token cross-entropy over every
non-overlapping window of a text -- the number `npm run cli -- eval --ckpt FILE --text TEXT` prints.

    python3 scripts/verify_nanogpt.py model.safetensors some.txt

Needs torch and numpy (not the safetensors package: the file is read by load_safetensors, the function the
README's "Use your model in nanoGPT" shows, kept identical by test/cli-nanogpt.test.ts). Reads F32 and F16
files. Not part of `npm test`: CI has no torch.
"""
import json, math, struct, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_safetensors(path):
    """(state_dict, metadata) of a .safetensors file: 8-byte length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        data = f.read()
    meta = header.pop("__metadata__", {})
    types = {"F32": "<f4", "F16": "<f2"}
    state = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        a = np.frombuffer(data[begin:end], dtype=types[e["dtype"]]).astype(np.float32)
        state[name] = torch.from_numpy(a.reshape(e["shape"]))
    return state, meta


class LayerNorm(nn.Module):
    def __init__(self, n, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class Attention(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.c_attn = nn.Linear(a["n_embd"], 3 * a["n_embd"], bias=a["bias"])
        self.c_proj = nn.Linear(a["n_embd"], a["n_embd"], bias=a["bias"])
        self.n_head = a["n_head"]

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if hasattr(F, "scaled_dot_product_attention"):  # nanoGPT's "flash" path, where PyTorch has it (2.0+)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
            att = att.masked_fill(torch.ones(T, T, device=x.device).tril() == 0, float("-inf")).softmax(-1)
            y = att @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.c_fc = nn.Linear(a["n_embd"], 4 * a["n_embd"], bias=a["bias"])
        self.c_proj = nn.Linear(4 * a["n_embd"], a["n_embd"], bias=a["bias"])

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.ln_1, self.attn = LayerNorm(a["n_embd"], a["bias"]), Attention(a)
        self.ln_2, self.mlp = LayerNorm(a["n_embd"], a["bias"]), MLP(a)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(a["vocab_size"], a["n_embd"]),
            wpe=nn.Embedding(a["block_size"], a["n_embd"]),
            h=nn.ModuleList([Block(a) for _ in range(a["n_layer"])]),
            ln_f=LayerNorm(a["n_embd"], a["bias"]),
        ))
        self.lm_head = nn.Linear(a["n_embd"], a["vocab_size"], bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT

    def forward(self, idx):
        T = idx.size(1)
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T, device=idx.device))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def main(path, text_path):
    tensors, meta = load_safetensors(path)
    args = json.loads(meta["model_args"])
    itos = json.loads(meta["itos"])
    model = GPT(args)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    stoi = {c: i for i, c in enumerate(itos)}
    unk = stoi.get("\ufffd")
    ids = [stoi.get(c, unk) for c in open(text_path, encoding="utf-8").read()]
    ids = [i for i in ids if i is not None]
    T = args["block_size"]
    n = (len(ids) - 1) // T
    x = torch.tensor([ids[i * T : i * T + T] for i in range(n)])
    y = torch.tensor([ids[i * T + 1 : i * T + T + 1] for i in range(n)])
    with torch.no_grad():
        loss = F.cross_entropy(model(x).view(-1, len(itos)), y.view(-1))
    print(f"windows {n} of {T} tokens")
    print(f"loss {loss.item():.6f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
