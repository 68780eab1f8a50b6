"""``faceedit invert`` and ``faceedit edit``: a photo's latent, and a photo edited along directions."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Dict

__all__ = ["add_parser"]

# Attribute flags of `faceedit edit`; each uses the model's preferred direction for it (FaceEditor.direction_for).
EDIT_FLAGS = ("age", "gender", "smile", "glasses", "beard")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("photo", type=Path, help="photo with a face (JPEG, PNG, ...)")
    p.add_argument("--model", default="synthfaces-64", help="generator (name, folder or .pkl)")
    p.add_argument("--method", default=None, choices=["encoder", "w", "w+", "encoder+w+", "pti"],
                   help="inversion method (default: encoder+w+ when the model has an encoder, else w+)")
    p.add_argument("--steps", type=int, default=300, help="projection steps (default 300)")
    p.add_argument("--pti-steps", type=int, default=300, help="pivotal-tuning steps for --method pti")
    p.add_argument("--face", type=int, default=0, help="which face, largest first (default 0 = the largest)")
    p.add_argument("--all-faces", action="store_true",
                   help="every face of the photo, largest first (invert: one sub-folder face-N per face; edit: every "
                        "face edited and pasted back)")
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
    ed.add_argument("--paste-render", action="store_true",
                    help="paste the generator's render of the edited face instead of adding only the edit's change "
                         "to the photo (which keeps the photo's own detail)")
    ed.add_argument("--out", type=Path, required=True, help="edited photo (.png, .jpg or .webp)")
    ed.set_defaults(run=run_edit)


def _encode(args: argparse.Namespace):
    """The editor and the requested faces (one, or all with --all-faces), inverted."""
    from faceedit.editor import FaceEditor

    if args.all_faces and args.face:
        raise ValueError("--face and --all-faces: pass one of them")
    editor = FaceEditor.from_pretrained(args.model, device=args.device, use_lpips=not args.no_lpips)
    frame_every = max(args.steps // 60, 1) if getattr(args, "video", False) else None
    bar = None if args.no_progress else _ProgressBar()
    options = dict(method=args.method, steps=args.steps, pti_steps=args.pti_steps, seed=args.seed, progress=bar)
    try:
        if args.all_faces:
            faces = editor.encode_all(args.photo, frame_every=frame_every, **options)
        else:
            faces = [editor.encode(args.photo, face=args.face, frame_every=frame_every, **options)]
    finally:
        if bar is not None:
            bar.close()
    return editor, faces


class _ProgressBar:
    """A tqdm bar driven by FaceEditor's (fraction, message) progress callback."""

    def __init__(self):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=1000, unit="‰", bar_format="{l_bar}{bar}| {elapsed} {postfix}")

    def __call__(self, fraction: float, message: str) -> None:
        self.bar.n = int(fraction * 1000)
        self.bar.set_postfix_str(message, refresh=True)

    def close(self) -> None:
        self.bar.close()


def run_invert(args: argparse.Namespace) -> int:
    from faceedit.inversion.api import save_inversion
    from faceedit.utils.images import save_png
    from faceedit.utils.metrics import psnr_uint8
    from faceedit.utils.video import save_animation

    editor, faces = _encode(args)
    for index, face in enumerate(faces):
        out = args.out / f"face-{index}" if args.all_faces else args.out
        out.mkdir(parents=True, exist_ok=True)
        save_png(face.aligned, out / "aligned.png")
        save_png(face.reconstruction, out / "reconstruction.png")
        save_inversion(face.inversion, out / "latent", editor.generator)
        if face.inversion.extra.get("frames"):
            save_animation(face.inversion.extra["frames"], out / "projection.gif")
        print(f"faceedit invert: {face.inversion.method} in {face.inversion.seconds:.1f} s, PSNR "
              f"{psnr_uint8(face.aligned, face.reconstruction):.2f} dB; wrote aligned.png, reconstruction.png, "
              f"latent.json/.safetensors to {out}")
    return 0


def _requested_edits(args: argparse.Namespace) -> Dict[str, float]:
    from faceedit.utils.images import IMAGE_FORMATS

    if args.out.suffix.lower() not in IMAGE_FORMATS:
        raise ValueError(f"--out {args.out}: use a .png, .jpg or .webp file name")
    edits = {flag: getattr(args, flag) for flag in EDIT_FLAGS if getattr(args, flag) is not None}
    for spec in args.edit:
        name, sep, value = spec.rpartition("=")
        try:
            alpha = float(value)
        except ValueError:
            alpha = None
        if not sep or not name or alpha is None:
            raise ValueError(f"--edit {spec!r}: write NAME=ALPHA, e.g. --edit smile=1.5")
        edits[name] = alpha
    if not edits:
        raise ValueError("nothing to edit: pass e.g. --age +2, --gender -1 or --edit smile=1.5")
    return edits


def run_edit(args: argparse.Namespace) -> int:
    from directions.bundled import resolve_direction
    from faceedit.utils.images import save_image

    edits = _requested_edits(args)  # before the slow part: bad flags fail at once
    editor, faces = _encode(args)
    for name in edits:
        if name not in editor.attributes and name not in editor.directions:
            try:
                editor.add_direction(resolve_direction(name, model=editor.model_name, generator=editor.generator),
                                     name=name)
            except FileNotFoundError as exc:
                if name in EDIT_FLAGS:
                    raise ValueError(f"--{name}: {editor.model_name} has no {name} direction; fit one with "
                                     f"`faceedit directions fit --model {editor.model_name} --attribute {name} --out "
                                     f"DIR` and pass --edit DIR/{name}.json=ALPHA") from None
                raise ValueError(str(exc)) from None
    editor.paste_change = not args.paste_render
    result = editor.edit_all(faces, edits)
    save_image(result.photo, args.out)
    applied = result.faces[0].edits
    print(f"faceedit edit: {', '.join(f'{k} {v:+g}' for k, v in applied.items())} on {len(faces)} face(s) with "
          f"{faces[0].inversion.method} inversion ({sum(f.inversion.seconds for f in faces):.1f} s) -> {args.out}")
    return 0
