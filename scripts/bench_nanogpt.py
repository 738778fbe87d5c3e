"""Time nanoGPT's training step at the `baby` size in PyTorch on the CPU, for side-by-side figures with
`npm run bench -- --backend wasm --presets baby`:

    python3 scripts/bench_nanogpt.py --threads 1        # ms/step (and CPU ms/step), medians over the measured steps
    python3 scripts/bench_nanogpt.py --threads 1,2,4,8                # a scaling curve, one process
    python3 scripts/bench_nanogpt.py --device cuda --preset baby,small  # on an NVIDIA GPU, beside --backend webgpu

What train.py does each iteration with `--device=cpu --compile=False --n_layer=4 --n_head=4 --n_embd=128
--block_size=64 --batch_size=12 --dropout=0.0 --bias=False` (shakespeare_char's vocabulary of 65, its AdamW
betas 0.9/0.99, weight decay 0.1 on the 2-D weights, gradient clip 1.0): forward, cross-entropy, backward, clip,
step, zero_grad. The model is scripts/verify_nanogpt.py's GPT (nanoGPT's modules and layouts; its attention is
nanoGPT's own: PyTorch's fused scaled_dot_product_attention where it has one, else the explicit softmax, as on
Debian's 1.13). In float32 throughout, as the engine trains (nanoGPT's train.py would use bfloat16 autocast,
TF32 products and torch.compile on a GPU: faster, and not the same arithmetic). Random batches: the step's
cost does not depend on the text. Needs torch (Debian's python3-torch) and a real BLAS: Debian's torch calls the
system libblas, which is the reference BLAS (~5 GFLOP/s) unless OpenBLAS is installed; the README's figures load
OpenBLAS for this process only:

    LD_LIBRARY_PATH=.../openblas-pthread OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 scripts/bench_nanogpt.py --threads 1
"""
import argparse, statistics, time
import torch
import torch.nn.functional as F
from verify_nanogpt import GPT

# The engine's presets of the same names (src/engine/model/config.ts); small is nanoGPT's shakespeare_char model.
PRESETS = {
    "baby": dict(n_layer=4, n_head=4, n_embd=128, block_size=64),
    "small": dict(n_layer=6, n_head=6, n_embd=384, block_size=256),
}


def measure(a, threads, preset):
    """One model trained a.warmup + a.steps steps on `threads` threads (CPU) or the GPU: (median ms, median CPU ms)."""
    torch.set_num_threads(threads)
    torch.manual_seed(1337)
    args = dict(**PRESETS[preset], bias=False, vocab_size=65)
    dev = torch.device(a.device)
    # The GPU runs asynchronously: wait for its work before reading the clock (CPU time means nothing there).
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    model = GPT(args).to(dev)
    # nanoGPT's configure_optimizers: decay the ≥ 2-D parameters only.
    params = [q for q in model.parameters() if q.requires_grad]
    groups = [
        {"params": [q for q in params if q.dim() >= 2], "weight_decay": 0.1},
        {"params": [q for q in params if q.dim() < 2], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99))
    B, T = 12, args["block_size"]
    times, cpu = [], []
    for it in range(a.warmup + a.steps):
        x = torch.randint(0, 65, (B, T), device=dev)
        y = torch.randint(0, 65, (B, T), device=dev)
        sync()
        t0, c0 = time.perf_counter(), time.process_time()
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, 65), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync()
        if it >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    # CPU time (every thread of the process): on a busy machine, the one-thread figure that waiting does not inflate.
    where = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"{torch.get_num_threads()} thread(s)"
    ms = statistics.median(times)
    print(f"nanoGPT {preset}, PyTorch {torch.__version__}, {where}: {ms:.1f} ms/step (CPU {statistics.median(cpu):.1f}; median of {a.steps}), {B * T * 1000 / ms:.0f} tok/s", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", default="1", help="a thread count, or several separated by commas (1,2,4,8): each in turn")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--preset", default="baby", help="baby or small, or both separated by a comma")
    p.add_argument("--device", default="cpu", help="cpu, or cuda for a GPU's figure beside `npm run bench -- --backend webgpu`")
    a = p.parse_args()
    for preset in a.preset.split(","):
        if preset not in PRESETS:
            p.error(f"--preset takes {' or '.join(PRESETS)}, not {preset}")
        for threads in [int(t) for t in a.threads.split(",")]:
            measure(a, threads, preset)


if __name__ == "__main__":
    main()
