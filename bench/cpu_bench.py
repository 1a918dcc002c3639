#!/usr/bin/python3
"""cpu_bench.py - measurements and report of bench/cpu.sh (see there).

Runs inside scripts/with-cluster.sh: PGHOST, PGPORT, ... name a fresh cluster
of a server that has the extension installed.  Environment:
  BENCH_TMP   scratch directory for the data files
  BENCH_GEMM  the compiled bench/cpu_gemm.c
  BENCH_SCORE the compiled bench/cpu_score.c (the core's per-row and batched scoring)
  QUICK=1     small sizes, for a smoke run
  DETECT_ONLY=1  only the KDD-like scoring and detection parts (3 and 5)
  OUT_JSON    also write the summary (and details) there as JSON

Progress goes to stderr as it happens; the report goes to stdout at the end.
"""
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = os.environ.get("QUICK") == "1"
TMP = os.environ["BENCH_TMP"]
GEMM = os.environ["BENCH_GEMM"]
SCORE = os.environ["BENCH_SCORE"]
DETECT_ONLY = os.environ.get("DETECT_ONLY") == "1"

MAX_REPS = 3                        # best of up to this many repetitions...
REP_BUDGET_S = 8 if QUICK else 30   # ...while one alternative's reps took less than this
TIMEOUT_FACTOR = 2                  # a PyTorch thread count this much slower than its best is cut short
THREADS = (1, 2)                    # OpenBLAS thread counts of the GEMM ceiling
# PyTorch configurations tried, the best counts: torch.set_num_threads() (its
# OpenMP pool, elementwise work) and OpenBLAS's own pool (this torch build's
# GEMMs), which set_num_threads does not size
TORCH_CONFIGS = {"1 thr": (1, 1), "2 thr": (2, 2), "1 thr + BLAS 2": (1, 2)}
GEMM_SECONDS = 0.05 if QUICK else 0.3   # timing per GEMM shape and thread count
BATCH = 128
MB = 1e6                            # memory in MB of 10^6 bytes (the rows' 94 MB)

COMMON = {"epochs": 2, "batch_size": BATCH, "learning_rate": 1e-3, "validation_fraction": 0,
          "normalize": "none", "seed": 1, "device": "cpu", "verbose": True}
NETS = {
    "mnist": {"title": "MNIST-like 784-400-20 relu bernoulli", "table": "mnist",
              "rows": 6000 if QUICK else 60000, "dim": 784,
              "options": dict(COMMON, hidden=[400], latent_dim=20, likelihood="bernoulli",
                              activation="relu")},
    "kdd": {"title": "KDD-like 118-60-10 tanh gaussian", "table": "kdd",
            "rows": 20000 if QUICK else 200000, "dim": 118,
            "options": dict(COMMON, hidden=[60], latent_dim=10, likelihood="gaussian",
                            activation="tanh", mc_samples=10)},
    # the MNIST-like network on dense rows: every pixel non-zero, where
    # Adam's moments went subnormal and epochs slowed down (vc_fpenv.h)
    "mnist_dense": {"title": "MNIST-like dense uniform rows 784-400-20 relu bernoulli",
                    "table": "mnist_dense", "rows": 6000 if QUICK else 60000, "dim": 784,
                    "options": dict(COMMON, hidden=[400], latent_dim=20, likelihood="bernoulli",
                                    activation="relu")},
}

