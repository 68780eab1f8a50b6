#!/usr/bin/env bash
# Make the paired datasets and train the four filters bundled for synthfaces-64 (older, younger, feminine,
# masculine) from the bundled generator and directions, then measure them (benchmarks/distill_synthfaces.py).
# The age filters train on *anchored* pairs (fresh renders plus the teacher's change around their encoded
# latents, distill/anchors.py), which carry the edit to pictures the GAN did not make (older: 38 % -> 82 % of the
# teacher's judged change on renders); the gender filters on the teacher's own pairs, because anchoring its
# large reshaping edits (hair length, jaw) left ghosts and measured worse (masculine 91 % -> 84 %, -2 dB).
# ANCHOR=synthfaces or ANCHOR=none sets it for every filter. The teacher's own pairs are made either way: the
# benchmark measures fidelity and the teacher's change on them.
# Filters are image-to-image networks: they keep working when the generator is re-exported, so this runs only
# when a better teacher is worth the time. Every step resumes when the script is run again.
# About 80 minutes on 2 CPU cores.
#
#   bash benchmarks/filters_synthfaces.sh [SEEDS] [STEPS] [NAMES...]
#
# STEPS (training steps of 8 pairs) defaults per filter: 4,000 for the age filters, 8,000 for the gender filters,
# whose larger change keeps improving (24.20 / 25.85 dB at 8,000 against 23.58 / 24.88 dB at 4,000). The gender
# filters then take TUNE=2,000 more steps, started from those weights, with L1 and the perceptual term only (no
# discriminator) and the learning rate decaying to 0: the adversarial terms' speckles go, and held-out PSNR rises
# a little (BENCHMARKS.md).
#
# INIT=DIR fine-tunes each filter from DIR/NAME instead (after a new generator export, from the filters distilled
# from the previous one): STEPS (default 2,000) steps on the new teacher's pairs, L1 and the perceptual term only,
# the learning rate decaying to 0, like the gender filters' tuning stage.
#
# MEASURE=no skips the measurement (to train filters in parallel lanes and measure them together afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${1:-0-2047}
STEPS=${2:-}
NAMES=${*:3}
NAMES=${NAMES:-older younger feminine masculine}
declare -A ANCHORS=([older]=synthfaces [younger]=synthfaces [feminine]=none [masculine]=none)
declare -A DIRECTION=([older]=age-orth-gender-glasses [younger]=age-orth-gender-glasses
                      [feminine]=gender-orth-age-skin_tone-background [masculine]=gender-orth-age-skin_tone-background)
declare -A ALPHA=([older]=1.5,3 [younger]=-3,-1.5 [feminine]=-3,-1.5 [masculine]=1.5,3)
declare -A DEFAULT_STEPS=([older]=4000 [younger]=4000 [feminine]=8000 [masculine]=8000)
declare -A TUNE=([older]=0 [younger]=0 [feminine]=2000 [masculine]=2000)
declare -A OTHER=([older]=gender=0.15 [younger]=gender=0.15 [feminine]=age=0.15 [masculine]=age=0.15)
# Age lives in W+ rows 3-9 (8x8 and finer): editing only those keeps the background and pose (pixels outside
# the face change 4x less) for 90 % of the judged age change. Gender needs the coarse rows (hair length, jaw).
declare -A LAYERS=([older]=3,10 [younger]=3,10 [feminine]=0,10 [masculine]=0,10)
# folders are named after the generator (and anchored ones after the encoder too): a re-exported generator or a
# retrained encoder makes new datasets and runs, not a refused resume
GENERATOR=$(python -c "import faceedit; print(faceedit.load_generator('synthfaces-64').fingerprint()[:12])")
ENCODER=$(python -c "from faceedit.inversion.api import load_encoder_for; from faceedit.utils.files import \
weights_fingerprint; print(weights_fingerprint(load_encoder_for('synthfaces-64'))[:12])")
SPECS=()
for NAME in $NAMES; do
    PLAIN=runs/pairs-synthfaces-64/$NAME-$GENERATOR
    ARGS=(--model synthfaces-64 --direction "${DIRECTION[$NAME]}" --alpha="${ALPHA[$NAME]}" --layers "${LAYERS[$NAME]}"
          --seeds "$SEEDS" --classifier synthfaces-labeler --min-change 0.05 --max-other "${OTHER[$NAME]}" --no-progress)
    # the labeler (never the judge) keeps a pair only where the edit moved its attribute and left the other alone
    faceedit dataset make "${ARGS[@]}" --out "$PLAIN"
    DATA=$PLAIN
    RUN=runs/filter-synthfaces-64/$NAME-$GENERATOR
    USE=${ANCHOR:-${ANCHORS[$NAME]}}
    if [ "$USE" != none ]; then
        DATA=$PLAIN-anchored-$USE-$ENCODER
        RUN=$RUN-anchored-$USE-$ENCODER
        faceedit dataset make "${ARGS[@]}" --anchor "$USE" --out "$DATA"
    fi
    NET=(--ngf 16 --n-downsampling 3 --perceptual synthfaces-labeler --dtype float16 --no-progress)
    OUT=distill/assets/synthfaces-64/$NAME
    if [ -n "${INIT:-}" ]; then
        FINE=${STEPS:-2000}
        faceedit distill train --data "$DATA" --run-dir "$RUN-init-$(basename "$INIT")" --init-from "$INIT/$NAME" \
            --steps "$FINE" --lr-decay-steps "$FINE" --set lambda_gan=0 --set lambda_fm=0 --out "$OUT" "${NET[@]}"
        SPECS+=(--filter "$NAME=$OUT,$PLAIN")
        continue
    fi
    if [ "${TUNE[$NAME]}" -gt 0 ]; then
        OUT=runs/filter-out/$NAME-$GENERATOR  # the adversarial stage; the tuned filter is the bundled one
    fi
    faceedit distill train --data "$DATA" --run-dir "$RUN" --steps "${STEPS:-${DEFAULT_STEPS[$NAME]}}" \
        --out "$OUT" "${NET[@]}"
    if [ "${TUNE[$NAME]}" -gt 0 ]; then
        faceedit distill train --data "$DATA" --run-dir "$RUN-l1tune" --init-from "$OUT" --steps "${TUNE[$NAME]}" \
            --lr-decay-steps "${TUNE[$NAME]}" --set lambda_gan=0 --set lambda_fm=0 \
            --out "distill/assets/synthfaces-64/$NAME" "${NET[@]}"
    fi
    SPECS+=(--filter "$NAME=distill/assets/synthfaces-64/$NAME,$PLAIN")
done
[ "${MEASURE:-yes}" = no ] && exit 0
python benchmarks/distill_synthfaces.py "${SPECS[@]}" --json benchmarks/results/distill_synthfaces-64.json \
    --images docs/images
