"""``faceedit invert`` and ``faceedit edit``: a photo's latent, and a photo edited along directions."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Dict, List, Tuple

__all__ = ["add_parser"]

# Attribute flags of `faceedit edit` and the bundled directions they use, cleanest first.
EDIT_FLAGS = {
    "age": ("age-orth-gender", "age"),
    "gender": ("gender-orth-age", "gender"),
    "smile": ("smile",),
    "glasses": ("glasses",),
    "beard": ("beard",),
}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("photo", type=Path, help="photo with a face (JPEG, PNG, ...)")
    p.add_argument("--model", default="synthfaces-64", help="generator (name, folder or .pkl)")
    p.add_argument("--method", default=None, choices=["encoder", "w", "w+", "encoder+w+", "pti"],
                   help="inversion method (default: encoder+w+ when the model has an encoder, else w+)")
    p.add_argument("--steps", type=int, default=300, help="projection steps (default 300)")
    p.add_argument("--pti-steps", type=int, default=300, help="pivotal-tuning steps for --method pti")
    p.add_argument("--face", type=int, default=0, help="which face, largest first (default 0 = the largest)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-lpips", action="store_true",
                   help="do not use LPIPS even when its weights are cached (`faceedit models fetch vgg16-lpips`)")
    p.add_argument("--device", default="auto")
    p.add_argument("--no-progress", action="store_true")


def add_parser(sub: "argparse._SubParsersAction") -> None:
    inv = sub.add_parser("invert", help="align a photo's face and find its latent",
                         description="Align the face like FFHQ, invert it, and write aligned.png, "
                                     "reconstruction.png and latent.{json,safetensors} (plus the PTI delta).")
    _common(inv)
    inv.add_argument("--out", type=Path, required=True, help="output folder")
    inv.add_argument("--video", action="store_true", help="also write projection.gif, the optimisation as it ran")
    inv.set_defaults(run=run_invert)

    ed = sub.add_parser("edit", help="edit a photo along attribute directions and paste the face back",
                        description="Align -> invert -> move the latent along directions -> paste the edited face "
                                    "back into the photo. --age/--gender use the conditional bundled directions "
                                    "(age without gender change and vice versa) when the model has them.")
    _common(ed)
    for name in EDIT_FLAGS:
        ed.add_argument(f"--{name}", type=float, default=None, metavar="ALPHA",
                        help=f"{name} edit strength in standard deviations (e.g. +2)")
    ed.add_argument("--edit", action="append", default=[], metavar="NAME=ALPHA",
                    help="any direction by bundled name or file path, e.g. --edit smile=1.5 (repeatable)")
    ed.add_argument("--out", type=Path, required=True, help="edited photo (PNG or JPEG)")
    ed.set_defaults(run=run_edit)


def _invert(args: argparse.Namespace):
    from faceedit.alignment import FaceAligner, load_image
    from faceedit.inversion.api import invert, load_encoder_for
    from faceedit.inversion.lpips import load_lpips
    from faceedit.loading.api import load_generator
    from faceedit.utils.images import tensor_from_images

    G = load_generator(args.model, device=args.device)
    photo = load_image(args.photo)
    faces = FaceAligner(output_size=G.img_resolution).align_all(photo)
    if not 0 <= args.face < len(faces):
        raise ValueError(f"--face {args.face}: the photo has {len(faces)} face(s), numbered 0 (largest) to "
                         f"{len(faces) - 1}")
    face = faces[args.face]
    encoder = load_encoder_for(Path(args.model).name, device=G.device)
    method = args.method or ("encoder+w+" if encoder is not None else "w+")
    frame_every = max(args.steps // 60, 1) if getattr(args, "video", False) else None
    perceptual = None if args.no_lpips else load_lpips(device=G.device)  # None when not downloaded
    inversion = invert(G, tensor_from_images(face.image), method=method, encoder=encoder, steps=args.steps,
                       pti_steps=args.pti_steps, seed=args.seed, frame_every=frame_every, perceptual=perceptual,
                       progress=not args.no_progress)
    return G, photo, face, inversion


def run_invert(args: argparse.Namespace) -> int:
    from faceedit.inversion.api import save_inversion
    from faceedit.utils.images import images_from_tensor, save_png
    from faceedit.utils.video import save_animation

    G, _, face, inversion = _invert(args)
    args.out.mkdir(parents=True, exist_ok=True)
    save_png(face.image, args.out / "aligned.png")
    reconstruction = images_from_tensor(inversion.synthesis(G))[0]
    save_png(reconstruction, args.out / "reconstruction.png")
    save_inversion(inversion, args.out / "latent", G)
    if inversion.extra.get("frames"):
        save_animation(inversion.extra["frames"], args.out / "projection.gif")
    psnr = _psnr(face.image, reconstruction)
    print(f"faceedit invert: {inversion.method} in {inversion.seconds:.1f} s, PSNR {psnr:.2f} dB; wrote aligned.png, "
          f"reconstruction.png, latent.json/.safetensors to {args.out}")
    return 0


def _requested_edits(args: argparse.Namespace, model: str) -> List[Tuple[str, float]]:
    from directions.bundled import bundled_directions

    bundled = set(bundled_directions(model))
    edits = []
    for flag, candidates in EDIT_FLAGS.items():
        alpha = getattr(args, flag)
        if alpha is None:
            continue
        name = next((c for c in candidates if c in bundled), None)
        if name is None:
            raise ValueError(f"--{flag}: {model} has no bundled {flag} direction; fit one with `faceedit directions "
                             f"fit --model {model} --attribute {flag} --out DIR` and pass --edit DIR/{flag}.json=ALPHA")
        edits.append((name, alpha))
    for spec in args.edit:
        name, sep, value = spec.rpartition("=")
        try:
            alpha = float(value)
        except ValueError:
            alpha = None
        if not sep or not name or alpha is None:
            raise ValueError(f"--edit {spec!r}: write NAME=ALPHA, e.g. --edit smile=1.5")
        edits.append((name, alpha))
    if not edits:
        raise ValueError("nothing to edit: pass e.g. --age +2, --gender -1 or --edit smile=1.5")
    return edits


def run_edit(args: argparse.Namespace) -> int:
    from directions.bundled import resolve_direction
    from directions.edit import apply_direction
    from faceedit.alignment.ffhq import paste_back
    from faceedit.utils.images import images_from_tensor, save_png

    model = Path(args.model).name
    edits = _requested_edits(args, model)  # before the slow part: bad flags fail at once
    G, photo, face, inversion = _invert(args)
    ws = inversion.ws
    applied: Dict[str, float] = {}
    for name, alpha in edits:
        direction = resolve_direction(name, model=model, generator=G)
        ws = apply_direction(ws, direction.vector, alpha, direction.layers, direction.projection_std)
        applied[name] = alpha
    edited = images_from_tensor(inversion.synthesis(G, ws))[0]
    result = paste_back(photo, face, edited)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix.lower() in (".jpg", ".jpeg"):
        import io

        from PIL import Image

        from faceedit.utils.files import atomic_write_bytes

        buffer = io.BytesIO()
        Image.fromarray(result).save(buffer, format="JPEG", quality=95)
        atomic_write_bytes(args.out, buffer.getvalue())
    else:
        save_png(result, args.out)
    print(f"faceedit edit: {', '.join(f'{k} {v:+g}' for k, v in applied.items())} with {inversion.method} "
          f"inversion ({inversion.seconds:.1f} s) -> {args.out}")
    return 0


def _psnr(a, b) -> float:
    import numpy as np

    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
