"""What a filter's teacher changes: the edits paired datasets could be made of, judged before any training.

For each candidate edit (a bundled direction, W+ rows, strength range) the teacher's pairs are rendered for
seeds no dataset uses, exactly as `faceedit dataset make` renders them (same noise for both images), and
measured by the *judge* (never the labeler, which filters the datasets):

* doing nothing: PSNR of the unedited image against the edited one (how much the teacher changes);
* the squared change ([-1, 1] scale, as in distill_synthfaces.py) on the picture's border (top, left and
  right tenth, mostly background) and elsewhere;
* the judged change of the target and of every other attribute (mean, and mean absolute for the pose and
  light, which move both ways), i.e. what a filter would have to guess from its input;
* the noise floor: PSNR of the edited image against itself rendered with other noise maps (same latent and
  strength). The noise is one thing about B a filter cannot read from A, so this bounds its fidelity;
* the strength floor: PSNR of the edited image against the same pair edited at the middle of the strength
  range. A pair's strength is drawn at random and a filter is not told it: the best it can do is the edit
  at about that middle, so this bounds its fidelity too.

A candidate direction that is not bundled (a conditional name such as
``gender-orth-age-skin_tone-background-glasses``) is fitted by the labeler on the labelled samples of
benchmarks/directions_synthfaces.py (``--samples``, its ``--work`` folder), exactly as that script fits the
bundled ones.

    python benchmarks/filter_teachers_synthfaces.py \\
        --edit age-orth-gender-glasses:3,10 --edit age-orth-gender-glasses-yaw-roll-light-background:4,10 \\
        --json benchmarks/results/filter_teachers_synthfaces-64.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Dict, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run_record  # noqa: E402
from distill_synthfaces import _border_mask, _mse  # noqa: E402

from distill.dataset import render_pairs_in_batches  # noqa: E402

FIRST_SEED = 100_000  # above every dataset's seeds in benchmarks/filters_synthfaces.sh
NOISE_OFFSET = 1_000_000  # the other noise maps' seeds: seed + this


def _direction(G, model: str, name: str, samples: Optional[Path], fitted: Dict[str, object]):
    """The bundled direction ``name``, or one fitted by the labeler on ``samples`` (a conditional name); fitted
    ones are kept in ``fitted`` for the next edit that names them."""
    from directions.bundled import load_bundled_direction
    from directions.classifiers.registry import make_classifier
    from directions.pipeline import fit_directions
    from directions.sampling import sample_and_label

    try:
        return load_bundled_direction(model, name)
    except KeyError:
        if samples is None:
            raise SystemExit(f"{name!r} is not bundled for {model}: give --samples (directions_synthfaces.py's "
                             f"--work folder) to fit it") from None
    if name in fitted:
        return fitted[name]
    attribute, _, others = name.partition("-orth-")
    if not others:
        raise SystemExit(f"{name!r} is neither bundled nor a conditional name (ATTRIBUTE-orth-OTHER-OTHER...)")
    labeler = make_classifier("synthfaces-labeler")
    labelled = sample_and_label(G, labeler, samples / f"samples-{G.fingerprint()[:12]}", n=20_000, seed=0,
                                progress=False)
    fitted[name] = fit_directions(labelled, [], generator_name=model, generator_fingerprint=G.fingerprint(),
                                  classifier_name=labeler.name, conditional=[(attribute, others.split("-"))])[name]
    return fitted[name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="synthfaces-64")
    parser.add_argument("--edit", action="append", required=True, metavar="DIRECTION:START,STOP[:MIN,MAX]",
                        help="bundled direction, W+ rows (the plain unit unless they are the direction's own) and "
                             "strength range (default 1.5,3); repeatable")
    parser.add_argument("--judge", default="synthfaces-judge")
    parser.add_argument("--n", type=int, default=512, help="seeds per edit")
    parser.add_argument("--samples", type=Path, default=None,
                        help="directions_synthfaces.py's --work folder: fit candidate directions that are not bundled")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import faceedit
    from directions.classifiers.registry import make_classifier
    from distill.dataset import PairSpec
    from faceedit.utils.metrics import psnr

    torch.set_grad_enabled(False)
    G = faceedit.load_generator(args.model, device="cpu")
    judge = make_classifier(args.judge)
    seeds = list(range(FIRST_SEED, FIRST_SEED + args.n))
    border = _border_mask(G.img_resolution)
    fitted: Dict[str, object] = {}  # candidate directions fitted so far
    rows = []
    for edit in args.edit:
        name, rows_text, *strength = edit.split(":")
        start, stop = (int(x) for x in rows_text.split(","))
        low, high = (float(x) for x in (strength[0].split(",") if strength else ("1.5", "3")))
        direction = _direction(G, args.model, name, args.samples, fitted)
        spec = PairSpec(direction=name, layers=(start, stop), alpha_min=low, alpha_max=high, num_seeds=args.n)
        a, b = render_pairs_in_batches(G, direction, spec, seeds)  # [N, 3, H, W] in [-1, 1]
        other_noise = render_pairs_in_batches(G, direction, spec, seeds,
                                              noise_seeds=[s + NOISE_OFFSET for s in seeds])[1]  # other noise maps
        middle = dataclasses.replace(spec, alpha_min=(low + high) / 2, alpha_max=(low + high) / 2)
        mid_strength = render_pairs_in_batches(G, direction, middle, seeds)[1]  # B at the middle strength
        scores_a, scores_b = judge(a), judge(b)
        names = [k for k in scores_a if "=" not in k]
        row = dict(edit=edit, direction=name, rows=[start, stop], alpha=[low, high],
                   unit=direction.unit_for((start, stop)), attribute=direction.attribute,
                   psnr_unfiltered=float(psnr(a, b).mean()), psnr_other_noise=float(psnr(other_noise, b).mean()),
                   psnr_middle_strength=float(psnr(mid_strength, b).mean()),
                   change_border=_mse(a, b, border), change_rest=_mse(a, b, ~border),
                   judged_change={k: float((scores_b[k] - scores_a[k]).mean()) for k in names},
                   judged_abs_change={k: float((scores_b[k] - scores_a[k]).abs().mean()) for k in names})
        rows.append(row)
        moved = ", ".join(f"{k} {row['judged_change'][k]:+.3f}" for k in names if k != direction.attribute)
        print(f"{edit}: doing nothing {row['psnr_unfiltered']:.2f} dB, noise floor {row['psnr_other_noise']:.1f} dB, "
              f"strength floor {row['psnr_middle_strength']:.1f} dB, {direction.attribute} "
              f"{row['judged_change'][direction.attribute]:+.3f}; border / rest change {row['change_border']:.4f} / "
              f"{row['change_rest']:.4f}; |yaw| {row['judged_abs_change'].get('yaw', float('nan')):.3f}; {moved}")
    result = dict(model=args.model, judge=args.judge, seeds=[seeds[0], seeds[-1]], rows=rows, **run_record())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
