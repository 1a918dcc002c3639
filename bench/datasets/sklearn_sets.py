#!/usr/bin/python3
"""bench/datasets/sklearn_sets.py - export the data sets bundled with
scikit-learn (Debian python3-sklearn; no download) as CSV files plus
column-type files, in the format of bench/datasets/mlbench.R.

    /usr/bin/python3 bench/datasets/sklearn_sets.py OUTDIR

Writes OUTDIR/NAME.csv (header; id = row number from 1, the features, class =
the target's name) and OUTDIR/NAME.cols ("column<TAB>SQL type" per CSV
column) for wine, digits and breast_cancer.  Columns whose values are all
whole numbers are typed integer, the others numeric.
"""
import csv
import os
import sys

from sklearn import datasets


def column_name(name):
    """SQL-friendly column name: lower case, runs of other characters -> _."""
    out = "".join(c if c.isalnum() else "_" for c in name.lower())
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")


def export(outdir, name, bunch):
    """Write NAME.csv and NAME.cols for a scikit-learn Bunch."""
    X, y = bunch.data, bunch.target
    names = [column_name(n) for n in bunch.feature_names]
    if len(set(names)) != len(names):
        raise SystemExit(f"{name}: duplicate column names")
    types = ["integer" if (X[:, j] == X[:, j].round()).all() else "numeric"
             for j in range(X.shape[1])]
    labels = [str(bunch.target_names[t]) for t in y]
    with open(os.path.join(outdir, name + ".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id"] + names + ["class"])
        for i in range(X.shape[0]):
            w.writerow([i + 1] + [int(v) if t == "integer" else repr(float(v))
                                  for v, t in zip(X[i], types)] + [labels[i]])
    with open(os.path.join(outdir, name + ".cols"), "w") as f:
        f.write("id\tinteger\n")
        for n, t in zip(names, types):
            f.write(f"{n}\t{t}\n")
        f.write("class\ttext\n")
    print(f"  {name:<14s} {X.shape[0]:5d} rows, {X.shape[1]:3d} columns")


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: sklearn_sets.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    export(outdir, "wine", datasets.load_wine())
    export(outdir, "digits", datasets.load_digits())
    export(outdir, "breast_cancer", datasets.load_breast_cancer())


if __name__ == "__main__":
    main()
