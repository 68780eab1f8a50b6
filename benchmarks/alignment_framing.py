"""How a model's training crops relate to FFHQ's alignment: the ``crop_scale`` / ``crop_shift`` of a model.

Renders synthfaces portraits at high resolution, finds dlib's 68 landmarks, and measures the
FFHQ crop square against the render's own frame: scale = render side / FFHQ side, shift = (render
centre - FFHQ centre) / FFHQ side. Then checks the result: aligning each render with the measured
framing and with plain FFHQ framing, and comparing both to the render itself at the model's
resolution (mean absolute difference, 0-255).

    python benchmarks/alignment_framing.py                    # 80 faces at 256 px
    python benchmarks/alignment_framing.py --faces 200 --json benchmarks/results/alignment_framing.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=80)
    parser.add_argument("--render-size", type=int, default=256)
    parser.add_argument("--model-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from PIL import Image

    from benchmarks.common import run_record
    from faceedit.alignment.ffhq import align_face, ffhq_quad
    from faceedit.alignment.landmarks import LandmarkDetector
    from faceedit.synthfaces.render import render_batch
    from faceedit.utils.images import images_from_tensor

    renders = images_from_tensor(render_batch(args.faces, seed=args.seed, resolution=args.render_size)[0])
    detector = LandmarkDetector(points=68)
    centre = np.array([args.render_size / 2 - 0.5] * 2)
    scales, shifts, found = [], [], []
    for image in renders:
        faces = detector(image)
        if not faces:
            continue
        quad = ffhq_quad(faces[0].points)
        side = np.hypot(*(quad[3] - quad[0]))
        scales.append(args.render_size / side)
        shifts.append((centre - quad.mean(axis=0)) / side)
        found.append((image, faces[0].points))
    scale = float(np.median(scales))
    shift = tuple(float(v) for v in np.mean(shifts, axis=0))

    def mad(framing_scale, framing_shift) -> float:
        diffs = []
        for image, points in found:
            target = np.asarray(Image.fromarray(image).resize((args.model_size,) * 2, Image.LANCZOS), np.float32)
            crop = align_face(image, points, args.model_size, scale=framing_scale, shift=framing_shift).image
            diffs.append(np.abs(crop.astype(np.float32) - target).mean())
        return float(np.mean(diffs))

    result = dict(run_record(), faces=args.faces, detected=len(found), crop_scale=scale,
                  crop_scale_std=float(np.std(scales)), crop_shift=shift,
                  mad_measured_framing=mad(scale, shift), mad_ffhq_framing=mad(1.0, (0.0, 0.0)))
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
