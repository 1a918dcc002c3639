#!/usr/bin/env python3
"""rows_bench.py - measurements and report of bench/rows.sh (see there).

Runs inside scripts/with-cluster.sh (PGHOST, ... name a fresh cluster with
the extension installed).  Standard library only.  Environment:
  QUICK=1   20,000 rows and one repetition, for a smoke run
  REPS=N    repetitions of every measurement (default 3; medians reported)

The data (generated in SQL, deterministic: setseed):
  rows_t    200,000 rows x 38 columns: 20 real and 8 integer columns driven
            by 3 shared latent factors (so they correlate), 5 text
            categories of 3, 5, 8, 12 and 20 values, 5 booleans; about 3%
            NULLs in 2 real, 1 integer, 2 text and 1 boolean column.
  rows_a    the same rows already encoded, one real[] per row, exactly the
            row model's network input: each continuous column scaled as the
            model scales it (its center and scale from vae_model_info; 0
            where NULL), each category one-hot over the model's codes ("other"
            included; all 0 where NULL), booleans 0/1 (0 where NULL), then one
            NULL flag per column that has NULLs, in the model's order.  The
            array model trains with normalize 'none' on it: the same width,
            the same values, the same network.
"""
import json
import os
import re
import statistics
import subprocess
import sys

QUICK = os.environ.get("QUICK") == "1"
ROWS = 20000 if QUICK else 200000
REPS = int(os.environ.get("REPS", "1" if QUICK else "3"))
EPOCHS = 3
MB = 1e6
OPTS = {"hidden": [64], "latent_dim": 8, "epochs": EPOCHS, "batch_size": 256,
        "learning_rate": 1e-3, "validation_fraction": 0, "activation": "tanh",
        "mc_samples": 10, "seed": 1, "device": "cpu"}
SERIAL = "SET max_parallel_workers_per_gather = 0;"

N_REAL, N_INT = 20, 8
CATS = [3, 5, 8, 12, 20]
N_BOOL = 5
NULLABLE = {"r01", "r02", "i01", "c1", "c2", "b1"}      # about 3% NULL each


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def psql(script):
    """a psql script (stop at the first error; unaligned tuples-only output)"""
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                       input=script, text=True, capture_output=True)
    if p.returncode != 0:
        sys.exit(f"rows_bench: psql failed:\n{script[:2000]}\n{p.stderr}")
    return p.stdout


def maybe_null(name, expr):
    """expr, NULL in about 3% of the rows for the nullable columns"""
    if name in NULLABLE:
        return f"CASE WHEN random() < 0.03 THEN NULL ELSE {expr} END"
    return expr


def table_sql():
    """CREATE TABLE rows_t AS ...: 3 latent normals per row, columns from them"""
    cols = []
    for k in range(1, N_REAL + 1):
        a, b, c = (k % 3 - 1) * 0.8, ((k * 7) % 5 - 2) * 0.4, ((k * 3) % 4 - 1.5) * 0.5
        cols.append((f"r{k:02d}", f"({a}*z1 + {b}*z2 + {c}*z3 + 0.3*e1 * {k % 4 + 1})::real"))
    for k in range(1, N_INT + 1):
        cols.append((f"i{k:02d}", f"round(50 + 10*({(k % 2) * 2 - 1}*z2 + 0.5*z3) + 3*e2)::integer"))
    for k, n in enumerate(CATS, 1):
        # the category follows the latent factors, with noise
        cols.append((f"c{k}", f"'v' || (mod(abs(floor(({n}/4.0)*(z1 + 0.5*z{k % 3 + 1}) + 2*e3)::int), {n}))::text"))
    for k in range(1, N_BOOL + 1):
        cols.append((f"b{k}", f"(z{k % 3 + 1} + 0.5*e4 > {(k - 3) * 0.3})"))
    select = ",\n  ".join(f"{maybe_null(n, e)} AS {n}" for n, e in cols)
    # Box-Muller normals; random() is seeded, the order of generate_series fixed
    normal = "sqrt(-2*ln(1 - random())) * cos(2*pi()*random())"
    return f"""SELECT setseed(0.42);
CREATE TABLE rows_t AS
SELECT
  {select}
FROM (SELECT g, {normal} AS z1, {normal} AS z2, {normal} AS z3,
             {normal} AS e1, {normal} AS e2, {normal} AS e3, {normal} AS e4
      FROM generate_series(1, {ROWS}) g) s;
ANALYZE rows_t;
""", [n for n, _ in cols]


