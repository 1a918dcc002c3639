#!/usr/bin/python3
"""bench/detect_compare.py - the comparison table of candidate default
rules from the JSON summaries of bench/detect.py (OUT_JSON), as written by
bench/detect_candidates.sh (OUTDIR/CANDIDATE.json).

    bench/detect_compare.py CANDIDATE... --dir OUTDIR [--per-set]

A CANDIDATE is the name of a summary (OUTDIR/CANDIDATE.json, or a path
ending in .json), or NAME=A+B+...: summary A with the sets of B (and so on)
put in place of or added to A's, e.g. a run on a subset of the sets with
another rule; means and ranks are recomputed from the per-set figures.

One row per candidate: the vae's mean AUC and AP over the sets, its mean
rank among the five default detectors (vae, iforest, lof, ocsvm, pca) by
AUC and by AP, the sets where its AUC is more than 0.05 below the best
classical detector's, its seed spread (max over the sets with at least 20
test anomalies, and the mean over all sets), the mean training seconds per
split summed over the sets (all ensemble members) and the relative training
cost on a 200,000 x 118 and on a 200,000 x 16 table (rows x epochs x
parameters the rule gives it, times the ensemble size, over today's;
bench/detect_rules.cost; proportional to the FLOPs, early stopping aside).  --per-set adds per-set AUC and AP tables.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detect_lib as dl  # noqa: E402
import detect_rules  # noqa: E402

CLASSICAL = ["iforest", "lof", "ocsvm", "pca"]


def load(path):
    """One OUT_JSON summary."""
    with open(path) as f:
        return json.load(f)


def load_candidate(arg, d):
    """(name, summary) of a CANDIDATE argument (see the module comment)."""
    name, _, spec = arg.rpartition("=")
    parts = spec.split("+")
    paths = [p if p.endswith(".json") else os.path.join(d, p + ".json") for p in parts]
    s = load(paths[0])
    for p in paths[1:]:
        t = load(p)
        s["sets"].update(t["sets"])
        # the cost columns follow the last part's rule and ensemble size:
        # merge a run of rule R on a subset into one of a rule that gives
        # the other sets the same options as R would
        s["vae_rule"], s["ensemble"] = t.get("vae_rule"), t.get("ensemble", 1)
        s["default_rule"] = t.get("default_rule")
    s["name"] = name or spec
    return s


def cost_200k(s, dim):
    """Training FLOPs on a 200,000 x dim table relative to the 1.0 defaults,
    for summary s: its rule, else the extension's defaults of the build it
    ran on (default_rule; absent before 1.1: the 1.0 defaults)."""
    today = detect_rules.cost(detect_rules.RULES["default"], 200000, dim)[3]
    rule = s.get("vae_rule") or s.get("default_rule") or "default"
    return detect_rules.cost(detect_rules.RULES[rule], 200000, dim)[3] * s.get("ensemble", 1) / today


def row(name, s):
    """The comparison row of one candidate's summary, recomputed from its
    per-set figures."""
    sets = s["sets"]
    for k in ("auc", "ap"):
        tab = {n: v[k] for n, v in sets.items()}
        s["mean_" + k] = {det: float(np.mean([v[det] for v in tab.values()]))
                          for det in ["vae"] + CLASSICAL}
        s["mean_rank_" + k] = dl.mean_ranks(tab, ["vae"] + CLASSICAL)
    below = [n for n, v in sets.items()
             if max(v["auc"][d] for d in CLASSICAL) - v["auc"]["vae"] > 0.05]
    big = [v["seed_spread"] for v in sets.values() if v["n_anomalies"] >= 20]
    train = sum(v["vae_train_seconds"] for v in sets.values())
    return (f"| {name} | {s['mean_auc']['vae']:.3f} | {s['mean_ap']['vae']:.3f} "
            f"| {s['mean_rank_auc']['vae']:.2f} | {s['mean_rank_ap']['vae']:.2f} "
            f"| {len(below)}: {' '.join(below) or '-'} "
            f"| {max(big) if big else float('nan'):.3f} "
            f"| {np.mean([v['seed_spread'] for v in sets.values()]):.3f} "
            f"| {train:.1f} | {cost_200k(s, 118):.2f} | {cost_200k(s, 16):.2f} |")


def main():
    """Print the tables for the candidates named on the command line."""
    args = sys.argv[1:]
    per_set = "--per-set" in args
    args = [a for a in args if a != "--per-set"]
    d = "."
    if "--dir" in args:
        i = args.index("--dir")
        d = args[i + 1]
        del args[i:i + 2]
    runs = {}
    for a in args:
        s = load_candidate(a, d)
        runs[s["name"]] = s
    if not runs:
        raise SystemExit("detect_compare: no summaries found")
    first = next(iter(runs.values()))
    print(f"\nsplit seeds {' '.join(map(str, first['split_seeds']))}; "
          f"model seeds {' '.join(map(str, first['model_seeds']))}\n")
    print("| candidate | mean AUC | mean AP | rank AUC (of 5) | rank AP (of 5) "
          "| sets > 0.05 AUC below best classical | seed spread max (>= 20 anomalies) "
          "| seed spread mean | train s (sum of sets) | cost 200k x 118 (x 1.0) "
          "| cost 200k x 16 (x 1.0) |")
    print("|---" * 11 + "|")
    for c, s in runs.items():
        print(row(c, s))
    print("\nclassical detectors: " + ", ".join(
        f"{d} {first['mean_auc'][d]:.3f}/{first['mean_ap'][d]:.3f}" for d in CLASSICAL)
        + " (mean AUC/AP)")
    if per_set:
        names = list(first["sets"])
        for k in ("auc", "ap"):
            print(f"\nper-set {k.upper()}\n")
            print("| set | " + " | ".join(list(runs) + CLASSICAL) + " |")
            print("|---" * (len(runs) + len(CLASSICAL) + 1) + "|")
            for n in names:
                vals = [runs[c]["sets"][n][k]["vae"] for c in runs]
                vals += [first["sets"][n][k][d] for d in CLASSICAL]
                print(f"| {n} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")


if __name__ == "__main__":
    main()
