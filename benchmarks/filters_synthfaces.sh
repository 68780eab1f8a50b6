#!/usr/bin/env bash
# Make the paired datasets and train the four filters bundled for synthfaces-64 (older, younger, feminine,
# masculine) from the bundled generator and directions, then measure them (benchmarks/distill_synthfaces.py).
# Every filter trains on the teacher's own pairs. `older` also learns from *anchored* pairs (fresh renders plus
# the teacher's change around their encoded latents, distill/anchors.py) in its second stage, pooled with the
# teacher's own (`--data` twice): they carry the edit to pictures the GAN did not make (BENCHMARKS.md). Trained
# on anchored pairs alone from the start, filters fitted the teacher 0.7 dB less closely (1,500-step comparison).
# ANCHOR=synthfaces or ANCHOR=none sets the anchored pairs for every filter (the teacher's own pairs are made
# either way: the benchmark measures fidelity and the teacher's change on them).
# Filters are image-to-image networks: they keep working when the generator is re-exported, so this runs only
# when a better teacher is worth the time. Every step resumes when the script is run again (a plain `kill`
# saves a training checkpoint).
#
#   bash benchmarks/filters_synthfaces.sh [SEEDS] [STEPS] [NAMES...]
#
# SEEDS defaults per filter: 0-8191 for the age filters, 0-16383 for the gender filters, whose large change
# needs many pairs to generalise (on 1,213 pairs they fitted 27.5 dB and reached 24.6 held out; BENCHMARKS.md).
# STEPS (training steps of 8 pairs) defaults per filter, every Pix2PixHD loss for age: `older` 4,000, then
# 4,000 more on the pooled pairs (TUNE, below), the learning rate decaying to 0; `younger` 8,000, decaying over
# the last 4,000; 9,000 for the gender filters, with L1 and the perceptual term only (the adversarial terms cost
# PSNR and left speckles on renders), then 16,000 tuning steps (TUNE, below), 12,000 more (MORE), 45,000
# more with encoder-to-decoder skips on unmirrored pairs (SKIPS), 45,000 more on twice the pairs (MORE_PAIRS) and
# 20,000 more on three, four (and, for `feminine`, five) times the pairs, one stage each (MORE_SETS).
# PRECISION (default bf16: bfloat16 autocast, about 1.4x faster steps on CPUs with AVX512-BF16 or AMX,
# BENCHMARKS.md; fp32 elsewhere).
# With 2 cores, run two filters side by side: OMP_NUM_THREADS=1 MEASURE=no bash ... "" "" feminine & (and
# masculine), then the measurement alone. Timings: MODELS.md.
#
# INIT=DIR fine-tunes each filter from DIR/NAME instead (after a new generator export, from the filters distilled
# from the previous one): STEPS (default 2,000) steps on the new teacher's pairs, L1 and the perceptual term only,
# the learning rate decaying to 0.
#
# Each finished filter is calibrated (`faceedit filters calibrate`: the default strength at which it changes 256
# renders, seed 600000, as much as its teacher changes 512 of its own faces, by the labeler); one whose change cannot
# get there at any strength keeps 1 (`feminine`: the gender score saturates).
# MEASURE=no skips the measurement (to train filters in parallel lanes and measure them together afterwards).
set -euo pipefail

calibrate() {
    faceedit filters calibrate "$1" || echo "filters_synthfaces.sh: $(basename "$1") keeps strength 1 (above: why)"
}
cd "$(dirname "$0")/.."
SEEDS=${1:-}
STEPS=${2:-}
PRECISION=${PRECISION:-bf16}
NAMES=${*:3}
NAMES=${NAMES:-older younger feminine masculine}
declare -A ANCHORS=([older]=synthfaces [younger]=none [feminine]=none [masculine]=none)
declare -A DIRECTION=([older]=age-orth-gender-glasses-yaw-roll-light-background
                      [younger]=age-orth-gender-glasses-yaw-roll-light-background
                      [feminine]=gender-orth-age-skin_tone-background [masculine]=gender-orth-age-skin_tone-background)
