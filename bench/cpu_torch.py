#!/usr/bin/python3
"""cpu_torch.py - the PyTorch (CPU) reference for bench/cpu.sh.

    cpu_torch.py train OPTIONS_JSON DATA.npy THREADS
    cpu_torch.py score OPTIONS_JSON DATA.npy THREADS METHOD     (mse | recon_prob)

OPTIONS_JSON is the very options object given to vae_train (hidden,
latent_dim, likelihood, activation, epochs, batch_size, learning_rate,
mc_samples), so both sides build the same network.  DATA.npy holds the rows
(float32, already in the units vae trains on: the benchmark uses normalize
'none').  Prints one JSON object: {"seconds": ..., "value": ...}, where
seconds covers only the training loop (or the scoring pass), not start-up
or loading, and value is the last epoch's mean loss (or the score sum);
scoring also prints cpu_seconds, the process's CPU time over the pass (all
threads), the figure bench/cpu.sh's one-core comparison uses.

THREADS goes to torch.set_num_threads() (and the caller sets OMP_NUM_THREADS
to match).  This torch build does its GEMMs in the system OpenBLAS, whose
thread pool set_num_threads() does not size: the caller sets
OPENBLAS_NUM_THREADS for that (cpu_bench.py tries several combinations).

The network mirrors the extension's (src/core/vc_nn.c): encoder hidden
layers + head of 2*latent (mean, log-variance), reparameterization, decoder
hidden layers (reversed) + head of D (bernoulli logits) or 2*D (gaussian mean,
log-variance); log-variances soft-bounded as B*tanh(raw/B), B = 8 for the
latent and 5 for the decoder (vc.h); loss = summed
reconstruction NLL + KL, averaged over the batch; Adam; a fresh
torch.randperm order each epoch, minibatches gathered by index.
"""
import json
import math
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

LATENT_LOGVAR_BOUND = 8.0     # VC_LATENT_LOGVAR_BOUND
DECODER_LOGVAR_BOUND = 5.0    # VC_DECODER_LOGVAR_BOUND
LOG_2PI = math.log(2 * math.pi)


def bound(raw, b):
    return b * torch.tanh(raw / b)


class Vae(nn.Module):
    def __init__(self, opts, dim):
        super().__init__()
        act = nn.ReLU if opts["activation"] == "relu" else nn.Tanh
        self.gaussian = opts["likelihood"] == "gaussian"
        self.latent = opts["latent_dim"]
        self.dim = dim

        def mlp(widths):
            layers = []
            for i in range(len(widths) - 1):
                layers.append(nn.Linear(widths[i], widths[i + 1]))
                if i < len(widths) - 2:
                    layers.append(act())
            return nn.Sequential(*layers)

        hidden = list(opts["hidden"])
        self.enc = mlp([dim] + hidden + [2 * self.latent])
        self.dec = mlp([self.latent] + hidden[::-1] + [(2 if self.gaussian else 1) * dim])

    def encode(self, x):
        h = self.enc(x)
        return h[:, :self.latent], bound(h[:, self.latent:], LATENT_LOGVAR_BOUND)

    def decode(self, z):
        """(mean or logits, log-variance or None) of p(x | z)"""
        h = self.dec(z)
        if self.gaussian:
            return h[:, :self.dim], bound(h[:, self.dim:], DECODER_LOGVAR_BOUND)
        return h, None

    def recon_nll(self, x, head, lv):
        """per-row negative log-likelihood of x"""
        if self.gaussian:
            return 0.5 * (LOG_2PI + lv + (x - head) ** 2 * torch.exp(-lv)).sum(-1)
        return F.binary_cross_entropy_with_logits(head, x, reduction="none").sum(-1)

    def loss(self, x):
        mu, lvz = self.encode(x)
        z = mu + torch.exp(0.5 * lvz) * torch.randn_like(mu)
        head, lv = self.decode(z)
        kl = -0.5 * (1 + lvz - mu * mu - torch.exp(lvz)).sum(-1)
        return (self.recon_nll(x, head, lv) + kl).mean()


def train(opts, x):
    model = Vae(opts, x.shape[1])
    optim = torch.optim.Adam(model.parameters(), lr=opts["learning_rate"])
    n, bs = x.shape[0], opts["batch_size"]
    t0 = time.perf_counter()
    for _ in range(opts["epochs"]):
        perm = torch.randperm(n)
        total = 0.0
        for at in range(0, n, bs):
            xb = x[perm[at:at + bs]]
            loss = model.loss(xb)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            total += loss.item() * xb.shape[0]
    return time.perf_counter() - t0, total / n


@torch.inference_mode()
def score(opts, x, method, chunk=8192):
    """sum over rows of the score, as vae_score(model, f, method) computes it:
    (wall seconds, the sum, CPU seconds)"""
    model = Vae(opts, x.shape[1])
    L = opts.get("mc_samples", 10)
    t0 = time.perf_counter()
    c0 = time.process_time()
    total = 0.0
    for at in range(0, x.shape[0], chunk):
        xb = x[at:at + chunk]
        mu, lvz = model.encode(xb)
        if method == "mse":
            head, _ = model.decode(mu)
            mean = head if model.gaussian else torch.sigmoid(head)
            total += ((xb - mean) ** 2).mean(-1).sum().item()
        else:  # recon_prob: -log (1/L) sum_l p(x | z_l), z_l ~ q(z | x)
            z = mu + torch.exp(0.5 * lvz) * torch.randn(L, *mu.shape)
            head, lv = model.decode(z.reshape(-1, model.latent))
            nll = model.recon_nll(xb.repeat(L, 1), head, lv).reshape(L, -1)
            total += -(torch.logsumexp(-nll, 0) - math.log(L)).sum().item()
    return time.perf_counter() - t0, total, time.process_time() - c0


def main(argv):
    if len(argv) < 5 or argv[1] not in ("train", "score"):
        sys.exit(__doc__)
    cmd, opts, path, threads = argv[1], json.loads(argv[2]), argv[3], int(argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(opts.get("seed", 0))
    x = torch.from_numpy(np.load(path))
    if cmd == "train":
        seconds, value = train(opts, x)
        print(json.dumps({"seconds": seconds, "value": value}))
    else:
        seconds, value, cpu_seconds = score(opts, x, argv[5])
        print(json.dumps({"seconds": seconds, "value": value, "cpu_seconds": cpu_seconds}))


if __name__ == "__main__":
    main(sys.argv)
