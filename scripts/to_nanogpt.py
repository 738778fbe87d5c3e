"""Continue a model exported from the page or the CLI on nanoGPT (PyTorch; torchrun for many GPUs).

    python3 scripts/to_nanogpt.py model.safetensors OUT [--data corpus.txt] [--dataset NAME] [--unknown error|map|drop]
                                  [--mask-buffers auto|yes|no]

writes into the folder OUT:
    ckpt.pt          nanoGPT's checkpoint: model (state dict), model_args, iter_num, best_val_loss, config, and
                     an optimizer state with nanoGPT's two AdamW groups and no moments (the file holds none: they
                     restart from zero, as on a fresh run)
    meta.pkl         the vocabulary as nanoGPT's char datasets keep it ({vocab_size, itos, stoi}), for sample.py
    train.bin        with --data: the text encoded with the exported vocabulary, uint16, first 90%
    val.bin          ... and the last 10%, split as nanoGPT's shakespeare_char/prepare.py splits it
    resume_config.py a nanoGPT config file with the settings a resume must keep (context, dataset, out_dir)

OUT serves as nanoGPT's out_dir and as its data/NAME folder (link it there); train.py --init_from=resume then
continues from the exported step. NAME defaults to OUT's folder name. Characters of --data outside the vocabulary
are an error unless --unknown says to map them to the unknown token (when the vocabulary has one) or drop them.

Needs torch and numpy only: the file is read by scripts/verify_nanogpt.py's load_safetensors (F32 and F16).
"""
import argparse, json, os, pickle, struct, sys
import numpy as np
import torch

sys.dont_write_bytecode = True  # importing verify_nanogpt leaves no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verify_nanogpt import GPT, load_safetensors  # noqa: E402

UNKNOWN = "\ufffd"  # the unknown token of a vocabulary built by the app (id 0)


class ConvertError(Exception):
    pass


def read_model(path):
    """(model_args, itos, training, state) of an exported file, validated by a strict load into nanoGPT's layout."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
    # load_safetensors trusts the header length; a file that is no safetensors would make it read garbage sizes.
    if len(head) < 8 or struct.unpack("<Q", head)[0] > size - 8:
        raise ConvertError(f"{path} is not a readable .safetensors file (its header length does not fit its {size} bytes)")
    try:
        state, meta = load_safetensors(path)
    except (OSError, ValueError, KeyError, struct.error) as e:
        raise ConvertError(f"{path} is not a readable .safetensors file ({e})")
    if "tokenizer" in meta and json.loads(meta["tokenizer"]).get("kind") == "bpe":
        raise ConvertError(f"{path} uses a BPE tokenizer: this script writes nanoGPT's character-level meta.pkl, so it converts character models only (the weights load in nanoGPT as they are; see the README for decoding a BPE vocabulary)")
    for key in ("model_args", "itos"):
        if key not in meta:
            raise ConvertError(f'{path} has no "{key}" in its metadata: export it from the page or with the CLI (--out)')
    args = json.loads(meta["model_args"])
    itos = json.loads(meta["itos"])
    training = json.loads(meta.get("training", "{}"))
    if len(itos) != args["vocab_size"]:
        raise ConvertError(f"itos has {len(itos)} tokens but model_args.vocab_size is {args['vocab_size']}")
    if args["vocab_size"] > 65536:
        raise ConvertError(f"vocab_size {args['vocab_size']} does not fit nanoGPT's uint16 token files")
    args.setdefault("bias", "transformer.ln_f.bias" in state)
    args.setdefault("dropout", 0.0)
    state = {k.replace("_orig_mod.", "", 1): v for k, v in state.items()}
    model = GPT(args)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ConvertError(f"{path} does not hold the model its model_args describe: {e}")
    return args, itos, training, model


def optimizer_state(model, lr, betas, weight_decay):
    """An AdamW state dict shaped as nanoGPT's configure_optimizers makes it (weights of >= 2 dims decay, the rest
    not), with no moments: train.py's optimizer.load_state_dict needs the groups to match its own."""
    params = [p for _, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=betas).state_dict()


def encode(text, stoi, unknown):
    """Ids of text's characters; characters outside the vocabulary per --unknown."""
    missing = {}
    ids = []
    unk = stoi.get(UNKNOWN)
    for ch in text:
        i = stoi.get(ch) if ch != UNKNOWN else None
        if i is None:
            missing[ch] = missing.get(ch, 0) + 1
            if unknown == "map":
                ids.append(unk)
            continue
        ids.append(i)
    if missing:
        shown = ", ".join(f"{c!r} x{n}" for c, n in sorted(missing.items(), key=lambda kv: -kv[1])[:10])
        total = sum(missing.values())
        if unknown == "error":
            raise ConvertError(
                f"{total} character(s) of the text are not in the model's vocabulary ({shown}); "
                "pass --unknown map (to the unknown token) or --unknown drop"
            )
        if unknown == "map" and unk is None:
            raise ConvertError(f"the vocabulary has no unknown token to map {total} character(s) to ({shown}); pass --unknown drop")
        print(f"{total} character(s) outside the vocabulary {'mapped to the unknown token' if unknown == 'map' else 'dropped'}: {shown}")
    return np.array(ids, dtype=np.uint16)


