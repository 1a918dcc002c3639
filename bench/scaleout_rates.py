#!/usr/bin/env python3
"""bench/scaleout_rates.py - the per-core rates behind the scale-out model of
docs/scale-out.md ("Throughput model"), measured on a KDD-like table in the
server bench/scaleout_rates.sh starts (PGHOST etc. set), then that model
evaluated for 10^9 rows.

Rates (server-side Execution Time of EXPLAIN ANALYZE, best of REPS; one
backend, no parallel workers):
  scan      SELECT sum(f[1]) FROM kdd: the reference, reading the same arrays
  score     SELECT sum(vae_score(m, f, method)) FROM kdd, per method
  sample    vae_train(f, {max_rows: K_SMALL, epochs: 5}) over all the rows:
            what a shard does for sample-merge training (hash every row,
            keep the bottom k), plus training on K_SMALL rows (a few tens of
            ms): a lower bound of the sampling rate
  train     rows x epochs / s of vae_train(f, {epochs: E}), from the
            difference between 2E and E epochs (the fixed costs, such as
            scoring the training sample at the end, cancel); the backend's
            two-thread team, so per core is about half
  receive   rows / s a coordinator pulls through postgres_fdw (a loopback
            foreign table): (id, score) rows; the 118-wide real[] rows that
            training without sampling ships (as text: float4out and
            float4in per value); and (id, 472-byte bytea) rows, the size of
            a sampled row in a binary aggregate state
Every rate is also printed as a ratio to the scan in the same run: the
machine may be shared, only those ratios are comparable between runs.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np

QUICK = os.environ.get("QUICK") == "1"
ROWS = 20000 if QUICK else 100000
REPS = 1 if QUICK else 3
EPOCHS = 3
K_SMALL = 200
OPTS = {"hidden": [60], "latent_dim": 10, "likelihood": "gaussian", "activation": "tanh",
        "mc_samples": 10, "batch_size": 128, "validation_fraction": 0, "seed": 1,
        "device": "cpu"}
# the model of docs/scale-out.md, evaluated for:
N = 10 ** 9                                      # rows
WORKER_CORES = int(os.environ.get("WORKER_CORES", "16"))
SHARDS = 32
K = 1_000_000                                    # max_rows of sample-merge training
TRAIN_EPOCHS = 10


def psql(script):
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                       input=script, text=True, capture_output=True)
    if p.returncode != 0:
        sys.exit(f"scaleout_rates: psql failed:\n{script[:2000]}\n{p.stderr}")
    return p.stdout


def exec_seconds(query, settings=""):
    """best server-side Execution Time of REPS runs of query, in seconds"""
    best = None
    for _ in range(REPS):
        out = psql(f"SET max_parallel_workers_per_gather = 0; {settings}\n"
                   f"EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) {query};\n")
        t = float(re.search(r"Execution Time: ([0-9.]+) ms", out).group(1)) / 1000
        best = t if best is None else min(best, t)
    return best


def kdd_like(n, rng):
    """KDD Cup 99 as usually one-hot encoded (as bench/cpu_bench.py): three
    categorical columns of 3, 70 and 11 values one-hot, and 34 continuous
    features, as multiples of 1/32 in [-4, 4]"""
    parts = []
    for k in (3, 70, 11):
        p = 1.0 / np.arange(1, k + 1)
        parts.append(np.eye(k, dtype=np.int16)[rng.choice(k, size=n, p=p / p.sum())] * 32)
    scale = rng.uniform(0.3, 1.5, 34)
    parts.append(np.clip(np.round(rng.standard_normal((n, 34)) * scale * 32), -128, 128))
    return np.concatenate(parts, axis=1).astype(np.int16)


def load():
    codes = kdd_like(ROWS, np.random.default_rng(1))
    path = os.path.join(os.environ["BENCH_TMP"], "kdd.txt")
    text = [np.format_float_positional(v / 32, trim="-") for v in range(-128, 129)]
    with open(path, "w") as f:
        for i, row in enumerate(codes.tolist()):
            f.write(f"{i}\t{{" + ",".join(text[c + 128] for c in row) + "}\n")
    psql("CREATE EXTENSION vae; CREATE EXTENSION postgres_fdw;\n"
         "CREATE TABLE kdd (id int, f real[]);\n"
         f"\\copy kdd FROM '{path}'\n"
         "VACUUM (FREEZE, ANALYZE) kdd;\n"
         "CREATE TABLE kdd_model AS SELECT vae_train(f, "
         f"'{json.dumps(dict(OPTS, epochs=EPOCHS))}') AS model FROM kdd;\n"
         "CREATE TABLE kdd_scores AS SELECT id, vae_score((SELECT model FROM kdd_model), f, 'mse') AS s "
         "FROM kdd;\n"
         # a loopback foreign server: what a coordinator receives, per row
         f"CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '{os.environ['PGHOST']}', "
         f"port '{os.environ['PGPORT']}', dbname '{os.environ['PGDATABASE']}', fetch_size '10000');\n"
         "CREATE USER MAPPING FOR CURRENT_USER SERVER loop OPTIONS (user 'postgres');\n"
         "CREATE FOREIGN TABLE kdd_ft (id int, f real[]) SERVER loop OPTIONS (table_name 'kdd');\n"
         "CREATE FOREIGN TABLE kdd_scores_ft (id int, s float8) SERVER loop "
         "OPTIONS (table_name 'kdd_scores');\n"
         "CREATE TABLE kdd_bin AS SELECT id, decode(repeat(md5(id::text), 15), 'hex') AS b FROM kdd;\n"
         "CREATE FOREIGN TABLE kdd_bin_ft (id int, b bytea) SERVER loop OPTIONS (table_name 'kdd_bin');\n")
    os.unlink(path)


def main():
    load()
    m = "(SELECT model FROM kdd_model)"
    rates = {}
    rates["scan"] = ROWS / exec_seconds("SELECT sum(f[1]) FROM kdd")
    for method in ("mse", "recon_prob", "elbo"):
        rates[f"score {method}"] = ROWS / exec_seconds(
            f"SELECT sum(vae_score({m}, f, '{method}'::vae_method)) FROM kdd")
    sampled = f"SELECT vae_train(f, '{json.dumps(dict(OPTS, epochs=5, max_rows=K_SMALL))}') FROM "
    rates["sample (max_rows 200)"] = ROWS / exec_seconds(sampled + "kdd")
    train = "SELECT vae_train(f, '{}') FROM kdd"
    t1 = exec_seconds(train.format(json.dumps(dict(OPTS, epochs=EPOCHS))))
    t2 = exec_seconds(train.format(json.dumps(dict(OPTS, epochs=2 * EPOCHS))))
    rates["train (rows x epochs)"] = ROWS * EPOCHS / max(t2 - t1, 1e-6)
    rates["receive (id, score)"] = ROWS / exec_seconds("SELECT * FROM kdd_scores_ft")
    rates["receive (id, real[118])"] = ROWS / exec_seconds("SELECT * FROM kdd_ft")
    rates["receive (id, bytea 472 B)"] = ROWS / exec_seconds("SELECT * FROM kdd_bin_ft")

    print(f"Per-core rates, KDD-like 118-60-10 tanh gaussian, {ROWS:,} rows, best of {REPS}")
    print(f"  {'what':28} {'rows/s':>12} {'vs scan':>9}")
    for k, v in rates.items():
        print(f"  {k:28} {v:12,.0f} {v / rates['scan']:9.4f}")

    # the model (docs/scale-out.md, "Throughput model"): W workers of c
    # cores; one backend per shard task (Citus) or foreign partition
    # (postgres_fdw, whose remote cursors never use parallel query), so a
    # query uses min(W c, S) cores for S shards
    c = WORKER_CORES
    recv_text = rates["receive (id, real[118])"]
    recv_bin = rates["receive (id, bytea 472 B)"]
    train = rates["train (rows x epochs)"]
    full = N / recv_text + N * TRAIN_EPOCHS / train
    print(f"\nModel for N = {N:.0e} rows, workers of {c} cores, sample-merge k = {K:,}, "
          f"{TRAIN_EPOCHS} epochs; hours")
    print(f"  {'workers':>7} {'cores':>6} | {'score mse':>9} {'score rp':>9} {'rp, S=Wc':>9} | "
          f"{'train full':>10} {'sample-merge':>12}")
    for w in (1, 2, 4, 8, 16, 32, 64):
        used = min(w * c, SHARDS)
        s_mse = N / (used * rates["score mse"])
        s_rp = N / (used * rates["score recon_prob"])
        s_rp_wide = N / (w * c * rates["score recon_prob"])
        sample = (N / (used * rates["sample (max_rows 200)"]) + SHARDS * min(K, N / SHARDS) / recv_bin
                  + K * TRAIN_EPOCHS / train)
        print(f"  {w:7d} {used:6d} | {s_mse / 3600:9.3f} {s_rp / 3600:9.3f} {s_rp_wide / 3600:9.3f} | "
              f"{full / 3600:10.1f} {sample / 3600:12.3f}")
    print(f"  (S = {SHARDS} shards except 'rp, S=Wc': one shard per worker core; 'train full' ships "
          f"every row as text and trains on all of them on the coordinator)")
    out = os.environ.get("OUT_JSON")
    if out:
        with open(out, "w") as f:
            json.dump({"rows": ROWS, "rates": rates}, f, indent=1)


if __name__ == "__main__":
    main()
