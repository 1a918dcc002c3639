#!/usr/bin/env python3
"""bench/gpu_bench.py - driver and report of bench/gpu.sh (see there)."""
import os
import shlex
import socket
import subprocess
import sys
import time

TMP = os.environ["BENCH_TMP"]
QUICK = os.environ.get("QUICK") == "1"
EPOCHS = int(os.environ.get("EPOCHS", "3" if QUICK else "5"))
PYTHON = sys.executable


def kv(line):
    out = {}
    for tok in shlex.split(line):
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


def run(cmd, timeout=1800):
    print("$ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        print(p.stderr[-2000:], flush=True)
        return None
    lines = [l for l in p.stdout.splitlines() if "=" in l]
    return kv(lines[-1]) if lines else None


def throughput():
    nets = [("mnist", 20000 if QUICK else 60000), ("kdd", 100000 if QUICK else 494021)]
    rows_out = []
    for net, rows in nets:
        data = os.path.join(TMP, f"{net}.f32")
        subprocess.run([os.path.join(TMP, "gpu_bench"), "--net", net, "--rows", str(rows),
                        "--dump", data], check=True)
        for batch in (128, 1024):
            common = ["--net", net, "--batch", str(batch), "--rows", str(rows),
                      "--epochs", str(EPOCHS)]
            vae = run([os.path.join(TMP, "gpu_bench")] + common)
            vae_ng = run([os.path.join(TMP, "gpu_bench")] + common + ["--graphs", "0"])
            torch = run([PYTHON, "bench/gpu_torch.py"] + common + ["--data", data])
            rows_out.append((net, batch, vae, vae_ng, torch))
    print()
    print(f"{'network':28s} {'batch':>5s} {'vae cuda':>12s} {'no graphs':>12s} {'pytorch':>12s} "
          f"{'ratio':>6s} {'goal':>5s}")
    ok_all = True
    for net, batch, vae, vae_ng, torch in rows_out:
        name = "784-400-20 bernoulli relu" if net == "mnist" else "118-60-10 gaussian tanh"

        def f(r):
            return float(r["steady"]) if r and "steady" in r else float("nan")
        ratio = f(vae) / f(torch)
        goal = 1.5 if batch == 128 else 1.0
        met = ratio >= goal
        ok_all &= met
        print(f"{name:28s} {batch:5d} {f(vae):12.0f} {f(vae_ng):12.0f} {f(torch):12.0f} "
              f"{ratio:6.2f} {'met' if met else 'MISSED':>5s}")
    print("(rows x epochs / s over epochs 2..E; ratio = vae cuda / pytorch; goal >= 1.5 at "
          "batch 128, >= 1.0 at batch 1024)")
    return ok_all


def daemon_cmd(sock, backend):
    binary = os.environ.get("VAE_GPUD")
    if not binary:
        for cand in ("build/gpu/vae_gpud", "build/vae_gpud", "src/gpu/vae_gpud"):
            if os.access(cand, os.X_OK):
                binary = cand
                break
    if not binary:
        return None
    args = os.environ.get("VAE_GPUD_ARGS", "--socket {socket} --backend {backend}")
    return [binary] + shlex.split(args.replace("{socket}", sock).replace("{backend}", backend))


def e2e_one(backend, rows, epochs, batch):
    sock = os.path.join(TMP, f"gpud-{backend}.sock")
    cmd = daemon_cmd(sock, backend)
    if cmd is None:
        print("e2e: vae_gpud not built (set VAE_GPUD): skipped")
        return None
    print("$ " + " ".join(cmd), flush=True)
    d = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(sock + ".log", "w"))
    try:
        for _ in range(300):
            if os.path.exists(sock):
                break
            if d.poll() is not None:
                print(f"e2e: vae_gpud exited ({d.returncode}):\n" + open(sock + ".log").read()[-2000:])
                return None
            time.sleep(0.1)
        return run([os.path.join(TMP, "gpu_e2e"), sock, str(rows), "118", str(epochs), str(batch)]
                   + ([os.environ["VAE_GPUD_SECRET"]] if os.environ.get("VAE_GPUD_SECRET") else []),
                   timeout=3600)
    finally:
        d.terminate()
        try:
            d.wait(10)
        except subprocess.TimeoutExpired:
            d.kill()


def e2e():
    if os.environ.get("BENCH_HAVE_E2E") != "1":
        print("e2e: src/protocol/vgp_protocol.c not present: skipped")
        return True
    rows = int(os.environ.get("E2E_ROWS", "200000" if QUICK else "1000000"))
    # -1: as a user who gives no options gets them (batch 128, epochs from the rows)
    epochs = int(os.environ.get("E2E_EPOCHS", "2" if QUICK else "-1"))
    batch = int(os.environ.get("E2E_BATCH", "-1"))
    cuda = e2e_one("cuda", rows, epochs, batch)
    cpu = e2e_one("cpu", rows, epochs, batch)
    if not cuda or not cpu:
        print("e2e: incomplete")
        return False
    ratio = float(cpu["seconds"]) / float(cuda["seconds"])
    print()
    print(f"end to end, {rows} KDD-like rows, {cuda.get('epochs')} epochs, "
          f"batch {batch if batch > 0 else 'default'}: "
          f"cuda {float(cuda['seconds']):.2f} s, cpu {float(cpu['seconds']):.2f} s, "
          f"speed-up {ratio:.1f}x (goal >= 5x: {'met' if ratio >= 5 else 'MISSED'})")
    return ratio >= 5


def main():
    t = throughput()
    e = e2e()
    print("gpu.sh: goals " + ("met" if t and e else "not all met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