def arrays_sql(info):
    """CREATE TABLE rows_a AS ...: rows_t as the row model's network input"""
    units, flags = [], []
    for c in info["columns"]:
        a = c["attribute"]
        if c["kind"] == "continuous":
            units.append(f"coalesce(({a}::real - {c['center']}::real) / {c['scale']}::real, 0)")
        elif c["kind"] == "boolean":
            units.append(f"coalesce({a}::int, 0)")
        elif c["kind"] == "categorical":
            cats = c["categories"]
            for v in cats:
                units.append(f"coalesce(({a} = '{v}')::int, 0)")
            # the "other" unit: not NULL and none of the kept categories
            kept = ", ".join(f"'{v}'" for v in cats)
            units.append(f"coalesce(({a} NOT IN ({kept}))::int, 0)")
        else:
            sys.exit(f"rows_bench: unexpected kind {c['kind']}")
        if c["null_unit"]:
            flags.append(f"({a} IS NULL)::int")
    body = ",\n    ".join(units + flags)
    return f"""CREATE TABLE rows_a AS SELECT ARRAY[
    {body}]::real[] AS f FROM rows_t;
ANALYZE rows_a;
""", len(units) + len(flags)


# the backend's peak memory (VmHWM, kB) and CPU time (utime + stime of all
# its threads, clock ticks), read from the client side
PROBE = (r"""\! awk '/^VmHWM:/ {print "%s hwm", $2}' /proc/$BENCH_PID/status; """
         r"""awk '{print "%s cpu", $14 + $15}' /proc/$BENCH_PID/stat""")
TICK = os.sysconf("SC_CLK_TCK")


def timed(statement, settings=SERIAL):
    """one statement in a fresh backend: client-side seconds (psql \\timing),
    the backend's CPU seconds during it, its peak memory (bytes) after it and
    at connection"""
    script = "\n".join([r"SELECT pg_backend_pid() AS pid \gset", r"\setenv BENCH_PID :pid",
                        settings, PROBE % ("before", "before"), r"\timing on", statement,
                        r"\timing off", PROBE % ("after", "after")]) + "\n"
    out = psql(script)
    t = re.findall(r"^Time: ([0-9.]+) ms", out, re.M)
    v = {f"{a}_{b}": int(n) for a, b, n in re.findall(r"^(before|after) (hwm|cpu) (\d+)$", out, re.M)}
    return (float(t[0]) / 1000, (v["after_cpu"] - v["before_cpu"]) / TICK,
            v["after_hwm"] * 1024, v["before_hwm"] * 1024)


