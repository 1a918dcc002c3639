#!/usr/bin/python3
"""bench/tables.py - accuracy of the vae row path on typed tables loaded
without hand preparation; run it through bench/tables.sh, which exports and
loads the data sets and provides the database (PGHOST etc. in the
environment, tables and prepared views loaded by bench/datasets/load.sh, the
vae extension created).

For every set of TABLE_SETS and every split seed (the splits of
bench/detect_lib.py: a seeded half of the normal rows trains, the rest plus
about 8% anomalies tests), four detectors, all with DEFAULT options:

  rows      vae_train(r) over the table's own rows, the label, the id and the
            set's `drop` columns left out by selecting the other columns
            (a LATERAL subquery, so that the record keeps the column names);
            scored with vae_score(model, r), default method
  arrays    vae_train(features) over the prepared real[] view (one-hot,
            median imputation; bench/datasets/prepare.sql)
  rows_int  the row path with boolean columns read as integer 0/1 (a
            continuous, Gaussian column instead of a Bernoulli one); the only
            difference from `rows`, to see what the boolean head costs
  rows_prep vae_train(ROW(features)): the row model over the same prepared
            numbers as `arrays`, so that the two differ in the scaling
            (median/IQR and clip against mean/standard deviation) and the
            row model's own defaults, not in the encoding of the columns
  iforest   sklearn IsolationForest(random_state=split seed) on the prepared
            features

plus the row path's AUC over model seeds (options {"seed": k}) on the first
split.  Prints markdown tables of AUC and AP per set and their means.

Environment: SPLIT_SEEDS ("1 2 3 4 5"), MODEL_SEEDS ("1 2 3 4 5"), SETS (all;
a space-separated subset of the names below), QUICK=1 (split seed 1, model
seeds 1 2), OUT_JSON=file, VAE_OPTIONS (a JSON object of vae_train options
for every vae variant instead of the defaults; the model seeds' runs add
their seed to it; '{"method": "recon_prob"}' scores the models the 1.0
way).
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detect_lib as dl  # noqa: E402

QUICK = os.environ.get("QUICK", "0") == "1"
VAE_OPTIONS = json.loads(os.environ.get("VAE_OPTIONS") or "{}")

# name, table, normal/anomaly class values (None: every other class, as in
# detect_lib), drop: columns besides id and class that the relations leave
# out because they define the label or identify the row.
TABLE_SETS = [
    dict(name="soybean", table="soybean", normal=["brown-spot"], anomaly=None, drop=[],
         note="normal: brown-spot (92), the largest class; anomaly: the 18 other diseases"),
    dict(name="vowel", table="vowel", normal=["hid"], anomaly=None, drop=[],
         note="normal: vowel hid (90); anomaly: the 10 other vowels; text column speaker"),
    dict(name="ozone", table="ozone", normal=["5", "6", "7", "8", "9"], anomaly=None, drop=[],
         note="class = month; normal: May-September (153 days, the ozone season); "
              "anomaly: days of the other months"),
    dict(name="bostonhousing2", table="bostonhousing2", normal=["regular"], anomaly=["high"],
         drop=["medv", "cmedv", "tract"],
         note="class = price band; normal: cmedv < 35 (459 tracts); anomaly: cmedv >= 35 "
              "(47); medv, cmedv (define the label) and tract (an identifier) left out"),
    dict(name="dna", table="dna", normal=["ei"], anomaly=None, drop=[],
         note="normal: ei, exon/intron boundaries (767); anomaly: ie boundaries and "
              "n, no junction (normal n, random sequence, gives AUC ~0.5 to every detector)"),
]
SET_BY_NAME = {s["name"]: s for s in TABLE_SETS}


def env_ints(name, default, quick):
    """Integers from a space-separated environment variable."""
    return [int(v) for v in os.environ.get(name, quick if QUICK else default).split()]


SPLIT_SEEDS = env_ints("SPLIT_SEEDS", "1 2 3 4 5", "1")
MODEL_SEEDS = env_ints("MODEL_SEEDS", "1 2 3 4 5", "1 2")
SET_NAMES = os.environ.get("SETS", " ".join(s["name"] for s in TABLE_SETS)).split()
DETECTORS = ["rows", "rows_int", "arrays", "rows_prep", "iforest"]


def qi(name):
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def feature_columns(spec):
    """The table's columns that the row path sees, as (name, SQL type): all
    but id, class and the set's drop list, in table order."""
    out = dl.psql(f"""SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
                      WHERE attrelid = '{spec['table']}'::regclass AND attnum > 0
                        AND NOT attisdropped ORDER BY attnum""")
    skip = {"id", "class", *spec["drop"]}
    cols = [tuple(line.split(",", 1)) for line in out.splitlines()]
    return [(c, t) for c, t in cols if c not in skip]


