"""bench/detect_lib.py - building blocks of the detection benchmarks
(bench/detect.sh; the row-path benchmark will reuse them): the data set
registry and protocol, seeded splits, metrics, a psql helper, the sklearn
baseline detectors and the reference PyTorch VAE.

Import it from a script in bench/ (sys.path has the script's directory):

    import detect_lib as dl
    ids, classes, X = dl.fetch_prepared("glass")
    split = dl.make_split(dl.SET_BY_NAME["glass"], ids, classes, seed=1)

Protocol (make_split): the normal rows are the set's normal class; a seeded
half of them (floor(n/2)) trains, the other half is tested together with
anomalies sampled (seeded, without replacement) from the anomaly classes:
round(0.08 / 0.92 * test normals), so that about 8% of the test set is
anomalous, at least MIN_ANOMALIES and at most what the classes hold.
"""
import json
import math
import os
import subprocess
import sys
import time
import zlib

import numpy as np

ANOMALY_SHARE = 0.08
MIN_ANOMALIES = 5

# name: the set; table: the PostgreSQL table (bench/datasets/load.sh);
# normal: the normal class values; anomaly: the anomaly class values (None:
# every other class); source: where the data comes from.
SETS = [
    dict(name="glass", table="glass", normal=["2"], anomaly=None, source="mlbench Glass",
         note="normal: type 2 (building windows, non-float processed), the largest class"),
    dict(name="vehicle", table="vehicle", normal=["bus"], anomaly=None, source="mlbench Vehicle",
         note="normal: bus, the largest class"),
    dict(name="vowel", table="vowel", normal=["hid"], anomaly=None, source="mlbench Vowel",
         note="normal: vowel hid (all 11 classes have 90 rows; the first one)"),
    dict(name="sonar", table="sonar", normal=["M"], anomaly=["R"], source="mlbench Sonar",
         note="normal: M (mine), the larger class; anomaly: R (rock)"),
    dict(name="letter_25v1", table="letter", normal=None, anomaly=["A"],
         source="mlbench LetterRecognition",
         note="normal: the 25 letters B-Z; anomaly: A"),
    dict(name="letter_UvV", table="letter", normal=["U"], anomaly=["V"],
         source="mlbench LetterRecognition",
         note="normal: U, the largest letter; anomaly: V (a similar shape)"),
    dict(name="soybean", table="soybean", normal=["brown-spot"], anomaly=None,
         source="mlbench Soybean",
         note="normal: brown-spot, the largest class; anomaly: the other 18 diseases"),
    dict(name="wine", table="wine", normal=["class_1"], anomaly=None, source="sklearn load_wine",
         note="normal: class_1, the largest cultivar"),
    dict(name="digits", table="digits", normal=["3"], anomaly=None, source="sklearn load_digits",
         note="normal: digit 3, the largest class"),
    dict(name="breast_cancer", table="breast_cancer", normal=["benign"], anomaly=["malignant"],
         source="sklearn load_breast_cancer", note="normal: benign; anomaly: malignant"),
]
SET_BY_NAME = {s["name"]: s for s in SETS}