SERIAL = "SET max_parallel_workers_per_gather = 0;"
PARALLEL = ("SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; "
            "SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fmt_int(v):
    return f"{v:,.0f}"


# ---------------------------------------------------------------------------
# Data: quantized to exact binary fractions, so that the decimal text COPY
# reads gives bit for bit the float32 values PyTorch gets from the .npy file.
# Each generator returns (codes, levels): row values are levels[codes].
# ---------------------------------------------------------------------------

def mnist_like(n, rng):
    """28x28 images: a pixel is inked with a probability falling off from the
    centre (about 20% inked, like MNIST), at an ink level k/16, k in 1..16."""
    yy, xx = np.mgrid[0:28, 0:28]
    p = (0.75 * np.exp(-((yy - 13.5) ** 2 + (xx - 13.5) ** 2) / 72.0)).ravel()
    inked = rng.random((n, 784), dtype=np.float32) < p
    codes = inked * rng.integers(1, 17, (n, 784), dtype=np.uint8)
    return codes, np.arange(17, dtype=np.float32) / 16


def mnist_dense(n, rng):
    """784 pixels uniform in [0, 1), as multiples of 1/256: dense rows, no zeros
    to speak of, where mnist_like's are 80% zeros"""
    return rng.integers(0, 256, (n, 784), dtype=np.int16), np.arange(256, dtype=np.float32) / 256


def kdd_like(n, rng):
    """KDD Cup 99 as usually one-hot encoded: three categorical columns of 3,
    70 and 11 values (Zipf-distributed) one-hot, plus 34 continuous features
    of standardized scale, as multiples of 1/32 in [-4, 4]."""
    parts = []
    for k in (3, 70, 11):
        p = 1.0 / np.arange(1, k + 1)
        parts.append(np.eye(k, dtype=np.int16)[rng.choice(k, size=n, p=p / p.sum())] * 32)
    scale = rng.uniform(0.3, 1.5, 34)
    parts.append(np.clip(np.round(rng.standard_normal((n, 34)) * scale * 32), -128, 128))
    codes = np.concatenate(parts, axis=1).astype(np.int16) + 128
    return codes, np.arange(-128, 129, dtype=np.float32) / 32


def write_copy_file(codes, levels, path):
    """one real[] literal per line, the text format COPY reads"""
    text = [np.format_float_positional(v, trim="-") for v in levels]
    with open(path, "w") as f:
        for row in codes.tolist():
            f.write("{" + ",".join([text[c] for c in row]) + "}\n")


def npy_path(net):
    return os.path.join(TMP, net["table"] + ".npy")


def load_data():
    for seed, (name, gen) in enumerate((("mnist", mnist_like), ("kdd", kdd_like),
                                        ("mnist_dense", mnist_dense))):
        if DETECT_ONLY and name != "kdd":
            continue
        net = NETS[name]
        t0 = time.perf_counter()
        codes, levels = gen(net["rows"], np.random.default_rng(seed))
        assert codes.shape == (net["rows"], net["dim"])
        np.save(npy_path(net), levels[codes])
        copy_path = os.path.join(TMP, name + ".txt")
        write_copy_file(codes, levels, copy_path)
        psql(f"CREATE TABLE {name} (f real[]);\n"
             f"\\copy {name} (f) FROM '{copy_path}'\n"
             f"VACUUM (FREEZE, ANALYZE) {name};\n")
        os.unlink(copy_path)
        log(f"  {name}: {fmt_int(net['rows'])} rows loaded in {time.perf_counter() - t0:.1f} s")


# ---------------------------------------------------------------------------
# Running things
# ---------------------------------------------------------------------------

def psql(script):
    """run a psql script (stop at the first error; unaligned tuples-only output)"""
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", " ", "-v", "ON_ERROR_STOP=1",
                        "-f", "-"], input=script, text=True, capture_output=True)
    if p.returncode != 0:
        sys.exit(f"cpu_bench: psql failed:\n{script}\n{p.stderr}")
    return p.stdout, p.stderr


# reads the backend's /proc status lines (world-readable) from the client side
PROBE = r"""\! awk '/^(VmHWM|RssAnon|RssShmem|Threads):/ {print "%s", $1, $2}' /proc/$BENCH_PID/status"""
# ...and its CPU time, utime + stime in clock ticks (all its threads: OpenBLAS's too)
CPU_PROBE = r"""\! awk '{print "%s CpuTicks:", $14 + $15}' /proc/$BENCH_PID/stat"""


def in_fresh_backend(statement, settings=""):
    """Run one SQL statement in a new connection, timed client-side by psql's
    \\timing, with the backend's VmHWM, RssAnon, RssShmem (kB) and thread
    count read before (right after connecting) and after it."""
    script = "\n".join([r"SELECT pg_backend_pid() AS pid \gset", r"\setenv BENCH_PID :pid",
                        PROBE % "before", settings, CPU_PROBE % "before", r"\timing on", statement,
                        r"\timing off", CPU_PROBE % "after", PROBE % "after"]) + "\n"
    out, err = psql(script)
    times = re.findall(r"^Time: ([0-9.]+) ms", out, re.M)
    assert len(times) == 1, out
    r = {"seconds": float(times[0]) / 1000, "out": out, "err": err}
    for tag, key, value in re.findall(r"^(before|after) (\w+): (\d+)$", out, re.M):
        r[f"{tag}_{key}"] = int(value)
    r["cpu_seconds"] = (r["after_CpuTicks"] - r["before_CpuTicks"]) / os.sysconf("SC_CLK_TCK")
    return r


def torch_run(cmd, net, config, limit, *args):
    """one timing by bench/cpu_torch.py in a fresh process with the threads
    of config (torch, OpenBLAS); seconds None when it ran past limit (it is
    killed then).  OMP_WAIT_POLICY=passive: GNU OpenMP's default
    spin-waiting fights OpenBLAS's pool for the cores (5x slower in tests)."""
    threads, blas = config
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(blas),
               OMP_WAIT_POLICY="passive")
    argv = [sys.executable, os.path.join(HERE, "cpu_torch.py"), cmd,
            json.dumps(net["options"]), npy_path(net), str(threads), *args]
    try:
        # the limit is on the timed loop; allow for importing torch and loading
        p = subprocess.run(argv, env=env, capture_output=True, text=True, check=True,
                           timeout=None if limit is None else limit + 15)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "cut": limit}
    except subprocess.CalledProcessError as e:
        sys.exit(f"cpu_bench: {' '.join(argv)} failed:\n{e.stderr}")
    r = json.loads(p.stdout)
    if limit is not None and r["seconds"] > limit:
        return {"seconds": None, "cut": limit}
    return r


def show_time(r):
    if r["seconds"] is None:
        return f"cut >{r['cut']:.1f} s"
    return f"{r['seconds']:.2f} s"


def plural(n, word):
    return f"{n} {word}{'s' if n != 1 else ''}"


def show_value(v):
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"