def prepare_view(spec):
    """Re-create the prepared view without the drop columns (load.sh made it
    with only id and class left out); returns the number of features."""
    if not spec["drop"]:
        return None
    skip = "{" + ",".join(["id", "class", *spec["drop"]]) + "}"
    return int(dl.psql(f"SELECT detect_prepare('{spec['table']}', '{skip}')").strip())


def vae_run(spec, cols, seed, kind, model_seed=None):
    """Train a vae model of `kind` (rows, rows_int, arrays, rows_prep) with default
    options (or {"seed": model_seed}) on the training rows of split `seed`,
    score the test rows with the default method.  Returns (ids, scores,
    train seconds, vae_model_info of the model)."""
    name, table = spec["name"], spec["table"]
    o = dict(VAE_OPTIONS, **({"seed": model_seed} if model_seed is not None else {}))
    opts = f", '{json.dumps(o)}'::jsonb" if o else ""
    if kind == "rows_int":
        sel = ", ".join(f"t.{qi(c)}::int AS {qi(c)}" if t == "boolean" else f"t.{qi(c)}"
                        for c, t in cols)
    else:
        sel = ", ".join(f"t.{qi(c)}" for c, _ in cols)
    if kind in ("rows", "rows_int"):
        src = f"{table} t JOIN tables_split s USING (id), LATERAL (SELECT {sel}) r"
        arg = "r"
    else:
        src = f"{table}_prepared p JOIN tables_split s USING (id)"
        arg = "p.features" if kind == "arrays" else "ROW(p.features)"
    where = f"s.set = '{name}' AND s.seed = {seed}"
    t0 = time.time()
    out = dl.psql("SET client_min_messages = warning",
                  f"""CREATE TEMP TABLE m AS SELECT vae_train({arg}{opts}) AS model
                      FROM {src} WHERE {where} AND s.role = 'train'""",
                  "SELECT vae_model_info(model) FROM m",
                  f"""COPY (SELECT s.id, vae_score(m.model, {arg}) FROM {src}, m
                      WHERE {where} AND s.role = 'test' ORDER BY s.id) TO STDOUT""")
    lines = out.splitlines()
    info = json.loads(lines[0])
    ids, scores = [], []
    for line in lines[1:]:
        i, sc = line.split("\t")
        ids.append(int(i))
        scores.append(float(sc))
    return np.array(ids), np.array(scores), time.time() - t0, info


def run_set(spec):
    """All detectors on one set over the split seeds, plus the row path's
    model seed spread on the first split."""
    name = spec["name"]
    nprep = prepare_view(spec)
    cols = feature_columns(spec)
    ids, classes, X = dl.fetch_prepared(spec["table"])
    if nprep is not None:
        assert X.shape[1] == nprep
    pos = {i: k for k, i in enumerate(ids)}
    res = dict(auc={d: [] for d in DETECTORS}, ap={d: [] for d in DETECTORS}, secs={})
    for seed in SPLIT_SEEDS:
        sp = dl.make_split(spec, ids, classes, seed)
        dl.store_split("tables_split", name, seed, sp)
        y = sp["y_test"]
        scores = {}
        for kind in ("rows", "rows_int", "arrays", "rows_prep"):
            vid, vsc, ts, info = vae_run(spec, cols, seed, kind)
            assert np.array_equal(vid, sp["test"]), "vae test rows differ from the split"
            scores[kind] = vsc
            res["secs"].setdefault(kind, []).append(ts)
            if seed == SPLIT_SEEDS[0] and kind == "rows":
                res["columns"] = len(info.get("columns", []))
                res["excluded"] = [f"{e['name']} ({e['reason']})" for e in info.get("excluded", [])]
                res["input_dim"] = info.get("input_dim")
                res["epochs"] = info.get("epochs")
        t0 = time.time()
        Xtr = X[[pos[i] for i in sp["train"]]]
        Xte = X[[pos[i] for i in sp["test"]]]
        from sklearn.ensemble import IsolationForest
        scores["iforest"] = -IsolationForest(random_state=seed).fit(Xtr).score_samples(Xte)
        res["secs"].setdefault("iforest", []).append(time.time() - t0)
        for d in DETECTORS:
            a, p = dl.metrics(y, scores[d])
            res["auc"][d].append(a)
            res["ap"][d].append(p)
        if seed == SPLIT_SEEDS[0]:
            res.update(n_cols=len(cols), n_features=X.shape[1], n_train=len(sp["train"]),
                       n_test=len(y), n_anomalies=int(y.sum()),
                       nulls=int(dl.psql(f"SELECT count(*) * {len(cols)} - ("
                                         + " + ".join(f"count({qi(c)})" for c, _ in cols)
                                         + f") FROM {spec['table']}").strip()))
        dl.log(f"  {name} split {seed}: " + ", ".join(
            f"{d} {res['auc'][d][-1]:.3f}/{res['ap'][d][-1]:.3f}" for d in DETECTORS)
            + " (AUC/AP)")
    sp = dl.make_split(spec, ids, classes, SPLIT_SEEDS[0])
    dl.store_split("tables_split", name, SPLIT_SEEDS[0], sp)
    res["seed_auc"], res["seed_ap"] = [], []
    for ms in MODEL_SEEDS:
        _, vsc, _, _ = vae_run(spec, cols, SPLIT_SEEDS[0], "rows", ms)
        a, p = dl.metrics(sp["y_test"], vsc)
        res["seed_auc"].append(a)
        res["seed_ap"].append(p)
    return res


