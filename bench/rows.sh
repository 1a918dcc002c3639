#!/usr/bin/env bash
# bench/rows.sh - training and scoring on table rows against the array path
# on the same data already encoded, measured in one run, alternating (the
# machine may be shared and noisy: only the ratios within one run mean much):
#
#   1. training throughput (rows x epochs / s) of the whole statement
#      SELECT vae_train(t, opts) FROM rows_t t against
#      SELECT vae_train(f, opts) FROM rows_a, same network, epochs and batch;
#   2. scoring throughput (rows / s, one backend) of
#      SELECT sum(vae_score(m, t, method)) FROM rows_t t against the same over
#      rows_a, for mse and recon_prob;
#   3. the backend's peak memory (VmHWM) training on rows, against the goal
#      of at most 1.25 x the encoded rows (rows x columns x 4 bytes, the
#      aggregate's compact float32 buffer) + 64 MB.
#
# The table: 200,000 rows x 38 columns (28 numbers with correlations, 5 text
# categories of 3-20 values, 5 booleans; about 3% NULLs in 2 real, 1 integer,
# 2 text and 1 boolean column); the arrays: the row model's network input
# for the same rows.  See bench/rows_bench.py for exactly what "already
# encoded" means.  Besides wall-clock throughput it prints the median of the
# back-to-back pair ratios and the ratio of the backend's CPU time (utime +
# stime of all its threads), which a loaded machine distorts less.
#
# Usage: bench/rows.sh            full run (a few minutes on 2 cores)
#        QUICK=1 bench/rows.sh    smoke run (20,000 rows, one repetition)
#        REPS=N bench/rows.sh     N alternating repetitions (default 3), medians
#
# Needs the extension installed (make install, or a private root: run through
# VAE_PRIVATE_INSTALL=1 as the tests do) and python3 (standard library only).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
scripts/with-cluster.sh python3 bench/rows_bench.py
echo "rows.sh: total run time $((SECONDS - start)) s (with cluster start and stop)"