def race(label, runs):
    """Best-of-N timing of alternatives measured in interleaved rounds (A B C,
    A B C, ...), so that a burst of load from other jobs on this shared
    machine does not hit one alternative only.  runs: {name: (fn, group)}
    with fn(limit) -> dict with "seconds" (None: cut at limit).  An
    alternative is repeated while it has fewer than MAX_REPS results and they
    took less than REP_BUDGET_S in all.  Within a group (the thread counts of
    one reference, of which only the best counts) a run is cut at
    TIMEOUT_FACTOR x the group's best so far, and is not retried once cut.
    Returns {name: its best result, with "reps": all its times}."""
    results = {name: [] for name in runs}

    def wants_more(rs):
        return (len(rs) < MAX_REPS and all(r["seconds"] is not None for r in rs)
                and sum(r["seconds"] for r in rs) < REP_BUDGET_S)

    while True:
        todo = [name for name in runs if wants_more(results[name])]
        if not todo:
            break
        for name in todo:
            fn, group = runs[name]
            done = [r["seconds"] for other, (_, g) in runs.items() if group and g == group
                    for r in results[other] if r["seconds"] is not None]
            r = fn(TIMEOUT_FACTOR * min(done) if done else None)
            results[name].append(r)
            log(f"  [{label}] {name}: {show_time(r)}")
    best = {}
    for name, rs in results.items():
        timed = [r for r in rs if r["seconds"] is not None]
        best[name] = dict(min(timed, key=lambda r: r["seconds"]) if timed else rs[0],
                          reps=[r["seconds"] for r in rs])
    return best


def best_torch(results):
    """(seconds, name) of the fastest PyTorch configuration"""
    return min((results[f"PyTorch {c}"]["seconds"], c) for c in TORCH_CONFIGS
               if results[f"PyTorch {c}"]["seconds"] is not None)


# ---------------------------------------------------------------------------
# The networks' GEMMs and FLOPs
# ---------------------------------------------------------------------------

def layers(net):
    """(encoder, decoder) as lists of (in, out), in vae's layer order"""
    o, d = net["options"], net["dim"]
    h, z = o["hidden"], o["latent_dim"]
    head = 2 * d if o["likelihood"] == "gaussian" else d
    return list(zip([d] + h, h + [2 * z])), list(zip([z] + h[::-1], h[::-1] + [head]))


def macs(layer_list):
    """multiply-adds per row of a list of (in, out) layers"""
    return sum(fan_in * fan_out for fan_in, fan_out in layer_list)


def train_gemms(net):
    """The GEMMs of one training step, as src/core/vc_nn.c calls them: per
    layer the forward NN (batch x in times in x out), the weight gradient TN
    and the input gradient NT -- except for the first layer, whose input is
    the data (PyTorch skips it as well).  As (op, M, N, K)."""
    enc, dec = layers(net)
    calls = []
    for i, (fan_in, fan_out) in enumerate(enc + dec):
        calls.append(("NN", BATCH, fan_out, fan_in))
        calls.append(("TN", fan_in, fan_out, BATCH))
        if i > 0:
            calls.append(("NT", BATCH, fan_in, fan_out))
    return calls


def flops(call):
    return 2 * call[1] * call[2] * call[3]


def train_flops_per_row(net):
    return sum(flops(c) for c in train_gemms(net)) / BATCH


def gemm_rates(shapes, threads):
    """{shape: GFLOP/s} from bench/cpu_gemm at this OpenBLAS thread count"""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([GEMM, str(GEMM_SECONDS)] + [f"{op}:{m},{n},{k}" for op, m, n, k in shapes],
                         env=env, capture_output=True, text=True, check=True).stdout
    rates = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 5:
            rates[(f[0], int(f[1]), int(f[2]), int(f[3]))] = float(f[4])
    return rates


def network_ceiling(net, rates):
    """(GFLOP/s, rows/s) of a training step made of nothing but its GEMMs,
    each at its measured rate, at the better thread count"""
    calls = train_gemms(net)
    total = sum(flops(c) for c in calls)
    best = min(sum(flops(c) / (rates[t][c] * 1e9) for c in calls) for t in THREADS)
    return total / best / 1e9, BATCH / best


# ---------------------------------------------------------------------------
# The measurements
# ---------------------------------------------------------------------------

def measure_gemm():
    shapes = sorted({c for net in NETS.values() for c in train_gemms(net)})
    square = 1024 if QUICK else 2048
    shapes.append(("NN", square, square, square))
    rates = {t: gemm_rates(shapes, t) for t in THREADS}
    log(f"  {len(shapes)} shapes timed at {', '.join(map(str, THREADS))} threads")
    return {"shapes": shapes, "rates": rates, "square": ("NN", square, square, square)}


def vae_train_run(net):
    """the timed statement, in a fresh connection; epoch times from the
    verbose NOTICEs and the core's own train_seconds for the phase split"""
    # one network, as the PyTorch and C references train (QUICK tables are
    # small enough for the default ensemble of three)
    opts = json.dumps(dict(net["options"], ensemble=1))
    r = in_fresh_backend(f"SELECT 'train_seconds', vae_model_info(vae_train(f, '{opts}'))"
                         f"->>'train_seconds' FROM {net['table']};")
    r["train_seconds"] = float(re.search(r"^train_seconds (\S+)$", r["out"], re.M).group(1))
    r["epoch_elapsed"] = [float(s) for s in
                          re.findall(r"vae_train epoch \d+: loss \S+, ([0-9.]+) s", r["err"])]
    return r


def plan_of(statement):
    out, _ = psql(f"EXPLAIN (COSTS OFF) {statement}")
    m = re.search(r"Workers Planned: (\d+)", out)
    return f"parallel, {m.group(1)} workers planned" if m else "serial"


