#!/usr/bin/env python3
"""bench/detect_big.py - the default options on a LARGE multi-modal table:
letter_25v1 of the detection benchmark (bench/detect.sh) grown to about
200,000 training rows, to check a cost guard for large tables against the
quality that multi-modal normal data needs (docs/detect.md, "Defaults in
1.1").

The training table is split SPLIT's (default 1) letter_25v1 training rows
(9,605 rows of the 25 letters B-Z) COPIES times (default 20: 192,100 rows),
each copy shifted by a seeded jitter of +-0.05 per feature as in
bench/train_cost.sh; the test set is that split's test rows (9,606 normal,
789 A's), not jittered.  Every candidate (a JSON object of vae_train
options, '{}' = the defaults) is trained once and scored; printed: ROC AUC,
average precision, training seconds and what the model resolved.

    bench/detect_big.py '{}' '{"epochs": 5}' '{"hidden": [64]}'

Needs the loaded database of bench/detect.sh (PGHOST etc.; DETECT_DB,
default vae_detect; run bench/detect.sh with REUSE_DB=1 once first) and
leaves the table letter_big behind in it.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detect_lib  # noqa: E402

SPLIT = int(os.environ.get("SPLIT", "1"))
COPIES = int(os.environ.get("COPIES", "20"))


def main():
    os.environ["PGDATABASE"] = os.environ.get("DETECT_DB", "vae_detect")
    candidates = sys.argv[1:] or ["{}"]
    detect_lib.psql(
        "SET client_min_messages = warning",
        "DROP TABLE IF EXISTS letter_big",
        "SELECT setseed(0.25)",
        f"""CREATE TABLE letter_big AS
            SELECT (SELECT array_agg(v + (random() - 0.5) * 0.1 ORDER BY o)
                    FROM unnest(p.features) WITH ORDINALITY u(v, o))::real[] AS f
            FROM letter_prepared p
            JOIN detect_split s ON s.id = p.id AND s.set = 'letter_25v1' AND s.seed = {SPLIT}
                AND s.role = 'train',
            generate_series(1, {COPIES})""")
    n = int(detect_lib.psql("SELECT count(*) FROM letter_big").strip())
    test = detect_lib.psql(
        f"""SELECT p.id, s.anomaly FROM letter_prepared p JOIN detect_split s ON s.id = p.id
            AND s.set = 'letter_25v1' AND s.seed = {SPLIT} AND s.role = 'test' ORDER BY p.id""")
    y = [line.split(",")[1] == "t" for line in test.split()]
    detect_lib.log(f"letter_big: {n} training rows (split {SPLIT} x {COPIES}), "
                   f"{len(y)} test rows ({sum(y)} anomalies)")
    for c in candidates:
        json.loads(c)
        t0 = time.time()
        info = detect_lib.psql(
            "DROP TABLE IF EXISTS letter_big_model",
            f"CREATE TABLE letter_big_model AS SELECT vae_train(f, '{c}'::jsonb) AS m FROM letter_big",
            """SELECT jsonb_build_object('hidden', i->'hidden', 'latent_dim', i->'latent_dim',
                   'epochs', i->'options'->'epochs', 'epochs_run', i->'epochs')
               FROM (SELECT vae_model_info(m) AS i FROM letter_big_model) x""").strip()
        seconds = time.time() - t0
        scores = detect_lib.psql(
            f"""SELECT vae_score(m.m, p.features) FROM letter_big_model m, letter_prepared p
                JOIN detect_split s ON s.id = p.id AND s.set = 'letter_25v1' AND s.seed = {SPLIT}
                    AND s.role = 'test' ORDER BY p.id""").split()
        auc, ap = detect_lib.metrics(y, [float(v) for v in scores])
        detect_lib.log(f"{c}: AUC {auc:.3f}, AP {ap:.3f}, train {seconds:.1f} s; {info}")


if __name__ == "__main__":
    main()
