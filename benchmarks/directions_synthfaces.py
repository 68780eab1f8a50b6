"""Fit, judge and (optionally) bundle the attribute directions of a synthfaces generator.

1. Sample N latents, render them, label them with the *labeler*; time it.
2. Fit naive directions (age, gender, smile, glasses, beard) and conditional ones (age orthogonal to
   gender, gender orthogonal to age, skin tone and every background class, age orthogonal to gender and
   glasses; and the age filters' teacher, age orthogonal to gender, glasses, pose, light and every background
   class on rows 4-9) with a linear SVM; time it.
   Compare the four estimator methods on age (held-out score, cosine to the SVM direction, time).
3. Judge every direction with the *judge* on faces the fitting never saw: monotonic fraction of the
   target, change of every other attribute (slope and per-face), change outside the face.
4. Write the report folder (report.json, curves, strips, entanglement heatmap), side-by-side naive vs
   conditional figures for the docs, a JSON of the figures, and with ``--bundle`` the direction files
   into ``directions/assets/MODEL/``.

    python benchmarks/directions_synthfaces.py --model synthfaces-64 --n 20000 --eval-n 1000 \
        --work runs/directions-synthfaces-64 --json benchmarks/results/directions_synthfaces-64.json \
        --images docs/images --bundle
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run_record  # noqa: E402

NAIVE = ["age", "gender", "smile", "glasses", "beard"]
# gender is also made orthogonal to skin tone and to every background class: the world draws both independently
# of gender, but the gender directions in W repaint backgrounds (outside-face change 0.38 on all rows for
# gender-orth-age, 0.16 with these conditions: MODELS.md)
CONDITIONAL = [("age", ["gender"]), ("gender", ["age", "skin_tone", "background"]), ("age", ["gender", "glasses"])]
# the age filters' teacher (benchmarks/filters_synthfaces.sh): age orthogonal to gender, glasses, pose, light and
# every background class, on W+ rows 4-9 with the plain unit (not chosen by the labeler). Conditioned on pose and
# light, and off rows 0-3, its edit keeps the head still and the glasses off (judged yaw change +0.015 against
# -0.094 for age-orth-gender-glasses on rows 3-9, glasses +0.037 against +0.186), which a filter cannot guess
TEACHERS = {("age", ("gender", "glasses", "yaw", "roll", "light", "background")): (4, 10)}
FIGURES = [("age", "age-orth-gender"), ("gender", "gender-orth-age-skin_tone-background")]  # naive vs conditional
METHODS = ["svm", "logistic", "mean_diff", "ridge"]


def stack(images, axis: int) -> np.ndarray:
    """Concatenate uint8 images along ``axis`` (0 = below, 1 = beside), padding the other side with white."""
    other = 1 - axis
    size = max(im.shape[other] for im in images)
    padded = []
    for im in images:
        pad = [(0, 0), (0, 0), (0, 0)]
        pad[other] = (0, size - im.shape[other])
        padded.append(np.pad(im, pad, constant_values=255))
    return np.concatenate(padded, axis=axis)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="synthfaces-64")
    parser.add_argument("--labeler", default="synthfaces-labeler")
    parser.add_argument("--judge", default="synthfaces-judge")
    parser.add_argument("--n", type=int, default=20_000, help="fitting samples")
    parser.add_argument("--eval-n", type=int, default=1000, help="judged faces per direction")
    parser.add_argument("--work", type=Path, required=True, help="folder for samples and the report (resumable)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--images", type=Path, default=None, help="write the docs figures here")
    parser.add_argument("--bundle", action="store_true", help="replace directions/assets/MODEL with the result")
    parser.add_argument("--choose-layers", type=float, default=None, metavar="KEEP",
                        help="let the labeler choose each direction's W+ rows (directions.choose_layers); directions "
                             "whose rows change are also judged on all rows, as '<name> (all rows)'")
    parser.add_argument("--steady", action="store_true",
                        help="with --choose-layers: among the rows that keep KEEP, choose those whose edit the labeler "
                             "sees rise at every step of the slider's range for the most faces")
    args = parser.parse_args()

    import faceedit
    from directions.bundled import BUNDLED_DIRECTIONS_DIR
    from directions.classifiers.registry import make_classifier
    from directions.estimators import DirectionEstimator
    from directions.io import save_direction
    from directions.pipeline import conditional_name, fit_directions
    from directions.report import edit_strips, write_direction_report
    from directions.sampling import sample_and_label
    from faceedit.utils.images import save_png

    G = faceedit.load_generator(args.model, device="cpu")
    name = Path(str(args.model)).name
    labeler, judge = make_classifier(args.labeler), make_classifier(args.judge)
    start = time.perf_counter()
    samples = sample_and_label(G, labeler, args.work / f"samples-{G.fingerprint()[:12]}", n=args.n, seed=0)
    sample_seconds = time.perf_counter() - start

    start = time.perf_counter()
    fitted = fit_directions(samples, NAIVE, generator_name=name, generator_fingerprint=G.fingerprint(),
                            classifier_name=labeler.name, conditional=CONDITIONAL + list(TEACHERS))
    bundled = NAIVE + [conditional_name(attribute, others) for attribute, others in CONDITIONAL]
    teachers = {conditional_name(attribute, others): dataclasses.replace(
        fitted[conditional_name(attribute, others)], layers=rows, layer_gain=1.0)
        for (attribute, others), rows in TEACHERS.items()}
    fitted = {label: fitted[label] for label in bundled}  # not the helpers (skin_tone) fitted for conditions
    fit_seconds = time.perf_counter() - start
    print(f"{len(samples)} samples labelled in {sample_seconds:.0f} s; {len(fitted)} directions fitted in "
          f"{fit_seconds:.1f} s")

    W, age = samples.w.double().numpy(), samples.scores["age"].double().numpy()
    methods = {}
    for method in METHODS:
        t = time.perf_counter()
        est = DirectionEstimator(method=method).fit(W, age)
        methods[method] = dict(seconds=round(time.perf_counter() - t, 2), score=est.score_,
                               cosine_to_svm=float(est.direction_ @ fitted["age"].vector))
        print(f"age by {method}: held-out {est.score_:.3f}, cosine to svm {methods[method]['cosine_to_svm']:.3f}, "
              f"{methods[method]['seconds']} s")

    judged = dict(fitted)
    layer_seconds = 0.0
    if args.choose_layers is not None:
        from directions.layers import with_chosen_layers

        start = time.perf_counter()
        from directions.report import DEFAULT_ALPHAS

        chosen = with_chosen_layers(G, fitted, labeler, keep=args.choose_layers,
                                    steady_alphas=DEFAULT_ALPHAS if args.steady else None)
        layer_seconds = time.perf_counter() - start
        judged = {}
        for label, direction in chosen.items():
            if direction.layers != (0, G.num_ws):
                judged[f"{label} (all rows)"] = fitted[label]
                print(f"{label}: W+ rows {direction.layers[0]}-{direction.layers[1] - 1} chosen by the labeler")
            judged[label] = direction
        fitted = chosen
    judged.update(teachers)  # their rows are fixed: the filters' pairs are made on them
    fitted.update(teachers)

    start = time.perf_counter()
    report = write_direction_report(args.work / "eval", G, judged, judge, n=args.eval_n,
                                    extra={"model": name, "labeler": labeler.name})
    eval_seconds = time.perf_counter() - start
    summary = report["directions"]
    for label, entry in summary.items():
        target, change = entry["attribute"], entry["mean_abs_change"]
        print(f"{label}: monotonic {entry.get('monotonic_fraction', float('nan')):.3f}, {target} "
              f"{entry['effect_per_unit'][target]:+.3f}/unit, |change| gender {change['gender']:.3f}, "
              f"age {change['age']:.3f}, glasses {change['glasses']:.3f}, "
              f"outside face {entry['outside_face_change']:.4f}")

    if args.images:
        args.images.mkdir(parents=True, exist_ok=True)
        for attribute, conditional in FIGURES:
            pair = {attribute: fitted[attribute], conditional: fitted[conditional]}
            curves = [np.asarray(response_curves_from(args.work / "eval", label)) for label in pair]
            figure = stack([stack(curves, axis=1), edit_strips(G, pair, seeds=[0, 1, 2, 3], zoom=2)], axis=0)
            save_png(figure, args.images / f"directions-{name}-{attribute}-naive-vs-conditional.png")
        shutil.copyfile(args.work / "eval" / "entanglement.png", args.images / f"directions-{name}-entanglement.png")
        save_png(edit_strips(G, {k: fitted[k] for k in NAIVE}, seeds=[0, 1], zoom=2),
                 args.images / f"directions-{name}-strips.png")

    if args.bundle:
        folder = BUNDLED_DIRECTIONS_DIR / name
        shutil.rmtree(folder, ignore_errors=True)
        for label, direction in fitted.items():
            save_direction(direction, folder / label)
        print(f"bundled {len(fitted)} directions in {folder}")

    result = dict(model=name, fingerprint=G.fingerprint(), labeler=labeler.name, judge=judge.name, n=len(samples),
                  sample_seconds=round(sample_seconds, 1), fit_seconds=round(fit_seconds, 2),
                  layer_seconds=round(layer_seconds, 1), layers={k: d.layers for k, d in fitted.items()},
                  eval_seconds=round(eval_seconds, 1), held_out={k: d.score for k, d in fitted.items()},
                  age_methods=methods, evaluation=summary, eval_n=args.eval_n, alphas=report["alphas"], **run_record())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def response_curves_from(folder: Path, label: str) -> np.ndarray:
    """The curves PNG the report wrote for ``label``."""
    from PIL import Image

    return np.asarray(Image.open(folder / f"curves-{label}.png").convert("RGB"))


if __name__ == "__main__":
    sys.exit(main())