def measure_training(name):
    net = NETS[name]
    plan = plan_of(f"SELECT vae_train(f, '{{}}') FROM {net['table']}")
    runs = {"vae": (lambda limit: vae_train_run(net), None)}
    for label, config in TORCH_CONFIGS.items():
        runs[f"PyTorch {label}"] = (lambda limit, c=config: torch_run("train", net, c, limit), "torch")
    return {"plan": plan, "results": race(f"train {name}", runs)}


def make_scoring_model():
    """The model scored in part 3, trained with a serial plan in a fresh
    connection -- which also gives the serial plan's peak memory."""
    net = NETS["kdd"]
    r = in_fresh_backend(f"CREATE TABLE kdd_model AS SELECT vae_train(f, "
                         f"'{json.dumps(net['options'])}') AS model FROM kdd;", SERIAL)
    # a plain (not parallel) scan of the one-row model table keeps the plans simple
    psql("ALTER TABLE kdd_model SET (parallel_workers = 0);\n"
         "ALTER TABLE kdd SET (parallel_workers = 2);\n")
    log(f"  model for scoring trained (serial plan) in {r['seconds']:.2f} s")
    return r


def score_statement(method):
    arg = "" if method == "recon_prob" else f", '{method}'"   # recon_prob is the default
    return f"SELECT sum(vae_score((SELECT model FROM kdd_model), f{arg})) FROM kdd;"


def check_parallel_plan():
    """EXPLAIN ANALYZE of the 2-worker mse query: the scoring must happen in
    a Partial Aggregate below a Gather that launched 2 workers"""
    out, _ = psql(f"{PARALLEL}\nEXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
                  f"{score_statement('mse')}")
    ok = ("Partial Aggregate" in out and "Workers Planned: 2" in out
          and "Workers Launched: 2" in out)
    return ok, out.rstrip()


def measure_scoring():
    net = NETS["kdd"]
    ok, plan = check_parallel_plan()
    if not ok:
        log("  WARNING: the 2-worker plan is not a Partial Aggregate on 2 launched workers")
    runs = {}
    for method in ("mse", "recon_prob"):
        for label, settings in (("1 backend", SERIAL), ("2 workers", PARALLEL)):
            runs[f"vae {method} {label}"] = (
                lambda limit, m=method, s=settings: in_fresh_backend(score_statement(m), s), None)
        runs[f"PyTorch {method} 1 thr"] = (
            lambda limit, m=method: torch_run("score", net, (1, 1), limit, m), None)
    return {"plan_ok": ok, "plan": plan, "results": race("score kdd", runs)}


DETECT_CONTAMINATION = 0.01


def detect_statement(method):
    """the set-returning vae_detect over the whole table, scoring by method"""
    return (f"SELECT sum(score) FROM vae_detect((SELECT model FROM kdd_model), 'kdd'::regclass, "
            f"{DETECT_CONTAMINATION}, method => '{method}');")


def core_run(method):
    """one run of bench/cpu_score.c on the scoring model and the KDD-like rows:
    the core's per-row and batched scoring of every row, one thread"""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    p = subprocess.run([SCORE, os.path.join(TMP, "kdd_model.hex"), npy_path(NETS["kdd"]), method],
                       env=env, capture_output=True, text=True, check=True)
    r = json.loads(p.stdout)
    return dict(r, seconds=r["batched_wall"], cpu_seconds=r["batched_cpu"])


def measure_detection():
    """part 5: the set-returning vae_detect in one backend and the core's
    batched and per-row paths (bench/cpu_score.c), for mse and recon_prob"""
    out, _ = psql("SELECT encode(model, 'hex') FROM kdd_model;\n")
    with open(os.path.join(TMP, "kdd_model.hex"), "w") as f:
        f.write(out.strip())
    runs = {}
    for method in ("mse", "recon_prob"):
        runs[f"vae_detect {method} 1 backend"] = (
            lambda limit, m=method: in_fresh_backend(detect_statement(m), SERIAL), None)
        runs[f"core batched {method}"] = (lambda limit, m=method: core_run(m), None)
    return {"results": race("detect kdd", runs)}


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def training_figures(net, res, ceiling):
    """derived training figures of the best vae run and the best PyTorch run"""
    work = net["rows"] * net["options"]["epochs"]
    fpr = train_flops_per_row(net)
    v = res["vae"]
    ep = v["epoch_elapsed"]
    n_ep = len(ep)
    # NOTICE times are since the core started (sort, normalization, then
    # epochs): one epoch is the mean difference, the rest of epoch 1 is setup
    # (an estimate: a burst of load during epoch 1 shows up as setup)
    per_epoch = (ep[-1] - ep[0]) / (n_ep - 1) if n_ep > 1 else ep[0]
    phases = [("scan + aggregate input (before training)", v["seconds"] - v["train_seconds"]),
              ("canonical sort + normalization", max(ep[0] - per_epoch, 0.0)),
              (f"{n_ep} epochs", ep[-1] - max(ep[0] - per_epoch, 0.0)),
              ("score sample for vae_threshold", v["train_seconds"] - ep[-1])]
    t_sec, t_config = best_torch(res)
    return {
        "work": work, "flops_per_row": fpr,
        "vae_rate": work / v["seconds"], "vae_loop_rate": net["rows"] / per_epoch,
        "torch_rate": work / t_sec, "torch_config": t_config,
        "vae_gflops": work / v["seconds"] * fpr / 1e9,
        "vae_loop_gflops": net["rows"] / per_epoch * fpr / 1e9,
        "torch_gflops": work / t_sec * fpr / 1e9,
        "ceiling_gflops": ceiling[0], "ceiling_rate": ceiling[1],
        "phases": phases, "backend_threads": v.get("after_Threads"),
        "hwm_delta_mb": (v["after_VmHWM"] - v["before_VmHWM"]) * 1024 / MB,
    }


