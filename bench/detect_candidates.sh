#!/usr/bin/env bash
# bench/detect_candidates.sh - evaluate candidate default-option rules
# (bench/detect_rules.py) with the detection benchmark, one bench/detect.sh
# run per candidate (no PyTorch grid, sklearn figures cached), then print
# the comparison table (bench/detect_compare.py).  See docs/detect.md,
# "Candidate defaults".
#
#   bench/detect_candidates.sh OUTDIR CANDIDATE...
#
# A CANDIDATE is RULE[:K[:COMBINE]]: the rule's name, an ensemble size K
# (default 1) and how the K models' scores are combined (robust, mean or
# rank; default robust).  Each run writes OUTDIR/CANDIDATE.json and .log;
# an existing .json is kept (delete it to rerun).  SPLIT_SEEDS (default
# "1 2 3") and MODEL_SEEDS ("1 2 3 4 5") pass through; so do PGHOST etc.:
# set up one private install root and one cluster first (the header of
# bench/detect.sh shows how), since every run reuses the loaded database
# (REUSE_DB=1; DETECT_DB passes through too).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 OUTDIR CANDIDATE..." >&2; exit 2; }
out=$1
shift
mkdir -p "$out"
export SPLIT_SEEDS=${SPLIT_SEEDS:-1 2 3} MODEL_SEEDS=${MODEL_SEEDS:-1 2 3 4 5}
export TORCH=0 REUSE_DB=1 BASELINE_CACHE=${BASELINE_CACHE:-$out/baselines.json}
for c in "$@"; do
	IFS=: read -r rule k comb <<<"$c"
	[ -e "$out/$c.json" ] && { echo "[$(date +%H:%M:%S)] $c: kept $out/$c.json"; continue; }
	echo "[$(date +%H:%M:%S)] $c"
	VAE_RULE=$rule ENSEMBLE=${k:-1} ENSEMBLE_COMBINE=${comb:-robust} OUT_JSON="$out/$c.json.part" \
		"$here/detect.sh" >"$out/$c.log" 2>&1
	mv "$out/$c.json.part" "$out/$c.json"
done
/usr/bin/python3 "$here/detect_compare.py" "$@" --dir "$out"