def report(results, total_s):
    """Print the markdown tables and return the JSON summary."""
    names = list(results)
    mean = {k: {n: {d: float(np.mean(results[n][k][d])) for d in DETECTORS} for n in names}
            for k in ("auc", "ap")}
    print("\nsets (first split)\n")
    print("| set | columns (rows path) | excluded by vae | NULLs | prepared features "
          "| train | test (anomalies) | rows train+score s | epochs |")
    print("|---" * 9 + "|")
    for n in names:
        r = results[n]
        byreason = {}
        for e in r["excluded"]:
            name, reason = e.split(" (", 1)
            byreason.setdefault(reason.rstrip(")"), []).append(name)
        excl = "; ".join(f"{len(v)} {k}: {' '.join(v)}" for k, v in byreason.items()) or "-"
        print(f"| {n} | {r['n_cols']} | {excl} | {r['nulls']} "
              f"| {r['n_features']} | {r['n_train']} | {r['n_test']} ({r['n_anomalies']}) "
              f"| {np.mean(r['secs']['rows']):.2f} | {r['epochs']} |")
    summary = dict(split_seeds=SPLIT_SEEDS, model_seeds=MODEL_SEEDS,
                   total_seconds=round(total_s, 1), sets={})
    for k, title in (("auc", "ROC AUC"), ("ap", "average precision")):
        print(f"\n{title} (mean over split seeds {' '.join(map(str, SPLIT_SEEDS))}; "
              "± = standard deviation over the splits)\n")
        print("| set | " + " | ".join(DETECTORS) + " |")
        print("|---" * (len(DETECTORS) + 1) + "|")
        for n in names:
            print(f"| {n} | " + " | ".join(
                f"{mean[k][n][d]:.3f} ± {np.std(results[n][k][d]):.3f}" for d in DETECTORS) + " |")
        m = {d: float(np.mean([mean[k][n][d] for n in names])) for d in DETECTORS}
        print("| **mean** | " + " | ".join(f"**{m[d]:.3f}**" for d in DETECTORS) + " |")
        wins = sum(mean[k][n]["rows"] >= mean[k][n]["iforest"] for n in names)
        print(f"\nrows >= iforest on {wins} of {len(names)} sets; "
              f"mean difference rows - iforest {m['rows'] - m['iforest']:+.3f}")
        summary["mean_" + k] = m
    print(f"\nrows path over model seeds {' '.join(map(str, MODEL_SEEDS))} "
          f"(split {SPLIT_SEEDS[0]})\n")
    print("| set | AUC per model seed | AUC spread | AP per model seed | AP spread |")
    print("|---|---|---|---|---|")
    for n in names:
        r = results[n]
        print(f"| {n} | {' '.join(f'{a:.3f}' for a in r['seed_auc'])} "
              f"| {max(r['seed_auc']) - min(r['seed_auc']):.3f} "
              f"| {' '.join(f'{a:.3f}' for a in r['seed_ap'])} "
              f"| {max(r['seed_ap']) - min(r['seed_ap']):.3f} |")
        summary["sets"][n] = dict(
            auc=mean["auc"][n], ap=mean["ap"][n], auc_per_split=r["auc"], ap_per_split=r["ap"],
            seed_auc=r["seed_auc"], seed_ap=r["seed_ap"], excluded=r["excluded"],
            n_cols=r["n_cols"], n_features=r["n_features"], n_train=r["n_train"],
            n_test=r["n_test"], n_anomalies=r["n_anomalies"], nulls=r["nulls"])
    sp = [max(results[n]["seed_auc"]) - min(results[n]["seed_auc"]) for n in names]
    print(f"\nrows path AUC seed spread: mean {np.mean(sp):.3f}, max {np.max(sp):.3f}")
    print(f"total run time {total_s:.0f} s")
    return summary


def main():
    """Run every selected set, print the tables, write OUT_JSON."""
    dl.psql("""CREATE TABLE IF NOT EXISTS tables_split (set text, seed int, id bigint,
                   role text, anomaly boolean, PRIMARY KEY (set, seed, id))""")
    dl.run_sets("tables", SET_NAMES, SET_BY_NAME, run_set, report)


if __name__ == "__main__":
    main()
