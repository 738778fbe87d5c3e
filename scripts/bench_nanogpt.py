"""Time nanoGPT's training step at the `baby` size in PyTorch on the CPU, for side-by-side figures with
`npm run bench -- --backend wasm --presets baby`:

    python3 scripts/bench_nanogpt.py --threads 1        # ms/step (and CPU ms/step), medians over the measured steps
    python3 scripts/bench_nanogpt.py --threads 2

What train.py does each iteration with `--device=cpu --compile=False --n_layer=4 --n_head=4 --n_embd=128
--block_size=64 --batch_size=12 --dropout=0.0 --bias=False` (shakespeare_char's vocabulary of 65, its AdamW
betas 0.9/0.99, weight decay 0.1 on the 2-D weights, gradient clip 1.0): forward, cross-entropy, backward, clip,
step, zero_grad. The model is scripts/verify_nanogpt.py's GPT (nanoGPT's modules and layouts; its attention is
nanoGPT's own path where PyTorch has no fused attention, as Debian's 1.13 has not). Random batches: the step's
cost does not depend on the text. Needs torch (Debian's python3-torch) and a real BLAS: Debian's torch calls the
system libblas, which is the reference BLAS (~5 GFLOP/s) unless OpenBLAS is installed; the README's figures load
OpenBLAS for this process only:

    LD_LIBRARY_PATH=.../openblas-pthread OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 scripts/bench_nanogpt.py --threads 1
"""
import argparse, statistics, time
import torch
import torch.nn.functional as F
from verify_nanogpt import GPT


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1337)
    args = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, bias=False, vocab_size=65)
    model = GPT(args)
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
        x = torch.randint(0, 65, (B, T))
        y = torch.randint(0, 65, (B, T))
        t0, c0 = time.perf_counter(), time.process_time()
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, 65), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if it >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    ms = statistics.median(times)
    # CPU time (every thread of the process): on a busy machine, the one-thread figure that waiting does not inflate.
    print(f"nanoGPT baby, PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s): {ms:.1f} ms/step (CPU {statistics.median(cpu):.1f}; median of {a.steps}), {B * T * 1000 / ms:.0f} tok/s")


if __name__ == "__main__":
    main()
