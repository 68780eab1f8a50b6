"""Quality of distilled filters on synthfaces: fidelity to the teacher and generalisation to renders.

For each filter (a folder or a bundled name) with the teacher's own pairs (a dataset made without
``--anchor``: the one it was trained on, or, for a filter trained on anchored pairs, the plain dataset of
the same request, whose held-out pairs are the teacher's images):

* fidelity — the filter's output against the teacher's edited image ``B`` on the dataset's held-out
  pairs (the last ``held_out`` pairs, never trained on): PSNR and SSIM, next to the PSNR of doing
  nothing (the input ``A`` against ``B``); and where the error sits: the squared error on the picture's
  border (top, left and right tenth, mostly background) and elsewhere, next to the teacher's change there;
* generalisation — the judge's change of the filter's attribute when the filter is applied to fresh
  renders of the procedural world (the GAN never made them), against the teacher's change on GAN
  samples (``B`` vs ``A`` of the held-out pairs), and the ratio of the two; plus the judged change of
  every other attribute, and the filter's own change on the teacher's inputs (which separates a weak
  filter from a gap between GAN samples and renders). The held-out pairs passed the dataset's classifier
  filter (its attribute moved at least ``min_change``, the others stayed put) and the renders did not, so the
  teacher's change is also measured on ``--gan-samples`` *unfiltered* pairs of the same request (seeds from
  ``GAN_SEED``, which no dataset uses), with the filter's change on them: the like-for-like reference;
* strength — every figure above is the network as distilled (strength 1); a calibrated filter
  (``faceedit filters calibrate``) is measured a second time at its default strength, what a call without a
  strength applies (``at_default``; its grid gets a sixth row: the renders at that strength);
* fit — with ``--train-pairs N``, the PSNR on the dataset's first N pairs, which the filter trained on (for a
  filter trained on anchored pairs these are the teacher's pairs of the same seeds, not its training images):
  far above the held-out PSNR means more pairs would help; close to it, a larger or longer-trained network.

    python benchmarks/distill_synthfaces.py --filter older=runs/older/checkpoints/...,data/older \
        --json benchmarks/results/distill_synthfaces-64.json --images docs/images
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run_record  # noqa: E402

from distill.dataset import dataset_attribute, unfiltered_pairs  # noqa: E402
from distill.filter import apply_in_batches  # noqa: E402
from faceedit.utils.metrics import psnr  # noqa: E402

RENDER_SEED = 818_181
GAN_SEED = 900_000  # first seed of the unfiltered GAN samples: above every dataset's seeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filter", action="append", required=True, metavar="NAME=FILTER,DATASET",
                        help="filter folder (or bundled name) and its dataset folder; repeatable")
    parser.add_argument("--attribute", action="append", default=[], metavar="NAME=ATTR",
                        help="judged attribute a filter changes (default: the dataset's direction attribute)")
    parser.add_argument("--judge", default="synthfaces-judge")
    parser.add_argument("--held-out", type=int, default=64)
    parser.add_argument("--renders", type=int, default=256, help="fresh renders for generalisation")
    parser.add_argument("--render-seed", type=int, default=RENDER_SEED,
                        help="seed of the renders; choose between training recipes on another seed with "
                             "--judge synthfaces-labeler, so the judge's renders stay a test set")
    parser.add_argument("--gan-samples", type=int, default=512,
                        help="unfiltered GAN pairs of the dataset's request for the like-for-like teacher change")
    parser.add_argument("--model", default="synthfaces-64", help="the teacher generator (for the unfiltered pairs)")
    parser.add_argument("--train-pairs", type=int, default=0,
                        help="also measure PSNR on the first N pairs (trained on); 0 = skip")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--images", type=Path, default=None)
    args = parser.parse_args()
    if args.gan_samples < 1:
        parser.error(f"--gan-samples must be at least 1 (the unfiltered teacher's change needs pairs), "
                     f"got {args.gan_samples}")

    import faceedit
    from directions.classifiers.registry import make_classifier
    from faceedit.inversion.losses import ssim
    from faceedit.synthfaces import render_batch
    from faceedit.utils.images import images_from_tensor, make_grid, save_png

    judge = make_classifier(args.judge)
    attributes = dict(item.split("=", 1) for item in args.attribute)
    torch.set_grad_enabled(False)
    G = faceedit.load_generator(args.model, device="cpu")
    rows = []
    for spec in args.filter:
        name, flt, A, B, header = filter_and_teacher_pairs(spec)
        trained_on = flt.metadata.get("dataset", {})
        a = (A[-args.held_out:].float() - 128) / 127.5
        b = (B[-args.held_out:].float() - 128) / 127.5
        out = apply_in_batches(flt, a, 1.0)  # the network as distilled; its default strength below
        attribute = attributes.get(name) or dataset_attribute(header)
        renders, _ = render_batch(args.renders, seed=args.render_seed, resolution=flt.resolution)
        filtered = apply_in_batches(flt, renders, 1.0)
        judged_a, judged_b, judged_renders = judge(a), judge(b), judge(renders)  # each judged once
        judged_filtered = judge(filtered)
        teacher = {k: float((judged_b[k] - judged_a[k]).mean()) for k in judged_b if "=" not in k}
        student = {k: float((judged_filtered[k] - judged_renders[k]).mean()) for k in teacher}
        on_gan = float((judge(out)[attribute] - judged_a[attribute]).mean())  # same inputs as the teacher
        gan_a, gan_b = unfiltered_pairs(G, header, args.model, args.gan_samples, GAN_SEED)  # [N, 3, H, W] each
        on_gan_a = judge(gan_a)[attribute]
        teacher_unfiltered = float((judge(gan_b)[attribute] - on_gan_a).mean())
        filter_unfiltered = float((judge(apply_in_batches(flt, gan_a, 1.0))[attribute] - on_gan_a).mean())
        border = _border_mask(a.shape[-1])
        row = dict(filter=name, attribute=attribute, anchor=trained_on.get("anchor"), held_out=len(a),
                   psnr=float(psnr(out, b).mean()),
                   psnr_unfiltered=float(psnr(a, b).mean()),  # doing nothing: the input against the teacher
                   # where the error sits: the picture's border (mostly background) and the rest
                   mse_border=_mse(out, b, border), mse_rest=_mse(out, b, ~border),
                   teacher_change_border=_mse(a, b, border), teacher_change_rest=_mse(a, b, ~border),
                   ssim=float(ssim(out, b).mean()), teacher_change=teacher[attribute],
                   filter_change_on_renders=student[attribute], filter_change_on_gan_samples=on_gan,
                   ratio=student[attribute] / teacher[attribute] if teacher[attribute] else float("nan"),
                   gan_samples=len(gan_a), teacher_change_unfiltered=teacher_unfiltered,
                   filter_change_on_unfiltered=filter_unfiltered,
                   ratio_unfiltered=student[attribute] / teacher_unfiltered if teacher_unfiltered else float("nan"),
                   other_changes_teacher={k: v for k, v in teacher.items() if k != attribute},
                   other_changes_filter={k: v for k, v in student.items() if k != attribute},
                   default_strength=flt.default_strength, calibration=flt.metadata.get("calibration"))
        filtered_default = filtered
        if flt.default_strength != 1.0:  # calibrated: what a call without a strength does
            out_default = apply_in_batches(flt, a)
            filtered_default = apply_in_batches(flt, renders)
            change = float((judge(filtered_default)[attribute] - judged_renders[attribute]).mean())
            row["at_default"] = dict(psnr=float(psnr(out_default, b).mean()), ssim=float(ssim(out_default, b).mean()),
                                     filter_change_on_renders=change, ratio=change / teacher[attribute],
                                     ratio_unfiltered=change / teacher_unfiltered,
                                     filter_change_on_gan_samples=float(
                                         (judge(out_default)[attribute] - judged_a[attribute]).mean()))
            print(f"{name} at its default strength {flt.default_strength:g}: PSNR {row['at_default']['psnr']:.2f} dB, "
                  f"judged {attribute} change on renders {change:+.3f} ({100 * row['at_default']['ratio']:.0f} % of "
                  f"the teacher on GAN samples, {100 * row['at_default']['ratio_unfiltered']:.0f} % on unfiltered "
                  f"ones)")
        if args.train_pairs:
            seen_a, seen_b = ((x[:args.train_pairs].float() - 128) / 127.5 for x in (A, B))
            seen = apply_in_batches(flt, seen_a, 1.0)
            row.update(train_pairs=len(seen_a), psnr_train_pairs=float(psnr(seen, seen_b).mean()))
            print(f"{name}: PSNR {row['psnr_train_pairs']:.2f} dB on {len(seen_a)} pairs it trained on")
        rows.append(row)
        print(f"{name}: PSNR {row['psnr']:.2f} dB (unfiltered input {row['psnr_unfiltered']:.2f} dB), SSIM "
              f"{row['ssim']:.3f} vs teacher on {len(a)} held-out pairs; "
              f"judged {attribute} change: filter on renders {row['filter_change_on_renders']:+.3f}, teacher on "
              f"GAN samples {row['teacher_change']:+.3f} ({100 * row['ratio']:.0f} %); filter on the same GAN samples "
              f"{on_gan:+.3f}; unfiltered GAN samples: teacher {teacher_unfiltered:+.3f} (renders "
              f"{100 * row['ratio_unfiltered']:.0f} % of it), filter {filter_unfiltered:+.3f}; squared error border "
              f"{row['mse_border']:.4f} / rest {row['mse_rest']:.4f} (the "
              f"teacher's change: {row['teacher_change_border']:.4f} / {row['teacher_change_rest']:.4f})")
        if args.images:
            grid = torch.cat([a[:8], out[:8], b[:8], renders[:8], filtered[:8]]
                             + ([filtered_default[:8]] if flt.default_strength != 1.0 else []))
            save_png(make_grid(images_from_tensor(grid), cols=8).repeat(2, 0).repeat(2, 1),
                     args.images / f"filter-{name}.png")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        record = dict(rows=rows, judge=judge.name, render_seed=args.render_seed,
                      gan_seeds=[GAN_SEED, GAN_SEED + args.gan_samples - 1], **run_record())
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    return 0


def filter_and_teacher_pairs(spec: str):
    """``'NAME=FILTER,DATASET'`` -> ``(name, Filter, A, B, header)``: the filter and its teacher's own pairs
    (``uint8 [N, 3, R, R]`` each). Anchored pairs are refused: their ``A`` is not the teacher's image."""
    from distill.filter import Filter
    from distill.train import load_pairs

    name, _, paths = spec.partition("=")
    filter_path, _, dataset = paths.partition(",")
    A, B, header = load_pairs(dataset)
    if header["spec"].get("anchor"):
        raise SystemExit(f"{dataset} holds anchored pairs (A is not the teacher's image); pass the teacher's own "
                         f"pairs, a dataset made with the same request without --anchor")
    return name, Filter.load(filter_path), A, B, header


def _border_mask(size: int) -> torch.Tensor:
    """``[H, W]`` bool: the top, left and right tenth of a portrait, where the background shows."""
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    edge = max(1, size // 10)
    return (rows < edge) | (cols < edge) | (cols >= size - edge)


def _mse(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean squared difference over the pixels in ``mask`` ([-1, 1] scale, averaged over images and channels)."""
    return float((x - y).pow(2).mean(1)[:, mask].mean())


if __name__ == "__main__":
    sys.exit(main())
