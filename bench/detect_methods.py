#!/usr/bin/python3
"""bench/detect_methods.py - the seed spread of each scoring method on one
split of one detection set: trains SEEDS models (default options plus the
JSON object given as the argument, and the seed) on the split's training
rows and prints, per method (recon_prob, elbo, mse), the test ROC AUC of
every model, their spread (max - min) and mean.  The three methods score
the same models, so the differences are the scores' alone
(docs/detect.md, "Scoring by the ELBO").

    SET=letter_25v1 SPLIT=2 bench/detect_methods.py ['{"hidden": [48, 48]}']

Needs the loaded database of bench/detect.sh (PGHOST etc.; DETECT_DB,
default vae_detect; run bench/detect.sh with REUSE_DB=1 once first: the
splits are its detect_split table) and leaves the table detect_methods_model
behind in it.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detect_lib  # noqa: E402


def main():
    os.environ["PGDATABASE"] = os.environ.get("DETECT_DB", "vae_detect")
    opts = sys.argv[1] if len(sys.argv) > 1 else "{}"
    split = int(os.environ.get("SPLIT", "1"))
    seeds = [int(s) for s in os.environ.get("SEEDS", "1 2 3 4 5").split()]
    name = os.environ.get("SET", "letter_25v1")
    spec = next(s for s in detect_lib.SETS if s["name"] == name)
    table = spec["table"]
    seed_list = ", ".join(str(s) for s in seeds)
    detect_lib.psql(
        "DROP TABLE IF EXISTS detect_methods_model",
        f"""CREATE TABLE detect_methods_model AS
            SELECT s AS seed, vae_train(p.features, '{opts}'::jsonb || jsonb_build_object('seed', s)) AS model
            FROM {table}_prepared p
            JOIN detect_split d ON d.id = p.id AND d.set = '{name}' AND d.seed = {split} AND d.role = 'train',
                 unnest(ARRAY[{seed_list}]) s
            GROUP BY s""")
    print(f"{name}, split {split}, options {opts}: test ROC AUC of model seeds {seed_list}")
    for method in ["recon_prob", "elbo", "mse"]:
        out = detect_lib.psql(
            f"""SELECT m.seed, d.anomaly, vae_score(m.model, p.features, '{method}'::vae_method)
                FROM detect_methods_model m, {table}_prepared p
                JOIN detect_split d ON d.id = p.id AND d.set = '{name}' AND d.seed = {split} AND d.role = 'test'
                ORDER BY m.seed, p.id""")
        rows = [line.split(",") for line in out.split()]
        aucs = []
        for s in seeds:
            y = np.array([r[1] == "t" for r in rows if int(r[0]) == s])
            sc = np.array([float(r[2]) for r in rows if int(r[0]) == s])
            aucs.append(detect_lib.metrics(y, sc)[0])
        print(f"{method:10s} " + " ".join(f"{a:.3f}" for a in aucs)
              + f"  spread {max(aucs) - min(aucs):.3f}  mean {np.mean(aucs):.3f}", flush=True)


if __name__ == "__main__":
    main()