def memory_figures(run, net):
    rows_mb = net["rows"] * net["dim"] * 4 / MB
    delta = (run["after_VmHWM"] - run["before_VmHWM"]) * 1024 / MB
    goal = 1.25 * rows_mb + 64
    return {"delta_mb": delta, "rows_mb": rows_mb, "goal_mb": goal, "ratio": delta / rows_mb,
            "ok": delta <= goal, "baseline_mb": run["before_VmHWM"] * 1024 / MB,
            "rss_anon_mb": run["after_RssAnon"] * 1024 / MB,
            "rss_shmem_mb": run["after_RssShmem"] * 1024 / MB}


def report_header(p, load_start):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    p("=" * 109)
    p(f"vae CPU benchmark{'  (QUICK=1: reduced sizes)' if QUICK else ''}   "
      f"{time.strftime('%Y-%m-%d %H:%M:%S')}")
    p(f"host: {cpu}, {os.cpu_count()} CPUs; load average at start {load_start}, "
      f"at end {' '.join(open('/proc/loadavg').read().split()[:3])}")
    p("Every vae figure is paired with a reference measured in this run.  Timings: best of up to "
      f"{MAX_REPS} interleaved repetitions,")
    p(f"repeated while an alternative's runs total under {REP_BUDGET_S} s.  A PyTorch configuration "
      "whose run passes")
    p(f"{TIMEOUT_FACTOR} x the best PyTorch time so far is stopped ('cut': it cannot be the best) "
      "and not retried.")
    return cpu


def report_gemm(p, gemm):
    """part 1; returns the square-GEMM peak"""
    rates = gemm["rates"]
    p("")
    p("1. GEMM ceiling: cblas_sgemm (OpenBLAS), GFLOP/s, C(MxN) = op(A)(MxK) op(B)(KxN)")
    p(f"   {'op M x N x K':<22}" + "".join(f"{plural(t, 'thread'):>12}" for t in THREADS))
    for s in gemm["shapes"]:
        shape = f"{s[0]} {s[1]} x {s[2]} x {s[3]}"
        p(f"   {shape:<22}" + "".join(f"{rates[t][s]:>12.1f}" for t in THREADS))
    return max(rates[t][gemm["square"]] for t in THREADS)


def report_training(p, training, rates, peak):
    """part 2; returns {net name: training_figures}"""
    figs = {}
    p("")
    p("2. Training throughput: SELECT vae_train(f, opts) FROM t, wall time client-side (psql \\timing),")
    p("   against PyTorch (same network, batch, Adam 1e-3, rows, epochs) at its best thread configuration:")
    p("   'N thr' = torch.set_num_threads(N) with an N-thread OpenBLAS pool (this torch's GEMMs), '1 thr +")
    p("   BLAS 2' = 1 torch thread, 2 OpenBLAS threads (like vae's backend, whose elementwise work is serial).")
    p("   Timed statement: SELECT vae_model_info(vae_train(...))->>'train_seconds' (the same aggregate")
    p("   call, plus one model decode of a few ms, to split the time into phases).")
    p("   FLOPs counted: the GEMMs only, 2*M*N*K each -- forward + weight gradient for every layer, input")
    p("   gradient for every layer but the first (neither side computes it); elementwise work not counted.")
    for name in NETS:
        net, res = NETS[name], training[name]["results"]
        f = figs[name] = training_figures(net, res, network_ceiling(net, rates))
        v = res["vae"]
        p("")
        p(f"   {net['title']}: {fmt_int(net['rows'])} rows x {net['options']['epochs']} epochs, "
          f"batch {BATCH}; vae plan: {training[name]['plan']}")
        p(f"   FLOPs per row per epoch: {fmt_int(f['flops_per_row'])}  (3 x 2 x sum(in*out) would be "
          f"{fmt_int(6 * macs(sum(layers(net), [])))})")
        p(f"   {'':<30}{'time':>14}{'rows*epochs/s':>16}{'GFLOP/s':>10}")
        p(f"   {'vae, whole statement':<30}{show_time(v):>14}{fmt_int(f['vae_rate']):>16}"
          f"{f['vae_gflops']:>10.1f}   reps: {', '.join(f'{s:.2f}' for s in v['reps'])}")
        p(f"   {'vae, training loop only':<30}{'':>14}{fmt_int(f['vae_loop_rate']):>16}"
          f"{f['vae_loop_gflops']:>10.1f}   (from the per-epoch NOTICE times)")
        for config in TORCH_CONFIGS:
            r = res[f"PyTorch {config}"]
            rate = fmt_int(f["work"] / r["seconds"]) if r["seconds"] else "-"
            gf = f"{f['work'] / r['seconds'] * f['flops_per_row'] / 1e9:.1f}" if r["seconds"] else "-"
            reps = ", ".join(f"{s:.2f}" if s else "cut" for s in r["reps"])
            p(f"   {'PyTorch, ' + config:<30}{show_time(r):>14}"
              f"{rate:>16}{gf:>10}   reps: {reps}")
        p(f"   {'GEMM-only ceiling (part 1)':<30}{'':>14}{fmt_int(f['ceiling_rate']):>16}"
          f"{f['ceiling_gflops']:>10.1f}")
        p(f"   vae / PyTorch ({f['torch_config']}): "
          f"{f['vae_rate'] / f['torch_rate']:.2f} (whole statement), "
          f"{f['vae_loop_rate'] / f['torch_rate']:.2f} (training loop only)")
        p(f"   vae achieved {f['vae_gflops']:.1f} GFLOP/s = {f['vae_gflops'] / f['ceiling_gflops']:.0%} of "
          f"the network's GEMM ceiling, {f['vae_gflops'] / peak:.0%} of the square-GEMM peak "
          f"({peak:.0f});")
        p(f"   training loop only: {f['vae_loop_gflops'] / f['ceiling_gflops']:.0%} of the ceiling; "
          f"PyTorch: {f['torch_gflops'] / f['ceiling_gflops']:.0%} of the ceiling")
        p(f"   phases of the best vae run ({v['seconds']:.2f} s; epoch times have 0.1 s resolution, "
          "sort + normalization = epoch 1 - mean epoch):")
        for label, sec in f["phases"]:
            p(f"     {label:<44}{sec:>7.2f} s  {sec / v['seconds']:>4.0%}")
        p(f"   backend threads after training: {f['backend_threads']} (the backend + OpenBLAS's pool, "
          f"sized by the server's OPENBLAS_NUM_THREADS,")
        p(f"   else one per CPU); backend VmHWM grew by {f['hwm_delta_mb']:.0f} MB")
    return figs


