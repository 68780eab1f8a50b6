#!/usr/bin/env bash
# Train the latent encoder bundled with synthfaces-64 against the *bundled* generator, then measure every
# inversion method (benchmarks/inversion_synthfaces.py). The encoder is tied to the generator's weights, so
# this runs again after every export (benchmarks/refresh_synthfaces.sh calls it). The run folder is named
# after the generator's fingerprint: an interrupted run of this script resumes, a new export starts afresh.
# About 50 minutes on 2 CPU cores (training ~23, the inversion benchmark 16-28: 28 on the 750 kimg bundle).
#
# The encoder reduces its last features to 32 channels before the dense layers (--head-channels 32): 2.8 M
# parameters, 5.4 MB in float16 instead of 8.9, which keeps everything bundled under about 30 MB.
#
# MEASURE=no stops after training (the refresh trains beside the directions' refit, then measures once the
# refitted directions are bundled: the benchmark's age edit uses the bundled `age`).
#
#   bash benchmarks/encoder_synthfaces.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-2000}
FP=$(python -c "import faceedit; print(faceedit.load_generator('synthfaces-64').fingerprint()[:12])")
HEAD=32
faceedit train-encoder --model synthfaces-64 --run-dir "runs/encoder-synthfaces-64-$FP-head$HEAD" --steps "$STEPS" \
    --head-channels "$HEAD" --out faceedit/assets/synthfaces-64-encoder --dtype float16 --no-progress
[ "${MEASURE:-yes}" = no ] && exit 0
python benchmarks/inversion_synthfaces.py --model synthfaces-64 --n 8 \
    --json benchmarks/results/inversion_synthfaces-64.json --images docs/images
