#!/usr/bin/python3
"""bench/detect.py - the detection benchmark over prepared arrays; run it
through bench/detect.sh, which exports and loads the data sets and provides
the database (PGHOST etc. in the environment, tables and views loaded by
bench/datasets/load.sh, the vae extension created).

For every set of detect_lib.SETS and every split seed: the vae extension
with DEFAULT options (vae_train over the training rows of the prepared view,
vae_score with the default method on the test rows, through SQL), the four
sklearn detectors with default settings, and the reference PyTorch VAE over
a small grid of (epochs, latent) whose best mean test AUC per set is
reported (an optimistic ceiling: tuned on the test set).  Also the vae with
several model seeds on the first split (seed spread = max - min AUC) and the
precision/recall of the flags vae_score > vae_threshold(model), the
automatic threshold (THRESHOLD_SQL picks another cut).

Environment: SPLIT_SEEDS ("1 2 3 4 5"), MODEL_SEEDS ("1 2 3 4 5"),
TORCH_EPOCHS ("20 50 100 200 500"), TORCH_LATENTS ("2 5 10"), SETS (all; a
space-separated subset), VAE_OPTIONS (a JSON object of vae_train options for
the vae detector, e.g. '{"epochs": 1000}' or '{"method": "recon_prob"}';
default none), QUICK=1 (1 split seed, 2 model seeds, epochs
"20 50", latent "2"), OUT_JSON=file.

Prototyping new defaults (issue "Detection quality"):
  VAE_RULE=name      options per set from the data shape: the function
                     bench/detect_rules.RULES[name](n_train_rows, features);
                     VAE_OPTIONS, when also set, overrides it key by key.
  ENSEMBLE=k         (the prototype of the extension's option "ensemble",
                     which VAE_OPTIONS='{"ensemble": 3}' measures directly;
                     the default below 50,000 rows)
                     the vae is k single-network models ("ensemble": 1)
                     trained with seeds derived from the
                     base seed (base + 1000 j, j = 0..k-1; base = 0, or the
                     model seed of the seed-spread runs), scores combined by
                     ENSEMBLE_COMBINE: mean (of raw scores), robust (mean of
                     (score - median) / IQR, both from the model's stored
                     training-score sample, vae_threshold(m, 0.5/0.25/0.75):
                     computable inside the extension) or rank (mean of the
                     per-model test-score ranks; transductive, a reference).
                     All three, and the first model alone ("single"), are
                     also reported, so one run compares them.  Threshold
                     flags: the first model's.
  TORCH=0            skip the PyTorch grid (the torch_vae column is left out).
  BASELINE_CACHE=f   JSON file caching the sklearn detectors' AUC/AP per set
                     and split (they do not depend on the vae): read when
                     present, extended and rewritten after each set.
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detect_lib as dl  # noqa: E402

QUICK = os.environ.get("QUICK", "0") == "1"


def env_ints(name, default, quick):
    """Integers from a space-separated environment variable."""
    return [int(v) for v in os.environ.get(name, quick if QUICK else default).split()]


SPLIT_SEEDS = env_ints("SPLIT_SEEDS", "1 2 3 4 5", "1")
MODEL_SEEDS = env_ints("MODEL_SEEDS", "1 2 3 4 5", "1 2")
TORCH_EPOCHS = env_ints("TORCH_EPOCHS", "20 50 100 200 500", "20 50")
TORCH_LATENTS = env_ints("TORCH_LATENTS", "2 5 10", "2")
SET_NAMES = os.environ.get("SETS", " ".join(s["name"] for s in dl.SETS)).split()
# options for the vae detector: {} (the defaults) unless VAE_OPTIONS is set
VAE_OPTIONS = json.loads(os.environ.get("VAE_OPTIONS") or "{}")
VAE_RULE = os.environ.get("VAE_RULE") or None
ENSEMBLE = int(os.environ.get("ENSEMBLE", "1"))
ENSEMBLE_COMBINE = os.environ.get("ENSEMBLE_COMBINE", "robust")
COMBINES = ["mean", "robust", "rank"]
TORCH = os.environ.get("TORCH", "1") != "0"
BASELINE_CACHE = os.environ.get("BASELINE_CACHE") or None
DETECTORS = ["vae", "iforest", "lof", "ocsvm", "pca"] + (["torch_vae"] if TORCH else [])
DEFAULT_DETECTORS = DETECTORS[:5]
if ENSEMBLE < 1 or ENSEMBLE_COMBINE not in COMBINES:
    raise SystemExit("detect: ENSEMBLE must be >= 1 and ENSEMBLE_COMBINE one of " + " ".join(COMBINES))
import detect_rules  # noqa: E402
if VAE_RULE is not None:
    if VAE_RULE not in detect_rules.RULES:
        raise SystemExit(f"detect: unknown VAE_RULE {VAE_RULE} (see bench/detect_rules.py)")
# THRESHOLD_SQL: the cut whose precision/recall is reported, an SQL
# expression over the column `model`; default the automatic threshold
# vae_threshold(model) (Tukey's fence of the training scores), e.g.
# THRESHOLD_SQL="vae_threshold(model, 0.05)" for a given contamination
THRESHOLD_SQL = os.environ.get("THRESHOLD_SQL") or "vae_threshold(model)"


def vae_options(n_train, dim):
    """The vae detector's options for a table: VAE_RULE's, then VAE_OPTIONS."""
    options = detect_rules.RULES[VAE_RULE](n_train, dim) if VAE_RULE else {}
    options.update(VAE_OPTIONS)
    return options


def vae_run(spec, seed, model_seed=None, base_options=None):
    """Train the extension's VAE on the training rows of split `seed`
    (options base_options, plus {"seed": model_seed} when given) and score
    the test rows.  Returns (ids, scores, flags, train_seconds, info),
    where flags are the test rows with vae_score > THRESHOLD_SQL and info has the epochs run, the best epoch
    and the median and quartiles of the training-score sample."""
    name, table = spec["name"], spec["table"]
    options = dict(base_options or {})
    if model_seed is not None:
        options["seed"] = model_seed
    opts = f", '{json.dumps(options)}'::jsonb" if options else ""
    ms = -1 if model_seed is None else model_seed
    key = f"set = '{name}' AND split = {seed} AND model_seed = {ms}"
    t0 = time.time()
    dl.psql(f"DELETE FROM detect_model WHERE {key}",
            f"""INSERT INTO detect_model (set, split, model_seed, model)
                SELECT '{name}', {seed}, {ms}, vae_train(p.features{opts})
                FROM {table}_prepared p JOIN detect_split s USING (id)
                WHERE s.set = '{name}' AND s.seed = {seed} AND s.role = 'train'""")
    train_s = time.time() - t0
    # the flags of THRESHOLD_SQL (default the automatic vae_threshold(model))
    threshold_sql = THRESHOLD_SQL
    out = dl.psql(f"""COPY (WITH m AS (SELECT model, {threshold_sql} AS thr
                                      FROM detect_model WHERE {key})
                  SELECT id, sc, sc > thr FROM (
                      SELECT s.id, vae_score(m.model, p.features) AS sc, m.thr
                      FROM detect_split s JOIN {table}_prepared p USING (id), m
                      WHERE s.set = '{name}' AND s.seed = {seed} AND s.role = 'test') q
                  ORDER BY id) TO STDOUT""")
    ids, scores, flags = [], [], []
    for line in out.splitlines():
        i, sc, fl = line.split("\t")
        ids.append(int(i))
        scores.append(float(sc))
        flags.append(fl == "t")
    ep, best, q50, q75, q25 = dl.psql(
        f"""SELECT vae_model_info(model)->>'epochs', vae_model_info(model)->>'best_epoch',
                   vae_threshold(model, 0.5), vae_threshold(model, 0.25), vae_threshold(model, 0.75)
            FROM detect_model WHERE {key}""").strip().split(",")
    info = dict(epochs=int(ep), best_epoch=int(best), q50=float(q50), q75=float(q75), q25=float(q25))
    return np.array(ids), np.array(scores), np.array(flags), train_s, info


def ensemble_seed(base, j):
    """The seed of ensemble member j (member 0: the base seed itself)."""
    return base + 1000 * j


def combine(scores, infos):
    """{method: combined test scores} of an ensemble's per-model scores
    (see ENSEMBLE_COMBINE in the module comment), plus "single" (model 0)."""
    from scipy.stats import rankdata
    S = np.array(scores, dtype=np.float64)
    S = np.nan_to_num(S, nan=np.inf, posinf=np.finfo(np.float64).max / 16)
    out = dict(single=S[0], mean=S.mean(axis=0))
    rob = [(s - i["q50"]) / max(i["q75"] - i["q25"], 1e-12) for s, i in zip(S, infos)]
    out["robust"] = np.mean(rob, axis=0)
    out["rank"] = np.mean([rankdata(s) for s in S], axis=0)
    return out


def vae_ensemble(spec, seed, n_train, dim, model_seed=None):
    """The vae detector on split `seed`: ENSEMBLE models with derived seeds
    (or one model with the rule's options and model_seed).  Returns (ids,
    {method: scores}, flags of model 0, total train seconds, info of model 0)."""
    options = vae_options(n_train, dim)
    if ENSEMBLE > 1:
        options["ensemble"] = 1     # k single networks, combined here
    base = model_seed if model_seed is not None else int(options.get("seed", 0))
    scores, infos, total_s = [], [], 0.0
    for j in range(ENSEMBLE):
        ms = ensemble_seed(base, j) if (ENSEMBLE > 1 or model_seed is not None) else None
        ids, sc, fl, ts, info = vae_run(spec, seed, ms, options)
        if j == 0:
            ids0, flags0, info0 = ids, fl, info
        scores.append(sc)
        infos.append(info)
        total_s += ts
    return ids0, combine(scores, infos), flags0, total_s, info0


def run_set(spec):
    """All detectors on one set: per split seed AUC/AP of each detector,
    torch grid results, vae threshold counts and seed spread."""
    name = spec["name"]
    ids, classes, X = dl.fetch_prepared(spec["table"])
    pos = {i: k for k, i in enumerate(ids)}
    res = dict(auc={d: [] for d in DETECTORS}, ap={d: [] for d in DETECTORS},
               grid={}, thr=dict(tp=0, fp=0, fn=0, tn=0), vae_train_s=[], vae_epochs=[],
               vae_best_epoch=[], ens_auc={c: [] for c in ["single"] + COMBINES},
               ens_ap={c: [] for c in ["single"] + COMBINES})
    grid_scores = {}
    cache = load_cache()
    for seed in SPLIT_SEEDS:
        sp = dl.make_split(spec, ids, classes, seed)
        dl.store_split("detect_split", name, seed, sp)
        Xtr = X[[pos[i] for i in sp["train"]]]
        Xte = X[[pos[i] for i in sp["test"]]]
        y = sp["y_test"]
        if seed == SPLIT_SEEDS[0]:
            res.update(n_train=len(sp["train"]), n_test=len(y), n_anomalies=int(y.sum()),
                       n_features=X.shape[1])
        vid, vsc_all, vfl, ts, vinfo = vae_ensemble(spec, seed, len(sp["train"]), X.shape[1])
        assert np.array_equal(vid, sp["test"]), "vae test rows differ from the split"
        res["vae_train_s"].append(ts)
        res["vae_epochs"].append(vinfo["epochs"])
        res["vae_best_epoch"].append(vinfo["best_epoch"])
        for c, s in vsc_all.items():
            for k, v in zip(("ens_auc", "ens_ap"), dl.metrics(y, s)):
                res[k][c].append(v)
        vsc = vsc_all[ENSEMBLE_COMBINE] if ENSEMBLE > 1 else vsc_all["single"]
        for k, v in zip(("auc", "ap"), dl.metrics(y, vsc)):
            res[k]["vae"].append(v)
        t = res["thr"]
        t["tp"] += int((vfl & (y == 1)).sum())
        t["fp"] += int((vfl & (y == 0)).sum())
        t["fn"] += int((~vfl & (y == 1)).sum())
        t["tn"] += int((~vfl & (y == 0)).sum())
        ckey = f"{name}/{seed}"
        if ckey not in cache:
            cache[ckey] = {d: dl.metrics(y, s) for d, s in dl.sklearn_scores(Xtr, Xte, seed).items()}
            save_cache(cache)
        for d in dl.SKLEARN_DETECTORS:
            for k, v in zip(("auc", "ap"), cache[ckey][d]):
                res[k][d].append(v)
        for lat in TORCH_LATENTS if TORCH else []:
            for ep, s in dl.torch_vae_scores(Xtr, Xte, lat, TORCH_EPOCHS, seed).items():
                grid_scores.setdefault((ep, lat), []).append(dl.metrics(y, s))
        dl.log(f"  {name} split {seed}: vae AUC {res['auc']['vae'][-1]:.3f} "
            f"(train {ts:.1f} s), iforest {res['auc']['iforest'][-1]:.3f}, "
            f"lof {res['auc']['lof'][-1]:.3f}, ocsvm {res['auc']['ocsvm'][-1]:.3f}, "
            f"pca {res['auc']['pca'][-1]:.3f}")
    # the grid point with the best mean test AUC over the splits
    for (ep, lat), m in grid_scores.items():
        res["grid"][f"epochs={ep},latent={lat}"] = dict(
            auc=float(np.mean([a for a, _ in m])), ap=float(np.mean([p for _, p in m])))
    res["torch_best"] = None
    if TORCH:
        best = max(grid_scores, key=lambda k: (np.mean([a for a, _ in grid_scores[k]]), -k[0]))
        res["torch_best"] = dict(epochs=best[0], latent=best[1])
        res["auc"]["torch_vae"] = [a for a, _ in grid_scores[best]]
        res["ap"]["torch_vae"] = [p for _, p in grid_scores[best]]
    # model seed spread on the first split (an ensemble per model seed)
    seed = SPLIT_SEEDS[0]
    sp = dl.make_split(spec, ids, classes, seed)
    aucs = []
    for ms in MODEL_SEEDS:
        _, vsc_all, _, _, _ = vae_ensemble(spec, seed, len(sp["train"]), X.shape[1], ms)
        vsc = vsc_all[ENSEMBLE_COMBINE] if ENSEMBLE > 1 else vsc_all["single"]
        aucs.append(dl.metrics(sp["y_test"], vsc)[0])
    res["seed_aucs"] = aucs
    res["seed_spread"] = float(max(aucs) - min(aucs))
    return res


def load_cache():
    """The BASELINE_CACHE contents ({"set/split": {detector: [auc, ap]}}), or {}."""
    if BASELINE_CACHE and os.path.exists(BASELINE_CACHE):
        with open(BASELINE_CACHE) as f:
            return json.load(f)
    return {}


def save_cache(cache):
    """Rewrite BASELINE_CACHE (when set), merged with what is on disk."""
    if not BASELINE_CACHE:
        return
    merged = load_cache()
    merged.update(cache)
    with open(BASELINE_CACHE, "w") as f:
        json.dump(merged, f, indent=0, sort_keys=True)


def fmt(v, digits=3):
    """A number for the tables, '-' when missing."""
    return "-" if v is None else f"{v:.{digits}f}"


def report(results, total_s):
    """Print the markdown tables: per-set AUC and AP, means, mean ranks,
    seed spread, threshold precision/recall; return the JSON summary."""
    names = list(results)
    mean = {k: {n: {d: float(np.mean(results[n][k][d])) for d in DETECTORS} for n in names}
            for k in ("auc", "ap")}
    if VAE_OPTIONS:
        print(f"\nvae options: {json.dumps(VAE_OPTIONS)} (not the defaults)")
    if VAE_RULE:
        print(f"\nvae options from rule {VAE_RULE} (bench/detect_rules.py; not the defaults)")
    if ENSEMBLE > 1:
        print(f"\nvae: ensemble of {ENSEMBLE} models, scores combined by {ENSEMBLE_COMBINE}")
    summary = dict(vae_options=VAE_OPTIONS, vae_rule=VAE_RULE, default_rule=detect_rules.BUILTIN, ensemble=ENSEMBLE,
                   ensemble_combine=ENSEMBLE_COMBINE, split_seeds=SPLIT_SEEDS, model_seeds=MODEL_SEEDS,
                   torch_epochs=TORCH_EPOCHS if TORCH else [], torch_latents=TORCH_LATENTS if TORCH else [],
                   total_seconds=round(total_s, 1), sets={})
    hdr = "| set | " + " | ".join(DETECTORS) + " |"
    sep = "|---" * (len(DETECTORS) + 1) + "|"
    for k, title in (("auc", "ROC AUC"), ("ap", "average precision")):
        print(f"\n{title} (mean over split seeds {' '.join(map(str, SPLIT_SEEDS))}); "
              f"torch_vae: best grid point on test (optimistic ceiling)\n")
        print(hdr)
        print(sep)
        for n in names:
            row = mean[k][n]
            print(f"| {n} | " + " | ".join(fmt(row[d]) for d in DETECTORS) + " |")
        print("| **mean** | " + " | ".join(
            fmt(np.mean([mean[k][n][d] for n in names])) for d in DETECTORS) + " |")
        r5 = dl.mean_ranks(mean[k], DEFAULT_DETECTORS)
        r6 = dl.mean_ranks(mean[k], DETECTORS)
        print("| mean rank (5 default detectors) | " + " | ".join(
            fmt(r5[d], 2) if d in r5 else "" for d in DETECTORS) + " |")
        if TORCH:
            print("| mean rank (all 6) | " + " | ".join(fmt(r6[d], 2) for d in DETECTORS) + " |")
        summary["mean_" + k] = {d: float(np.mean([mean[k][n][d] for n in names])) for d in DETECTORS}
        summary["mean_rank_" + k] = r5
        summary["mean_rank_all_" + k] = r6
    print("\nvae: seed spread, threshold flags, training time\n")
    print("| set | features | train | test (anomalies) | vae AUC over model seeds | seed spread "
          "| torch best (epochs, latent) | precision @ threshold | recall @ threshold "
          "| flagged normals | vae train s |")
    print("|---" * 11 + "|")
    for n in names:
        r = results[n]
        t = r["thr"]
        prec = t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else None
        rec = t["tp"] / (t["tp"] + t["fn"])
        fpr = t["fp"] / (t["fp"] + t["tn"])
        print(f"| {n} | {r['n_features']} | {r['n_train']} | {r['n_test']} ({r['n_anomalies']}) | "
              + " ".join(fmt(a) for a in r["seed_aucs"])
              + f" | {fmt(r['seed_spread'])} | "
              + (f"{r['torch_best']['epochs']}, {r['torch_best']['latent']}" if r["torch_best"] else "-")
              + " "
              f"| {fmt(prec)} | {fmt(rec)} | {fmt(fpr)} | {np.mean(r['vae_train_s']):.2f} |")
        summary["sets"][n] = dict(
            auc={d: mean["auc"][n][d] for d in DETECTORS}, ap={d: mean["ap"][n][d] for d in DETECTORS},
            auc_per_split=r["auc"], ap_per_split=r["ap"], torch_grid=r["grid"],
            torch_best=r["torch_best"], seed_aucs=r["seed_aucs"], seed_spread=r["seed_spread"],
            threshold=dict(sql=THRESHOLD_SQL, precision=prec, recall=rec,
                           flagged_normals=fpr, **t),
            n_train=r["n_train"], n_test=r["n_test"], n_anomalies=r["n_anomalies"],
            n_features=r["n_features"], vae_train_seconds=float(np.mean(r["vae_train_s"])),
            vae_epochs=r["vae_epochs"], vae_best_epoch=r["vae_best_epoch"],
            ensemble_auc={c: float(np.mean(v)) for c, v in r["ens_auc"].items()},
            ensemble_ap={c: float(np.mean(v)) for c, v in r["ens_ap"].items()})
    sp = [results[n]["seed_spread"] for n in names]
    print(f"\nvae seed spread: mean {np.mean(sp):.3f}, max {np.max(sp):.3f}")
    if ENSEMBLE > 1:
        print("\nensemble combinations (mean AUC / AP over the sets; single = model 0 alone)\n")
        for c in ["single"] + COMBINES:
            a = np.mean([np.mean(results[n]["ens_auc"][c]) for n in names])
            p = np.mean([np.mean(results[n]["ens_ap"][c]) for n in names])
            print(f"  {c:7s} {a:.3f} / {p:.3f}")
    print(f"total run time {total_s:.0f} s")
    return summary


def main():
    """Run every selected set, print the tables, write OUT_JSON."""
    import torch
    torch.set_num_threads(1)
    dl.psql("""CREATE TABLE IF NOT EXISTS detect_split (set text, seed int, id bigint,
                   role text, anomaly boolean, PRIMARY KEY (set, seed, id))""",
            """CREATE TABLE IF NOT EXISTS detect_model (set text, split int, model_seed int,
                   model bytea, PRIMARY KEY (set, split, model_seed))""")
    dl.run_sets("detect", SET_NAMES, dl.SET_BY_NAME, run_set, report)


if __name__ == "__main__":
    main()