def report_scoring(p, scoring):
    """part 3; returns ({alternative: seconds}, expected recon_prob/mse ratio)"""
    kdd = NETS["kdd"]
    rows, L = kdd["rows"], kdd["options"]["mc_samples"]
    enc, dec = layers(kdd)
    share = macs(dec) / (macs(enc) + macs(dec))
    expected = (macs(enc) + L * macs(dec)) / (macs(enc) + macs(dec))
    sec = {name: r["seconds"] for name, r in scoring["results"].items()}
    p("")
    p(f"3. Scoring throughput, {kdd['title']}, {fmt_int(rows)} rows:")
    p(f"   {score_statement('mse')}  (and without the method: recon_prob, L = {L})")
    p(f"   {'':<30}{'time':>14}{'rows/s':>12}   reps")
    for name, r in scoring["results"].items():
        p(f"   {name:<30}{show_time(r):>14}{fmt_int(rows / r['seconds']):>12}   "
          f"{', '.join(f'{s:.2f}' for s in r['reps'])}")
    p(f"   2-worker plan checked by EXPLAIN ANALYZE: {'yes' if scoring['plan_ok'] else 'NO'}")
    for line in scoring["plan"].splitlines():
        p(f"     | {line}")
    p(f"   mse: vae 1 backend / PyTorch 1 thread (rows/s): "
      f"{sec['PyTorch mse 1 thr'] / sec['vae mse 1 backend']:.2f}")
    p(f"   2 workers / 1 backend speed-up: mse {sec['vae mse 1 backend'] / sec['vae mse 2 workers']:.2f}, "
      f"recon_prob {sec['vae recon_prob 1 backend'] / sec['vae recon_prob 2 workers']:.2f}  "
      f"(2 cores shared with other jobs; the leader scans too)")
    p(f"   recon_prob / mse cost (1 backend): vae "
      f"{sec['vae recon_prob 1 backend'] / sec['vae mse 1 backend']:.2f}, PyTorch "
      f"{sec['PyTorch recon_prob 1 thr'] / sec['PyTorch mse 1 thr']:.2f}; expected from FLOPs "
      f"{expected:.2f} = 1 + (L-1) x decoder share {share:.2f}")
    p(f"     (mse encodes once and decodes once, recon_prob encodes once and decodes L = {L} times;"
      f" 1 + L x share = {1 + L * share:.2f})")
    return sec, expected


