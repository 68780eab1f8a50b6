"""Where a filter's error comes from: its PSNR against the teacher on pairs split by what else the teacher changed.

For each filter and a dataset of the teacher's own pairs it never trained on (e.g. the same request on later
seeds), the *labeler* scores both images of every pair; for each attribute the pairs are split at the median
of the teacher's absolute change of it, and the pooled PSNR (from the mean squared error) of the filter's output
against the teacher is given for each half. A half where the teacher moved the attribute more that measures
much worse says that change is what the filter cannot guess; halves that measure alike say it is not.

    faceedit dataset make --model synthfaces-64 --direction gender-orth-age-skin_tone-background --alpha=-3,-1.5 \\
        --layers 0,10 --seeds 16384-17407 --classifier synthfaces-labeler --min-change 0.05 --max-other age=0.15 \\
        --out runs/fresh-feminine
    python benchmarks/filter_error_by_change.py --filter feminine=feminine,runs/fresh-feminine \\
        --json benchmarks/results/filter_error_by_change.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run_record  # noqa: E402
from distill_synthfaces import filter_and_teacher_pairs  # noqa: E402

from distill.filter import apply_in_batches  # noqa: E402

ATTRIBUTES = ("yaw", "roll", "light", "smile", "glasses", "beard")


def pooled_psnr(squared_error: torch.Tensor) -> float:
    """PSNR of the mean of per-pair squared errors (images in [-1, 1], so a peak-to-peak of 2)."""
    return 10 * math.log10(4.0 / float(squared_error.mean()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filter", action="append", required=True, metavar="NAME=FILTER,DATASET",
                        help="filter folder (or bundled name) and a dataset of its teacher's own pairs; repeatable")
    parser.add_argument("--labeler", default="synthfaces-labeler")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from directions.classifiers.registry import make_classifier
    torch.set_grad_enabled(False)
    labeler = make_classifier(args.labeler)
    rows = []
    for spec in args.filter:
        name, flt, A, B, header = filter_and_teacher_pairs(spec)
        a, b = (A.float() - 128) / 127.5, (B.float() - 128) / 127.5  # [N, 3, R, R]
        out = apply_in_batches(flt, a, 1.0, batch=64)
        squared_error = (out - b).pow(2).mean(dim=(1, 2, 3))  # [N]
        scores_a, scores_b = labeler(a), labeler(b)
        row = dict(filter=name, dataset=spec.partition(",")[2], pairs=len(a), psnr=pooled_psnr(squared_error),
                   psnr_unfiltered=pooled_psnr((a - b).pow(2).mean(dim=(1, 2, 3))), split={})
        for attribute in ATTRIBUTES:
            moved = (scores_b[attribute] - scores_a[attribute]).abs()  # [N]
            low = moved <= moved.median()
            row["split"][attribute] = dict(median_abs_change=float(moved.median()),
                                           psnr_smaller_half=pooled_psnr(squared_error[low]),
                                           psnr_larger_half=pooled_psnr(squared_error[~low]))
        rows.append(row)
        print(f"{name}: {len(a)} pairs, pooled PSNR {row['psnr']:.2f} dB (doing nothing {row['psnr_unfiltered']:.2f})")
        for attribute, split in row["split"].items():
            print(f"  |d{attribute}| median {split['median_abs_change']:.3f}: smaller half "
                  f"{split['psnr_smaller_half']:.2f} dB, larger half {split['psnr_larger_half']:.2f} dB")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(dict(labeler=args.labeler, rows=rows, **run_record()), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
