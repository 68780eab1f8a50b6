#!/usr/bin/env bash
# Re-export the bundled synthfaces-64 from its training run and re-measure everything bundled with it:
# the quality report, the progress pictures, the training record, and the bundled directions (refitted,
# judged and replaced, since they are tied to the generator's weights), the latent encoder (retrained and
# re-measured: benchmarks/encoder_synthfaces.sh) and, unless FILTERS=no, the four distilled filters (new pairs
# from the new teacher, retrained and measured: benchmarks/filters_synthfaces.sh). About two and a half hours on
# 2 CPU cores; run again after an interruption, the long steps (sampling, encoder, pairs, filters) resume.
#
#   bash benchmarks/refresh_synthfaces.sh [RUN_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-runs/synthfaces-64}
faceedit export-generator "$RUN" faceedit/assets/synthfaces-64 --dtype float16 --name synthfaces-64
python benchmarks/training_record.py "$RUN" > benchmarks/results/training_synthfaces-64.json
cp "$RUN/samples/progress.png" docs/images/synthfaces-64-progress.png
cp "$RUN/loss.png" docs/images/synthfaces-64-loss.png
python benchmarks/quality_synthfaces.py --model synthfaces-64 --n 10000 \
    --json benchmarks/results/quality_synthfaces-64.json --images docs/images
python benchmarks/directions_synthfaces.py --model synthfaces-64 --n 20000 --eval-n 1000 \
    --work runs/directions-synthfaces-64 --json benchmarks/results/directions_synthfaces-64.json \
    --images docs/images --bundle --choose-layers 0.4 --steady
bash benchmarks/encoder_synthfaces.sh
[ "${FILTERS:-yes}" = no ] || bash benchmarks/filters_synthfaces.sh