def report_detection(p, scoring, detection):
    """part 5; returns the summary rows [(metric, vae, reference, label)]"""
    kdd = NETS["kdd"]
    rows = kdd["rows"]
    res = dict(scoring["results"], **detection["results"])
    core = {m: res[f"core batched {m}"] for m in ("mse", "recon_prob")}
    alts = [("vae_score mse, per row (part 3)", res["vae mse 1 backend"]),
            ("vae_score recon_prob, per row (part 3)", res["vae recon_prob 1 backend"]),
            ("vae_detect mse, set-returning", res["vae_detect mse 1 backend"]),
            ("vae_detect recon_prob, set-returning", res["vae_detect recon_prob 1 backend"])]
    for m in ("mse", "recon_prob"):
        c = core[m]
        alts.append((f"core per-row {m}", {"seconds": c["per_row_wall"], "cpu_seconds": c["per_row_cpu"],
                                           "reps": []}))
        alts.append((f"core batched {m}", c))
    for m in ("mse", "recon_prob"):
        alts.append((f"PyTorch batched {m}, 1 thread", res[f"PyTorch {m} 1 thr"]))
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "OpenBLAS's default")
    p("")
    p(f"5. Detection over a table, {kdd['title']}, {fmt_int(rows)} rows, against PyTorch's batched")
    p(f"   forward pass on one thread.  {detect_statement('recon_prob')} (and 'mse')")
    p(f"   (contamination {DETECT_CONTAMINATION}: the anomalies also get top and row_data); the core's "
      "paths: bench/cpu_score.c, one thread.")
    p(f"   Server OPENBLAS_NUM_THREADS: {blas} (VAE_BLAS_THREADS=1 for one core).  CPU = the process's "
      "CPU time, all threads:")
    p("   the one-core cost even when other jobs share the machine.")
    p(f"   {'':<40}{'wall':>9}{'rows/s':>11}{'CPU':>9}{'rows/s':>11}   reps")
    for name, r in alts:
        cpu = r.get("cpu_seconds")
        p(f"   {name:<40}{show_time(r):>9}{fmt_int(rows / r['seconds']):>11}"
          f"{(f'{cpu:.2f} s' if cpu else '-'):>9}{(fmt_int(rows / cpu) if cpu else '-'):>11}   "
          f"{', '.join(f'{s:.2f}' for s in r.get('reps', []) if s is not None)}")
    differ = {m: core[m]["differ"] for m in core}
    p(f"   core batched scores that differ in any bit from per-row: mse {differ['mse']}, "
      f"recon_prob {differ['recon_prob']} of {fmt_int(rows)}")
    out = []
    for label, r, m in (("vae_detect recon_prob", res["vae_detect recon_prob 1 backend"], "recon_prob"),
                        ("vae_detect mse", res["vae_detect mse 1 backend"], "mse"),
                        ("core batched recon_prob", core["recon_prob"], "recon_prob"),
                        ("core batched mse", core["mse"], "mse"),
                        ("vae_score recon_prob per row", res["vae recon_prob 1 backend"], "recon_prob"),
                        ("vae_score mse per row", res["vae mse 1 backend"], "mse")):
        t = res[f"PyTorch {m} 1 thr"]
        p(f"   {label} / PyTorch batched {m} (rows/s): wall {t['seconds'] / r['seconds']:.2f}, "
          f"CPU {t['cpu_seconds'] / r['cpu_seconds']:.2f}")
        out.append((f"{label}, CPU rows/s", rows / r["cpu_seconds"], rows / t["cpu_seconds"],
                    "PyTorch 1 thr, CPU"))
    return out


def report_memory(p, training, model_run):
    """part 4; returns the figures of the timed statement and of the serial plan"""
    kdd = NETS["kdd"]
    mem = memory_figures(training["kdd"]["results"]["vae"], kdd)
    mem_serial = memory_figures(model_run, kdd)
    p("")
    p(f"4. Peak memory of the backend training {kdd['title']} ({fmt_int(kdd['rows'])} x {kdd['dim']} "
      f"float32 = {mem['rows_mb']:.1f} MB of rows; MB = 10^6 bytes)")
    p("   VmHWM after training minus VmHWM right after connecting, same connection:")
    for label, m in ((f"timed statement ({training['kdd']['plan']})", mem),
                     ("serial plan (max_parallel_workers_per_gather = 0)", mem_serial)):
        p(f"   {label:<52} {m['delta_mb']:7.1f} MB = {m['ratio']:.2f} x rows  "
          f"(baseline {m['baseline_mb']:.0f} MB; after: RssAnon {m['rss_anon_mb']:.0f} MB, "
          f"RssShmem {m['rss_shmem_mb']:.0f} MB)")
    p(f"   goal: at most 1.25 x rows + 64 MB = {mem['goal_mb']:.1f} MB "
      "(parallel workers' own memory not counted)")
    return mem, mem_serial


