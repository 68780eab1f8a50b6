"""Inversion quality, speed and editability on a synthfaces generator.

Targets: (a) GAN samples (their true latents are known: the error in recovered w is reported) and
(b) fresh renders of the procedural world, which the GAN never produced, plus (c) one real photo
(scikit-image's astronaut, aligned like FFHQ) for dlib identity similarity. Methods: encoder, W,
W+, encoder+W+, PTI. For each: PSNR, SSIM, LPIPS (when `faceedit models fetch vgg16-lpips` has
been run), seconds per image on this machine, steps; and editability: the judge's age change when
the inverted latent moves along the bundled age direction from -2 to +2 std, next to the same edit
on GAN samples' true latents.

    python benchmarks/inversion_synthfaces.py --model synthfaces-64 --n 8 --json \
        benchmarks/results/inversion_synthfaces-64.json --images docs/images
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import markdown_tables  # noqa: E402
from common import run_record  # noqa: E402

from faceedit.utils.metrics import psnr  # noqa: E402

RENDER_SEED = 515_151
SAMPLE_SEED = 616_161
METHODS = ["encoder", "w", "w+", "encoder+w+", "pti"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="synthfaces-64")
    parser.add_argument("--judge", default="synthfaces-judge")
    parser.add_argument("--n", type=int, default=8, help="images per target set")
    parser.add_argument("--steps", type=int, default=300, help="projection steps")
    parser.add_argument("--pti-steps", type=int, default=300)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--images", type=Path, default=None, help="write a comparison grid here")
    args = parser.parse_args()

    import faceedit
    from directions.bundled import load_bundled_direction
    from directions.classifiers.registry import make_classifier
    from directions.edit import apply_direction
    from faceedit.inversion.api import invert, load_encoder_for
    from faceedit.inversion.losses import ssim
    from faceedit.inversion.lpips import load_lpips
    from faceedit.inversion.projector import w_statistics
    from faceedit.synthfaces import render_batch
    from faceedit.utils.images import images_from_tensor, make_grid, save_png, tensor_from_images

    name = Path(args.model).name
    G = faceedit.load_generator(args.model, device="cpu")
    encoder = load_encoder_for(name)
    lpips = load_lpips()
    judge = make_classifier(args.judge)
    age = load_bundled_direction(name, "age", generator=G)
    _, w_std = w_statistics(G)
    methods = [m for m in args.methods.split(",") if m and (encoder is not None or "encoder" not in m)]

    with torch.no_grad():
        z = torch.from_numpy(np.random.RandomState(SAMPLE_SEED).randn(args.n, G.z_dim).astype(np.float32))
        true_ws = G.mapping(z, None)
        samples = G.synthesis(true_ws, noise_mode="const")
    renders, _ = render_batch(args.n, seed=RENDER_SEED, resolution=G.img_resolution)
    target_sets = {"GAN samples": samples, "fresh renders": renders}
    try:
        from skimage import data as skdata

        from faceedit.alignment import FaceAligner
        from faceedit.alignment.identity import FaceDescriptor

        # framed exactly as `faceedit edit` and FaceEditor frame photos for this model
        aligner = FaceAligner.for_model(name, output_size=G.img_resolution)
        target_sets["real photo (astronaut)"] = tensor_from_images(aligner.align(skdata.astronaut()).image)
        target_sets["real photos (LFW)"] = tensor_from_images(np.stack(lfw_faces(aligner, args.n)))
        descriptor = FaceDescriptor()
    except ImportError as exc:
        print(f"note: no real-photo rows ({exc})")
        descriptor = None

    def age_change(ws: torch.Tensor, inversion=None) -> np.ndarray:
        """Judged age at +2 std minus at -2 std along the age direction, per image."""
        up = apply_direction(ws, age.vector, 2.0, age.layers, age.unit)
        down = apply_direction(ws, age.vector, -2.0, age.layers, age.unit)
        with torch.no_grad():
            render = (lambda w: inversion.synthesis(G, w)) if inversion is not None else (
                lambda w: G.synthesis(w, noise_mode="const"))
            return (judge(render(up))["age"] - judge(render(down))["age"]).numpy()

    rows, grid_rows = [], []
    reference_edit = float(age_change(true_ws).mean())
    print(f"age edit on GAN samples' true latents (-2 -> +2 std): judged age +{reference_edit:.3f}")
    for set_name, targets in target_sets.items():
        grid_rows.append(images_from_tensor(targets))
        for method in methods:
            start = time.monotonic()
            inversions = [invert(G, targets[i:i + 1], method=method, encoder=encoder, steps=args.steps,
                                 pti_steps=args.pti_steps, seed=i, perceptual=lpips, progress=False)
                          for i in range(len(targets))]
            seconds = (time.monotonic() - start) / len(targets)
            recon = torch.cat([inv.synthesis(G) for inv in inversions])
            row = dict(targets=set_name, method=method, n=len(targets), psnr=float(psnr(recon, targets).mean()),
                       ssim=float(ssim(recon.clamp(-1, 1), targets).mean()), seconds_per_image=seconds,
                       steps=float(np.mean([inv.extra.get("projection_steps", 0) for inv in inversions])),
                       age_edit=float(np.mean([age_change(inv.ws, inv)[0] for inv in inversions])))
            if lpips is not None:
                with torch.no_grad():
                    row["lpips"] = float(lpips(recon.clamp(-1, 1), targets).mean())
            if set_name == "GAN samples":
                w_rec = torch.cat([inv.ws for inv in inversions]).mean(dim=1)
                row["w_error"] = float((w_rec - true_ws[:, 0]).norm(dim=1).mean() / w_std)
            if set_name.startswith("real photo") and descriptor is not None:
                from faceedit.alignment.identity import identity_distance

                distances = [identity_distance(a, b, descriptor)
                             for a, b in zip(images_from_tensor(recon), images_from_tensor(targets))]
                found = [d for d in distances if not math.isnan(d)]  # NaN: dlib found no face in the reconstruction
                row["identity_distance"] = float(np.mean(found)) if found else None
                row["identity_faces_found"] = len(found)
                row["identity_same_person"] = sum(d < 0.6 for d in found)  # dlib's threshold
            if method == "pti":
                row["tuning_steps"] = args.pti_steps
                row.update(delta_sizes(inversions[0].delta, G))
            rows.append(row)
            grid_rows.append(images_from_tensor(recon))
            print(json.dumps(row))

    result = dict(model=name, steps=args.steps, pti_steps=args.pti_steps, lpips=lpips is not None,
                  reference_age_edit=reference_edit, rows=rows, **run_record())
    print("\n" + markdown_tables.inversion(result))
    if args.images:
        cols = max(len(r) for r in grid_rows)
        padded = [np.concatenate([r, np.full((cols - len(r),) + r.shape[1:], 255, np.uint8)]) for r in grid_rows]
        save_png(make_grid(np.concatenate(padded), cols=cols), args.images / f"inversion-{name}.png")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def lfw_faces(aligner, n: int) -> list:
    """The first ``n`` faces of scikit-image's LFW subset (25x25 greyscale crops of real people) that dlib
    finds once they are upscaled 8x and padded, aligned like the photos; the only real faces besides the
    astronaut that ship offline."""
    from PIL import Image
    from skimage import data as skdata

    from faceedit.errors import NoFaceFoundError

    crops = []
    for face in skdata.lfw_subset()[:100]:  # the subset's first 100 images are faces, the rest are not
        small = Image.fromarray(np.uint8(np.clip(np.rint(face * 255), 0, 255)))
        big = np.pad(np.asarray(small.resize((200, 200), Image.LANCZOS)), 60, mode="edge")  # [320, 320]
        try:
            crops.append(aligner.align(np.stack([big] * 3, axis=-1)).image)
        except NoFaceFoundError:
            continue
        if len(crops) == n:
            break
    return crops


def delta_sizes(delta, G) -> dict:
    """Bytes on disk of a PTI delta (safetensors + JSON) against the generator's weights in float32, here and
    for NVIDIA's FFHQ-1024 architecture (a delta of the same rank; random weights: only the shapes matter)."""
    import tempfile

    from bench_generator import CONFIGS

    from faceedit.inversion.pti import GeneratorDelta
    from faceedit.networks import Generator

    def on_disk(delta, G) -> tuple:
        with tempfile.TemporaryDirectory() as tmp:
            delta.save(Path(tmp) / "delta")
            G.save_pretrained(Path(tmp) / "G")
            return (sum(p.stat().st_size for p in Path(tmp).glob("delta*")),
                    sum(p.stat().st_size for p in (Path(tmp) / "G").iterdir()))

    delta_bytes, generator_bytes = on_disk(delta, G)
    ffhq = Generator(**CONFIGS["ffhq-1024"]).eval()
    ffhq_delta_bytes, ffhq_generator_bytes = on_disk(GeneratorDelta.identity(ffhq, delta.rank), ffhq)
    return dict(delta_bytes=delta_bytes, generator_bytes=generator_bytes, delta_values=delta.num_values(),
                ffhq_1024_delta_bytes=ffhq_delta_bytes, ffhq_1024_generator_bytes=ffhq_generator_bytes)


if __name__ == "__main__":
    sys.exit(main())