def psql(*commands, stdin=None):
    """Run psql (connection from the environment) with each command as a -c
    option, stop on the first error, and return its stdout (unaligned,
    tuples only, comma separated)."""
    args = ["psql", "-X", "-q", "-At", "-F", ",", "-v", "ON_ERROR_STOP=1"]
    for c in commands:
        args += ["-c", c]
    r = subprocess.run(args, input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def parse_real_array(text):
    """'{1,2.5,-3}' -> list of floats (the text form of a real[] without NULLs)."""
    return [float(v) for v in text[1:-1].split(",")] if text != "{}" else []


def fetch_prepared(table):
    """The prepared array view of a table: (ids int64[n], classes str[n],
    X float64[n, d]) ordered by id."""
    out = psql(f"COPY (SELECT id, class, features FROM {table}_prepared ORDER BY id) TO STDOUT")
    ids, classes, rows = [], [], []
    for line in out.splitlines():
        i, c, f = line.split("\t")
        ids.append(int(i))
        classes.append(c)
        rows.append(parse_real_array(f))
    return np.array(ids, dtype=np.int64), np.array(classes), np.array(rows, dtype=np.float64)


def is_normal(spec, classes):
    """Boolean mask of the normal rows of a set."""
    if spec["normal"] is None:
        return ~np.isin(classes, spec["anomaly"])
    return np.isin(classes, spec["normal"])


def is_anomaly(spec, classes):
    """Boolean mask of the rows of the anomaly class(es) of a set."""
    if spec["anomaly"] is None:
        return ~np.isin(classes, spec["normal"])
    return np.isin(classes, spec["anomaly"])


def rng_for(name, seed):
    """A numpy Generator keyed by the set name and the split seed, so that a
    set's split does not depend on which other sets run."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def n_anomalies(n_test_normal, available):
    """How many anomalies join the test set (see the module comment)."""
    want = round(ANOMALY_SHARE / (1 - ANOMALY_SHARE) * n_test_normal)
    return min(available, max(MIN_ANOMALIES, want))


def make_split(spec, ids, classes, seed):
    """The seeded split of a set: dict(train=ids, test=ids, y_test=0/1 array
    aligned with test (1 = anomaly)); ids sorted within each part."""
    rng = rng_for(spec["name"], seed)
    normal = np.sort(ids[is_normal(spec, classes)])
    anomal = np.sort(ids[is_anomaly(spec, classes)])
    normal = rng.permutation(normal)
    half = len(normal) // 2
    train, test_n = np.sort(normal[:half]), normal[half:]
    test_a = rng.permutation(anomal)[:n_anomalies(len(test_n), len(anomal))]
    test = np.concatenate([test_n, test_a])
    y = np.concatenate([np.zeros(len(test_n), int), np.ones(len(test_a), int)])
    order = np.argsort(test)
    return dict(train=train, test=test[order], y_test=y[order])


def metrics(y, scores):
    """(ROC AUC, average precision) of scores (higher = more anomalous)."""
    from sklearn.metrics import average_precision_score, roc_auc_score
    s = np.asarray(scores, dtype=np.float64)
    if not np.all(np.isfinite(s)):
        s = np.nan_to_num(s, nan=np.inf, posinf=np.finfo(np.float64).max,
                          neginf=-np.finfo(np.float64).max)
    return float(roc_auc_score(y, s)), float(average_precision_score(y, s))


def mean_ranks(table, detectors):
    """table: {set: {detector: value}} (higher = better).  Mean over sets of
    each detector's rank among `detectors` (1 = best, ties averaged)."""
    from scipy.stats import rankdata
    ranks = {d: [] for d in detectors}
    for row in table.values():
        r = rankdata([-row[d] for d in detectors])  # average ranks for ties
        for d, v in zip(detectors, r):
            ranks[d].append(v)
    return {d: float(np.mean(v)) for d, v in ranks.items()}


# ---------------------------------------------------------------- baselines
SKLEARN_DETECTORS = ["iforest", "lof", "ocsvm", "pca"]


def sklearn_scores(Xtr, Xte, seed):
    """Test-row scores (higher = more anomalous) of the four sklearn
    detectors with default settings, trained on Xtr: IsolationForest on the
    features as they are (it is scale invariant); LocalOutlierFactor
    (novelty=True), OneClassSVM(gamma='scale', nu=0.1) and the PCA
    reconstruction error (components explaining 90% of the variance) on
    features standardized with the training rows' mean and deviation."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import OneClassSVM

    out = {}
    out["iforest"] = -IsolationForest(random_state=seed).fit(Xtr).score_samples(Xte)
    sc = StandardScaler().fit(Xtr)
    Ztr, Zte = sc.transform(Xtr), sc.transform(Xte)
    lof = LocalOutlierFactor(novelty=True).fit(Ztr)
    out["lof"] = -lof.score_samples(Zte)
    out["ocsvm"] = -OneClassSVM(gamma="scale", nu=0.1).fit(Ztr).decision_function(Zte)
    pca = PCA(n_components=0.9, svd_solver="full").fit(Ztr)
    rec = pca.inverse_transform(pca.transform(Zte))
    out["pca"] = ((Zte - rec) ** 2).sum(axis=1)
    return out


# ------------------------------------------------------ reference PyTorch VAE
def default_sizes(d, latent=None):
    """(hidden, latent) by the extension's default rules: latent ceil(d/12)
    clamped to [2, 20]; hidden ceil(d/2) clamped to [max(8, 2*latent), 512]."""
    if latent is None:
        latent = min(20, max(2, math.ceil(d / 12)))
    hidden = min(512, max(max(8, 2 * latent), math.ceil(d / 2)))
    return hidden, latent


def torch_vae_scores(Xtr, Xte, latent, epochs_list, seed, batch=128, lr=1e-3, L=10):
    """Train the reference VAE on Xtr and return {epochs: test scores} at
    each checkpoint in epochs_list (one run up to max(epochs_list)).

    The model mirrors the extension's gaussian defaults: inputs standardized
    with the training rows' mean and deviation (constant columns scale 1);
    encoder d -> hidden (relu) -> mean and log-variance of a `latent`-dim
    Gaussian (log-variance bounded by 8*tanh(./8)); decoder latent -> hidden
    (relu) -> per-feature mean and log-variance (bounded by 5*tanh(./5));
    loss = Gaussian negative log-likelihood + KL, one latent sample per row;
    Adam, minibatches of `batch` shuffled each epoch, no early stopping.
    Score: reconstruction probability (An & Cho 2015), -log mean_l p(x|z_l)
    over L draws z_l ~ q(z|x)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    sd[sd == 0] = 1.0
    xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
    xte = torch.tensor((Xte - mu) / sd, dtype=torch.float32)
    d = xtr.shape[1]
    hidden, latent = default_sizes(d, latent)

    class VAE(nn.Module):
        """One hidden layer each way, Gaussian latent and decoder."""

        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(d, hidden)
            self.z_mu = nn.Linear(hidden, latent)
            self.z_lv = nn.Linear(hidden, latent)
            self.dec = nn.Linear(latent, hidden)
            self.x_mu = nn.Linear(hidden, d)
            self.x_lv = nn.Linear(hidden, d)

        def encode(self, x):
            """Mean and bounded log-variance of q(z|x)."""
            h = torch.relu(self.enc(x))
            return self.z_mu(h), 8.0 * torch.tanh(self.z_lv(h) / 8.0)

        def log_px(self, x, z):
            """log p(x|z), summed over features."""
            h = torch.relu(self.dec(z))
            m, lv = self.x_mu(h), 5.0 * torch.tanh(self.x_lv(h) / 5.0)
            return -0.5 * (math.log(2 * math.pi) + lv + (x - m) ** 2 * torch.exp(-lv)).sum(-1)

    net = VAE()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    n = xtr.shape[0]
    bs = min(batch, n)
    g = torch.Generator().manual_seed(seed)
    out = {}

    def score():
        """Reconstruction-probability scores of the test rows."""
        with torch.no_grad():
            zm, zlv = net.encode(xte)
            eps = torch.randn((L,) + zm.shape, generator=g)
            z = zm + eps * torch.exp(0.5 * zlv)
            lp = net.log_px(xte.unsqueeze(0), z)          # L x n
            return -(torch.logsumexp(lp, 0) - math.log(L)).numpy().astype(np.float64)

    for epoch in range(1, max(epochs_list) + 1):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n - bs + 1, bs):   # full batches only, like batch_size clamped
            x = xtr[perm[i:i + bs]]
            zm, zlv = net.encode(x)
            z = zm + torch.randn(zm.shape, generator=g) * torch.exp(0.5 * zlv)
            kl = 0.5 * (zm ** 2 + torch.exp(zlv) - 1 - zlv).sum(-1)
            loss = (kl - net.log_px(x, z)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch in epochs_list:
            out[epoch] = score()
    return out


def run_sets(name, set_names, registry, run_set, report):
    """Run run_set on every selected set of registry (a name -> spec dict),
    print report's tables, and write report's summary to OUT_JSON when set:
    the main loop of bench/detect.py and bench/tables.py."""
    t0 = time.time()
    results = {}
    for n in set_names:
        if n not in registry:
            raise SystemExit(f"{name}: unknown set {n}")
        log(n)
        results[n] = run_set(registry[n])
    summary = report(results, time.time() - t0)
    if os.environ.get("OUT_JSON"):
        with open(os.environ["OUT_JSON"], "w") as f:
            json.dump(summary, f, indent=1)
        print(f"wrote {os.environ['OUT_JSON']}")


def log(msg):
    """A timestamped progress line on stderr."""
    print(time.strftime("[%H:%M:%S] ") + msg, file=sys.stderr, flush=True)


def store_split(table, name, seed, split):
    """Write a split into table (set, seed, id, role, anomaly), replacing
    that set's and seed's rows."""
    rows = [f"{name}\t{seed}\t{i}\ttrain\tf" for i in split["train"]]
    rows += [f"{name}\t{seed}\t{i}\ttest\t{'t' if a else 'f'}"
             for i, a in zip(split["test"], split["y_test"])]
    psql(f"DELETE FROM {table} WHERE set = '{name}' AND seed = {seed}",
         f"\\copy {table} FROM pstdin", stdin="\n".join(rows) + "\n")
