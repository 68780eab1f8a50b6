#!/usr/bin/env bash
# Re-export the bundled synthfaces-64 from its training run and re-measure everything bundled with it:
# the quality report, the progress pictures, the training record, the bundled directions (refitted, judged
# and replaced, since they are tied to the generator's weights) and the latent encoder (retrained and
# re-measured: benchmarks/encoder_synthfaces.sh). The directions and the encoder do not depend on each other:
# they run side by side, one thread each. About 85 minutes on 2 CPU cores (2026-11-22: directions 29 min beside
# the encoder's 50 min of training, then the inversion benchmark, 28 min); run again after an interruption, the long
# steps (sampling, encoder) resume.
#
# The distilled filters are image-to-image networks that keep working with a new export: they are re-made only
# with FILTERS=yes (new pairs from the new teacher, trained from scratch in two lanes of one thread each, then
# measured: benchmarks/filters_synthfaces.sh, about 100 minutes more with bfloat16 on a CPU that has it), or
# FILTERS_INIT=DIR (fine-tuned from DIR/NAME, the filters bundled before; for the 750 kimg export this measured
# worse than re-making them, MODELS.md).
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
OMP_NUM_THREADS=1 python benchmarks/directions_synthfaces.py --model synthfaces-64 --n 20000 --eval-n 1000 \
    --work runs/directions-synthfaces-64 --json benchmarks/results/directions_synthfaces-64.json \
    --images docs/images --bundle --choose-layers 0.3 --steady &
DIRECTIONS=$!
OMP_NUM_THREADS=1 MEASURE=no bash benchmarks/encoder_synthfaces.sh &
ENCODER=$!
wait "$DIRECTIONS"
wait "$ENCODER"
bash benchmarks/encoder_synthfaces.sh  # training is done: it measures inversion with the new directions
if [ "${FILTERS:-no}" = yes ] || [ -n "${FILTERS_INIT:-}" ]; then
    export INIT=${FILTERS_INIT:-}
    OMP_NUM_THREADS=1 MEASURE=no bash benchmarks/filters_synthfaces.sh "" "" feminine older &
    LANE=$!
    OMP_NUM_THREADS=1 MEASURE=no bash benchmarks/filters_synthfaces.sh "" "" masculine younger
    wait "$LANE"
    bash benchmarks/filters_synthfaces.sh  # everything is made: it resumes through to the measurement
fi
