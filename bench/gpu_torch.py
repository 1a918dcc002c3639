#!/usr/bin/env python3
"""bench/gpu_torch.py - the PyTorch reference for bench/gpu.sh.

Trains the same VAE as the vae core (one hidden layer, bounded latent and
decoder log-variances, gaussian or bernoulli likelihood, summed per-row loss,
mean over the batch, Adam lr 1e-3) on the same rows (a float32 file written
by gpu_bench --dump), with the rows resident on the GPU, a fresh permutation
per epoch and no host synchronisation inside an epoch: the idiomatic fast
eager loop.  Normalization is done once up front, like vae's.

  gpu_torch.py --net mnist|kdd --batch N --rows N --epochs N --data FILE
               [--compile]

Prints one line of key=value pairs like gpu_bench: steady = rows x epochs / s
over epochs 2..E.
"""
import argparse
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


class Vae(torch.nn.Module):
    def __init__(self, dim, hidden, latent, gaussian, act):
        super().__init__()
        self.gaussian = gaussian
        self.act = torch.relu if act == "relu" else torch.tanh
        self.e1 = torch.nn.Linear(dim, hidden)
        self.eh = torch.nn.Linear(hidden, 2 * latent)
        self.d1 = torch.nn.Linear(latent, hidden)
        self.dh = torch.nn.Linear(hidden, 2 * dim if gaussian else dim)

    def forward(self, x, eps):
        mu, raw = self.eh(self.act(self.e1(x))).chunk(2, dim=1)
        lv = 8.0 * torch.tanh(raw / 8.0)
        z = mu + torch.exp(0.5 * lv) * eps
        out = self.dh(self.act(self.d1(z)))
        if self.gaussian:
            mean, rawx = out.chunk(2, dim=1)
            lvx = 5.0 * torch.tanh(rawx / 5.0)
            nll = 0.5 * (LOG_2PI + lvx + (x - mean) ** 2 * torch.exp(-lvx))
        else:
            nll = F.binary_cross_entropy_with_logits(out, x, reduction="none")
        kl = -0.5 * (1.0 + lv - mu * mu - torch.exp(lv))
        return (nll.sum(1) + kl.sum(1)).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--net", choices=["mnist", "kdd"], required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--data", required=True)
    ap.add_argument("--compile", action="store_true")
    a = ap.parse_args()

    if not torch.cuda.is_available():
        print("engine=torch skipped=\"torch.cuda is not available\"")
        return 0
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False   # vae trains in float32
    torch.backends.cudnn.allow_tf32 = False
    mnist = a.net == "mnist"
    dim = 784 if mnist else 118
    x = np.fromfile(a.data, dtype=np.float32).reshape(a.rows, dim)
    X = torch.from_numpy(x).to(dev)
    if not mnist:
        X = (X - X.mean(0)) / X.std(0).clamp_min(1e-6)
    torch.manual_seed(1)
    model = Vae(dim, 400 if mnist else 60, 20 if mnist else 10, not mnist,
                "relu" if mnist else "tanh").to(dev)
    try:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
        fused = 1
    except (TypeError, RuntimeError):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        fused = 0
    step_model = torch.compile(model) if a.compile else model
    latent = 20 if mnist else 10
    n, bs = a.rows, a.batch

    times = []
    total = torch.zeros((), device=dev, dtype=torch.float64)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(a.epochs):
        perm = torch.randperm(n, device=dev)
        total.zero_()
        for at in range(0, n, bs):
            xb = X[perm[at:at + bs]]
            eps = torch.randn(xb.shape[0], latent, device=dev)
            loss = step_model(xb, eps)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach().double() * xb.shape[0]
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        print(f"epoch {len(times)} loss {total.item() / n:.6f} at {times[-1]:.3f} s", file=sys.stderr)
    steady = n * (a.epochs - 1) / (times[-1] - times[0]) if a.epochs > 1 else 0.0
    print(f"engine=torch net={a.net} batch={bs} rows={n} epochs={a.epochs} fused_adam={fused} "
          f"compile={int(a.compile)} steady={steady:.1f} total={n * a.epochs / times[-1]:.1f} "
          f"seconds={times[-1]:.3f} torch={torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