declare -A ALPHA=([older]=1.5,3 [younger]=-3,-1.5 [feminine]=-3,-1.5 [masculine]=1.5,3)
declare -A DEFAULT_SEEDS=([older]=0-8191 [younger]=0-8191 [feminine]=0-16383 [masculine]=0-16383)
declare -A DEFAULT_STEPS=([older]=4000 [younger]=8000 [feminine]=9000 [masculine]=9000)
# gender: L1 and the perceptual term only (no discriminator), then TUNE more steps from those weights with the
# perceptual term at 0.3 instead of 10 (it outweighed L1 and held PSNR back: +1.5 dB in 800 steps, BENCHMARKS.md)
# and the learning rate decaying to 0 over the last DECAY steps; age: every loss (older: its second stage on the
# teacher's and the anchored pairs together)
declare -A LOSSES=([older]="" [younger]="" [feminine]="--set lambda_gan=0 --set lambda_fm=0"
                   [masculine]="--set lambda_gan=0 --set lambda_fm=0")
declare -A TUNE=([older]=4000 [younger]=0 [feminine]=16000 [masculine]=16000)
declare -A TUNE_SET=([older]="" [younger]="" [feminine]="--set lambda_lpips=0.3" [masculine]="--set lambda_lpips=0.3")
declare -A DECAY=([older]=4000 [younger]=4000 [feminine]=8000 [masculine]=8000)
# gender: a third stage, MORE steps from the tuned weights with the same losses, the learning rate constant and
# then decaying to 0 over the last MORE_DECAY (+0.3 dB on 600 fresh pairs of each, BENCHMARKS.md)
declare -A MORE=([older]=0 [younger]=0 [feminine]=12000 [masculine]=12000)
declare -A MORE_DECAY=([older]=0 [younger]=0 [feminine]=6000 [masculine]=6000)
# gender: a fourth stage, SKIPS steps from the third stage's weights with the generator's encoder-to-decoder skips
# (`--skips`, starting at zero) on pairs as rendered (`--set flip=false`: the gender change is not mirror-symmetric),
# the learning rate decaying to 0 over the last SKIPS_DECAY (BENCHMARKS.md, session 14)
declare -A SKIPS=([older]=0 [younger]=0 [feminine]=45000 [masculine]=45000)
declare -A SKIPS_DECAY=([older]=0 [younger]=0 [feminine]=20000 [masculine]=20000)
# gender: a fifth stage, MORE_PAIRS steps as the fourth, on the teacher's pairs of EXTRA_SEEDS too (`--data` twice;
# the fourth stage fitted its training pairs 3.7 / 3.9 dB closer than held-out ones: the pairs were the limit)
declare -A MORE_PAIRS=([older]=0 [younger]=0 [feminine]=45000 [masculine]=45000)
declare -A MORE_PAIRS_DECAY=([older]=0 [younger]=0 [feminine]=20000 [masculine]=20000)
declare -A EXTRA_SEEDS=([feminine]=20000-36383 [masculine]=20000-36383)
# the gender filters' later stages, SET_STEPS each (the rate decaying over the last SET_DECAY), each on the
# teacher's pairs of one more of MORE_SETS too. feminine: three, four, then five sets (+0.20 dB on the fresh pairs,
# then +0.23 over the seventh and eighth together); masculine: three, then four sets (+0.27 over the two together);
# BENCHMARKS.md, sessions 15 to 17
declare -A MORE_SETS=([feminine]="40000-56383 60000-76383 80000-96383" [masculine]="40000-56383 60000-76383")
SET_STEPS=20000
SET_DECAY=12000
# the labeler keeps an age pair only where gender, glasses and the head's yaw stayed put (a filter cannot guess a
# turned head or new glasses from its input)
declare -A OTHER=([older]="gender=0.15 glasses=0.1 yaw=0.06" [younger]="gender=0.15 glasses=0.1 yaw=0.06"
                  [feminine]=age=0.15 [masculine]=age=0.15)