def report_summary(p, figs, sec, expected, mem, mem_serial, detect_rows):
    """the summary table; returns its rows as dicts"""
    rows = NETS["kdd"]["rows"]
    mn, kd, md = figs["mnist"], figs["kdd"], figs["mnist_dense"]
    # (metric, vae, reference, what the reference is, goal, goal met)
    summary = [
        ("train MNIST-like, rows*epochs/s", mn["vae_rate"], mn["torch_rate"],
         f"PyTorch {mn['torch_config']}", None, None),
        ("train KDD-like, rows*epochs/s", kd["vae_rate"], kd["torch_rate"],
         f"PyTorch {kd['torch_config']}", None, None),
        ("train MNIST-like dense, rows*epochs/s", md["vae_rate"], md["torch_rate"],
         f"PyTorch {md['torch_config']}", None, None),
        ("  dense / sparse MNIST-like rate", md["vae_rate"] / mn["vae_rate"],
         md["torch_rate"] / mn["torch_rate"], "the same for PyTorch", "about 1", None),
        ("train MNIST-like, GFLOP/s", mn["vae_gflops"], mn["ceiling_gflops"], "GEMM ceiling", None, None),
        ("train KDD-like, GFLOP/s", kd["vae_gflops"], kd["ceiling_gflops"], "GEMM ceiling", None, None),
        ("score mse, 1 backend, rows/s", rows / sec["vae mse 1 backend"],
         rows / sec["PyTorch mse 1 thr"], "PyTorch 1 thr", None, None),
        ("score recon_prob, 1 backend, rows/s", rows / sec["vae recon_prob 1 backend"],
         rows / sec["PyTorch recon_prob 1 thr"], "PyTorch 1 thr", None, None),
        ("score mse, 2 workers, rows/s", rows / sec["vae mse 2 workers"],
         rows / sec["vae mse 1 backend"], "vae 1 backend", "ideal 2.00", None),
        ("score recon_prob, 2 workers, rows/s", rows / sec["vae recon_prob 2 workers"],
         rows / sec["vae recon_prob 1 backend"], "vae 1 backend", "ideal 2.00", None),
        ("score recon_prob/mse time", sec["vae recon_prob 1 backend"] / sec["vae mse 1 backend"],
         expected, "FLOP ratio", "about 1", None),
        ("peak memory KDD train, MB", mem["delta_mb"], mem["rows_mb"], "rows",
         f"<= {mem['goal_mb']:.0f} MB", mem["ok"]),
        ("  same, serial plan, MB", mem_serial["delta_mb"], mem_serial["rows_mb"], "rows",
         f"<= {mem_serial['goal_mb']:.0f} MB", mem_serial["ok"]),
    ] + [(metric, v, ref, label, ">= 1.00", v >= ref) for metric, v, ref, label in detect_rows[:4]]
    p("")
    p("SUMMARY (ratio = vae / reference; for memory, MB used / MB of rows)")
    p(f"{'metric':<38}| {'vae':>10} | {'reference':>10} {'':<23}| {'ratio':>6} | goal")
    p("-" * 109)
    out = []
    for metric, v, ref, ref_label, goal, ok in summary:
        verdict = ("" if ok is None else "  PASS" if ok else
                   f"  FAIL ({v / mem['goal_mb']:.2f} x goal)" if "MB" in metric else "  FAIL")
        p(f"{metric:<38}| {show_value(v):>10} | {show_value(ref):>10} {ref_label:<23}| {v / ref:>6.2f} | "
          f"{goal or '-'}{verdict}")
        out.append({"metric": metric, "vae": v, "reference": ref, "reference_is": ref_label,
                    "ratio": v / ref, "goal": goal, "pass": ok})
    p("-" * 109)
    return out


def main():
    started = time.time()
    load_start = " ".join(open("/proc/loadavg").read().split()[:3])
    psql("CREATE EXTENSION vae;\n")
    if DETECT_ONLY:
        return main_detect(started, load_start)
    log("GEMM ceiling ...")
    gemm = measure_gemm()
    log("data ...")
    load_data()
    training = {}
    for name in NETS:
        log(f"training {name} ...")
        training[name] = measure_training(name)
    log("scoring ...")
    model_run = make_scoring_model()
    scoring = measure_scoring()
    log("detection ...")
    detection = measure_detection()

    lines = []
    p = lines.append
    cpu = report_header(p, load_start)
    peak = report_gemm(p, gemm)
    figs = report_training(p, training, gemm["rates"], peak)
    sec, expected = report_scoring(p, scoring)
    mem, mem_serial = report_memory(p, training, model_run)
    detect_rows = report_detection(p, scoring, detection)
    summary = report_summary(p, figs, sec, expected, mem, mem_serial, detect_rows)
    elapsed = time.time() - started
    p(f"benchmark time {elapsed:.0f} s")
    print("\n".join(lines), flush=True)

    if os.environ.get("OUT_JSON"):
        with open(os.environ["OUT_JSON"], "w") as f:
            json.dump({"quick": QUICK, "host_cpu": cpu, "cpus": os.cpu_count(),
                       "load_average_start": load_start, "elapsed_seconds": elapsed,
                       "summary": summary, "training": figs,
                       "scoring_seconds": sec, "scoring_plan_ok": scoring["plan_ok"],
                       "memory": {"timed_statement": mem, "serial_plan": mem_serial},
                       "gemm_gflops": {t: {" ".join(map(str, s)): g for s, g in gemm["rates"][t].items()}
                                       for t in THREADS}},
                      f, indent=2)


def main_detect(started, load_start):
    """DETECT_ONLY=1: the KDD-like rows, the scoring model, parts 3 and 5"""
    log("data ...")
    load_data()
    log("scoring ...")
    make_scoring_model()
    scoring = measure_scoring()
    log("detection ...")
    detection = measure_detection()
    lines = []
    p = lines.append
    report_header(p, load_start)
    report_scoring(p, scoring)
    detect_rows = report_detection(p, scoring, detection)
    p("")
    p("SUMMARY (ratio = vae / reference)")
    for metric, v, ref, label in detect_rows:
        p(f"{metric:<44}| {show_value(v):>10} | {show_value(ref):>10} {label:<20}| {v / ref:>6.2f}")
    p(f"benchmark time {time.time() - started:.0f} s")
    print("\n".join(lines), flush=True)
    if os.environ.get("OUT_JSON"):
        with open(os.environ["OUT_JSON"], "w") as f:
            json.dump({"quick": QUICK, "detect_only": True, "summary": [
                {"metric": m, "vae": v, "reference": r, "reference_is": l, "ratio": v / r}
                for m, v, r, l in detect_rows]}, f, indent=2)


if __name__ == "__main__":
    main()