def main():
    """data, the row model whose encoding the arrays copy, then the
    alternating measurements (each statement in a fresh backend, so that
    VmHWM is its own) and the report"""
    log(f"rows_bench: generating {ROWS} rows")
    sql, names = table_sql()
    psql("CREATE EXTENSION IF NOT EXISTS vae;\n" + sql)
    # one network each (QUICK tables are small enough for the default ensemble)
    opts = json.dumps(dict(OPTS, ensemble=1))
    # the row model whose encoding the arrays reproduce
    psql(f"{SERIAL} CREATE TABLE models AS SELECT 'rows'::text AS kind, "
         f"vae_train(t, '{opts}') AS m FROM rows_t t;")
    info = json.loads(psql("SELECT vae_model_info(m) FROM models WHERE kind = 'rows';"))
    ncols = len(info["columns"])
    sql, width = arrays_sql(info)
    psql(sql)
    assert width == info["input_dim"], (width, info["input_dim"])
    aopts = json.dumps(dict(OPTS, normalize="none", ensemble=1))
    psql(f"{SERIAL} INSERT INTO models SELECT 'arrays', vae_train(f, '{aopts}') FROM rows_a;")
    log(f"rows_bench: {ROWS} rows, {len(names)} columns, {ncols} modelled, "
        f"network input {width} units")

    train = {"rows": f"SELECT length(vae_train(t, '{opts}')) FROM rows_t t;",
             "arrays": f"SELECT length(vae_train(f, '{aopts}')) FROM rows_a;"}
    score = {(k, meth): (f"SELECT sum(vae_score(m.m, {'t' if k == 'rows' else 't.f'}, '{meth}')) "
                         f"FROM models m, {'rows_t' if k == 'rows' else 'rows_a'} t "
                         f"WHERE m.kind = '{k}';")
             for k in ("rows", "arrays") for meth in ("mse", "recon_prob")}
    res = {}
    for rep in range(REPS):
        for k in ("rows", "arrays"):       # alternating A/B within each repetition
            s, cpu, hwm, hwm0 = timed(train[k])
            res.setdefault(("train", k), []).append(s)
            res.setdefault(("train_cpu", k), []).append(cpu)
            res.setdefault(("hwm", k), []).append(hwm)
            log(f"  rep {rep + 1} train {k}: {s:.2f} s ({cpu:.2f} CPU s), "
                f"VmHWM {hwm / MB:.0f} MB (at connect {hwm0 / MB:.0f} MB)")
        for meth in ("mse", "recon_prob"):
            for k in ("rows", "arrays"):
                s, cpu, _, _ = timed(score[(k, meth)])
                res.setdefault((meth, k), []).append(s)
                res.setdefault((meth + "_cpu", k), []).append(cpu)
                log(f"  rep {rep + 1} score {meth} {k}: {s:.2f} s ({cpu:.2f} CPU s)")

    med = {key: statistics.median(v) for key, v in res.items()}

    def pair_ratio(metric):
        """median over the repetitions of arrays time / rows time, each pair
        measured back to back (robust to the machine's load drifting)"""
        return statistics.median(a / r for a, r in zip(res[(metric, "arrays")], res[(metric, "rows")]))

    encoded = ROWS * ncols * 4
    goal = 1.25 * encoded + 64 * MB
    print(f"rows.sh: {ROWS} rows x {len(names)} columns ({ncols} modelled, network input "
          f"{width}), hidden {OPTS['hidden']}, latent {OPTS['latent_dim']}, {EPOCHS} epochs, "
          f"batch {OPTS['batch_size']}; medians of {REPS} alternating repetitions")
    print("| metric | rows (vae_train(t)) | arrays (same data encoded) | ratio | "
          "ratio, median of pairs | ratio of backend CPU time | goal |")
    print("|---|---|---|---|---|---|---|")
    tr = {k: ROWS * EPOCHS / med[("train", k)] for k in ("rows", "arrays")}
    print(f"| training, rows x epochs / s (whole statement) | {tr['rows']:,.0f} | "
          f"{tr['arrays']:,.0f} | {tr['rows'] / tr['arrays']:.2f} | {pair_ratio('train'):.2f} | "
          f"{med[('train_cpu', 'arrays')] / med[('train_cpu', 'rows')]:.2f} | >= 0.80 |")
    for meth, bar in (("mse", 0.7), ("recon_prob", 0.7)):
        r = {k: ROWS / med[(meth, k)] for k in ("rows", "arrays")}
        print(f"| scoring `{meth}`, rows / s (one backend) | {r['rows']:,.0f} | "
              f"{r['arrays']:,.0f} | {r['rows'] / r['arrays']:.2f} | {pair_ratio(meth):.2f} | "
              f"{med[(meth + '_cpu', 'arrays')] / med[(meth + '_cpu', 'rows')]:.2f} | "
              f">= {bar:.2f} |")
    h = {k: med[("hwm", k)] for k in ("rows", "arrays")}
    print(f"| backend peak memory training (VmHWM), MB | {h['rows'] / MB:.0f} | "
          f"{h['arrays'] / MB:.0f} | | | | <= 1.25 x {encoded / MB:.1f} MB encoded rows "
          f"+ 64 MB = {goal / MB:.0f} MB |")
    ok = (tr["rows"] / tr["arrays"] >= 0.8 and h["rows"] <= goal and
          all(med[(m, "arrays")] / med[(m, "rows")] >= 0.7 for m in ("mse", "recon_prob")))
    print(f"rows.sh: goals {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