def convert(path, out, data=None, dataset=None, unknown="error", mask_buffers="auto"):
    args, itos, training, model = read_model(path)
    out = os.path.abspath(out)
    dataset = dataset or os.path.basename(out.rstrip(os.sep))
    stoi = {c: i for i, c in enumerate(itos)}

    # Read and encode the text before writing anything: a bad text leaves no half-written folder.
    bins = None
    if data is not None:
        with open(data, encoding="utf-8") as f:
            text = f.read()
        n = len(text)
        # Split the characters 90/10 then encode, as shakespeare_char/prepare.py (one id per character).
        bins = encode(text[: int(n * 0.9)], stoi, unknown), encode(text[int(n * 0.9):], stoi, unknown)
        if len(bins[1]) < args["block_size"] + 1:
            raise ConvertError(
                f"the validation tenth of {data} has {len(bins[1])} tokens; nanoGPT's batches need more than the "
                f"context ({args['block_size']}): use a longer text"
            )

    step = int(training.get("step", 0))
    losses = training.get("losses") or {}
    lr = float(training.get("lr", 1e-3))
    batch = int(training.get("batch", 12))
    betas, weight_decay = (0.9, 0.99), 0.1  # the app's AdamW (src/engine/train/adamw.ts), as shakespeare_char
    config = {
        # train.py's config: sample.py reads "dataset" to find meta.pkl; the rest records how this model trained.
        "out_dir": out, "dataset": dataset, "init_from": "resume",
        "batch_size": batch, "block_size": args["block_size"], "gradient_accumulation_steps": 1,
        "n_layer": args["n_layer"], "n_head": args["n_head"], "n_embd": args["n_embd"],
        "dropout": args["dropout"], "bias": args["bias"],
        "learning_rate": lr, "beta1": betas[0], "beta2": betas[1], "weight_decay": weight_decay, "grad_clip": 1.0,
        "exported_from": training,
    }
    state = model.state_dict()
    if mask_buffers == "yes" or (mask_buffers == "auto" and not hasattr(torch.nn.functional, "scaled_dot_product_attention")):
        # nanoGPT on PyTorch < 2.0 (no flash attention) keeps its causal mask as a buffer, attn.bias, which its
        # strict load_state_dict then requires; PyTorch >= 2.0 has none and refuses it. "auto" matches this torch.
        T = args["block_size"]
        for i in range(args["n_layer"]):
            state[f"transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(T, T)).view(1, 1, T, T)
        print("PyTorch < 2.0: the checkpoint carries nanoGPT's attn.bias mask buffers (use it with this PyTorch, "
              "or convert again with --mask-buffers no for PyTorch >= 2.0)" if mask_buffers == "auto" else
              "the checkpoint carries nanoGPT's attn.bias mask buffers (for PyTorch < 2.0)")
    ckpt = {
        "model": state,
        "optimizer": optimizer_state(model, lr, betas, weight_decay),
        "model_args": {k: args[k] for k in ("n_layer", "n_head", "n_embd", "block_size", "bias", "vocab_size", "dropout")},
        "iter_num": step,
        "best_val_loss": float(losses.get("val", 1e9)),
        "config": config,
    }

    os.makedirs(out, exist_ok=True)
    torch.save(ckpt, os.path.join(out, "ckpt.pt"))
    with open(os.path.join(out, "meta.pkl"), "wb") as f:
        pickle.dump({"vocab_size": len(itos), "itos": dict(enumerate(itos)), "stoi": stoi}, f)
    if bins is not None:
        bins[0].tofile(os.path.join(out, "train.bin"))
        bins[1].tofile(os.path.join(out, "val.bin"))
    with open(os.path.join(out, "resume_config.py"), "w", encoding="utf-8") as f:
        f.write(
            "# nanoGPT config: python train.py THIS_FILE [--more=overrides]. Written by scripts/to_nanogpt.py.\n"
            f"init_from = 'resume'\nout_dir = {out!r}\ndataset = {dataset!r}  # data/{dataset} must be (a link to) {out}\n"
            f"block_size = {args['block_size']}  # the model's context: longer batches would not fit it\n"
            f"batch_size = {batch}\ngradient_accumulation_steps = 1\n"
            f"beta2 = {betas[1]!r}\ndropout = {args['dropout']!r}\n"
            "# A tenth of the exported run's peak rate (where the app's cosine schedule ends), held: nanoGPT's schedule counts from\n"
            "# iteration 0, and the optimizer's moments restart from zero. For a longer run set your own\n"
            "# learning_rate, decay_lr = True, lr_decay_iters and min_lr.\n"
            f"learning_rate = {lr / 10!r}\ndecay_lr = False\n"
            f"# train.py evaluates when iter_num % eval_interval == 0: pick a divisor of {step} to start with one\n"
        )
    print(f"wrote {out}: ckpt.pt (step {step}), meta.pkl ({len(itos)} tokens)"
          + (f", train.bin ({len(bins[0])} tokens), val.bin ({len(bins[1])} tokens)" if bins is not None else ""))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description="Turn an exported .safetensors model into a nanoGPT out_dir / data folder.")
    p.add_argument("model", help="the exported .safetensors file")
    p.add_argument("out", help="the folder to write (nanoGPT's out_dir, and its data/NAME)")
    p.add_argument("--data", help="a UTF-8 text to encode into train.bin / val.bin with the model's vocabulary")
    p.add_argument("--dataset", help="the dataset name nanoGPT will know the folder by (default: the folder's name)")
    p.add_argument("--unknown", choices=("error", "map", "drop"), default="error",
                   help="characters of --data outside the vocabulary: refuse (default), map to the unknown token, or drop")
    p.add_argument("--mask-buffers", choices=("auto", "yes", "no"), default="auto",
                   help="write nanoGPT's attn.bias mask buffers (its model has them on PyTorch < 2.0 only); "
                        "auto: when this PyTorch is older than 2.0")
    a = p.parse_args(argv)
    try:
        convert(a.model, a.out, a.data, a.dataset, a.unknown, a.mask_buffers)
    except (ConvertError, OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