# Age pairs come from the filters' own age direction (benchmarks/directions_synthfaces.py: orthogonal to gender,
# glasses, pose, light and every background class) on its W+ rows 4-9 with the plain unit, which keep the
# background, the head's pose and the glasses. The editor's age direction on its own rows (5-9, at its gain of
# 3.0) repaints the background, and on rows 3-9 it turns heads and adds glasses (BENCHMARKS.md). Gender needs
# the coarse rows (hair length, jaw: its change is in rows 0-2).
declare -A LAYERS=([older]=4,10 [younger]=4,10 [feminine]=0,10 [masculine]=0,10)
# folders are named after the generator (and anchored ones after the encoder too): a re-exported generator or a
# retrained encoder makes new datasets and runs, not a refused resume
GENERATOR=$(python -c "import faceedit; print(faceedit.load_generator('synthfaces-64').fingerprint()[:12])")
ENCODER=$(python -c "from faceedit.inversion.api import load_encoder_for; from faceedit.utils.files import \
weights_fingerprint; print(weights_fingerprint(load_encoder_for('synthfaces-64'))[:12])")
SPECS=()
for NAME in $NAMES; do
    NAME_SEEDS=${SEEDS:-${DEFAULT_SEEDS[$NAME]}}
    PLAIN=runs/pairs-synthfaces-64/$NAME-$GENERATOR-$NAME_SEEDS
    ARGS=(--model synthfaces-64 --direction "${DIRECTION[$NAME]}" --alpha="${ALPHA[$NAME]}" --layers "${LAYERS[$NAME]}"
          --classifier synthfaces-labeler --min-change 0.05 --no-progress)
    for LIMIT in ${OTHER[$NAME]}; do ARGS+=(--max-other "$LIMIT"); done
    # the labeler (never the judge) keeps a pair only where the edit moved its attribute and left the others alone
    faceedit dataset make "${ARGS[@]}" --seeds "$NAME_SEEDS" --out "$PLAIN"
    DATA=(--data "$PLAIN")  # the last stage's datasets: the teacher's own pairs, and anchored ones pooled with them
    RUN=runs/filter-synthfaces-64/$NAME-$GENERATOR-$NAME_SEEDS
    LAST=$RUN  # the last stage's run folder
    USE=${ANCHOR:-${ANCHORS[$NAME]}}
    if [ "$USE" != none ]; then
        DATA+=(--data "$PLAIN-anchored-$USE-$ENCODER")
        LAST=$RUN-pooled-$USE-$ENCODER
        faceedit dataset make "${ARGS[@]}" --seeds "$NAME_SEEDS" --anchor "$USE" --out "$PLAIN-anchored-$USE-$ENCODER"
    fi
    NET=(--ngf 16 --n-downsampling 3 --perceptual synthfaces-labeler --precision "$PRECISION" --dtype float16
         --no-progress)
    OUT=distill/assets/synthfaces-64/$NAME
    if [ -n "${INIT:-}" ]; then
        FINE=${STEPS:-2000}
        faceedit distill train "${DATA[@]}" --run-dir "$LAST-init-$(basename "$INIT")" --init-from "$INIT/$NAME" \
            --steps "$FINE" --lr-decay-steps "$FINE" --set lambda_gan=0 --set lambda_fm=0 --out "$OUT" "${NET[@]}"
        calibrate "$OUT"
        SPECS+=(--filter "$NAME=$OUT,$PLAIN")
        continue
    fi
    if [ "${TUNE[$NAME]}" -gt 0 ]; then
        STAGE=runs/filter-out/$NAME-$GENERATOR-$NAME_SEEDS  # the first stage; the tuned filter is the bundled one
        # shellcheck disable=SC2086  # LOSSES holds several words
        faceedit distill train --data "$PLAIN" --run-dir "$RUN" --steps "${STEPS:-${DEFAULT_STEPS[$NAME]}}" \
            --lr-decay-steps 0 ${LOSSES[$NAME]} --out "$STAGE" "${NET[@]}"
        # the later stages, each a new run from the previous stage's filter; the last one writes the bundled folder
        LATER=(tuned)
        [ "${MORE[$NAME]}" -gt 0 ] && LATER+=(more)
        [ "${SKIPS[$NAME]}" -gt 0 ] && LATER+=(skips)
        [ "${MORE_PAIRS[$NAME]}" -gt 0 ] && LATER+=(pairs)
        declare -A LATER_STEPS=([tuned]=${TUNE[$NAME]} [more]=${MORE[$NAME]} [skips]=${SKIPS[$NAME]}
                                [pairs]=${MORE_PAIRS[$NAME]})
        declare -A LATER_DECAY=([tuned]=${DECAY[$NAME]} [more]=${MORE_DECAY[$NAME]} [skips]=${SKIPS_DECAY[$NAME]}
                                [pairs]=${MORE_PAIRS_DECAY[$NAME]})
        declare -A LATER_SET=([tuned]="" [more]="" [skips]="--skips --set flip=false"
                              [pairs]="--skips --set flip=false")
        # the extra pair sets, made here (each resumes): the fifth stage on two sets, each later one on one more
        POOLED="--skips --set flip=false"
        # shellcheck disable=SC2206  # MORE_SETS holds several seed ranges
        SETS=(${EXTRA_SEEDS[$NAME]:-} ${MORE_SETS[$NAME]:-})
        for i in "${!SETS[@]}"; do
            EXTRA=runs/pairs-synthfaces-64/$NAME-$GENERATOR-${SETS[$i]}
            faceedit dataset make "${ARGS[@]}" --seeds "${SETS[$i]}" --out "$EXTRA"
            POOLED+=" --data $EXTRA"
            if [ "$i" -eq 0 ]; then
                LATER_SET[pairs]=$POOLED
            else
                LATER+=("pairs$((i + 2))")  # pairs3: three sets (the first is DATA's), ...
                LATER_STEPS[pairs$((i + 2))]=$SET_STEPS
                LATER_DECAY[pairs$((i + 2))]=$SET_DECAY
                LATER_SET[pairs$((i + 2))]=$POOLED
            fi
        done
        FROM=$STAGE
        for SUFFIX in "${LATER[@]}"; do
            TO=$STAGE-$SUFFIX
            [ "$SUFFIX" = "${LATER[-1]}" ] && TO=$OUT
            # shellcheck disable=SC2086  # LOSSES, TUNE_SET and LATER_SET hold several words
            faceedit distill train "${DATA[@]}" --run-dir "$LAST-$SUFFIX" --init-from "$FROM" \
                --steps "${LATER_STEPS[$SUFFIX]}" --lr-decay-steps "${LATER_DECAY[$SUFFIX]}" ${LATER_SET[$SUFFIX]} \
                ${LOSSES[$NAME]} ${TUNE_SET[$NAME]} --out "$TO" "${NET[@]}"
            FROM=$TO
        done
    else
        # shellcheck disable=SC2086
        faceedit distill train "${DATA[@]}" --run-dir "$LAST" --steps "${STEPS:-${DEFAULT_STEPS[$NAME]}}" \
            --lr-decay-steps "${DECAY[$NAME]}" ${LOSSES[$NAME]} --out "$OUT" "${NET[@]}"
    fi
    calibrate "$OUT"
    SPECS+=(--filter "$NAME=$OUT,$PLAIN")
done
[ "${MEASURE:-yes}" = no ] && exit 0
python benchmarks/distill_synthfaces.py "${SPECS[@]}" --json benchmarks/results/distill_synthfaces-64.json \
    --images docs/images
