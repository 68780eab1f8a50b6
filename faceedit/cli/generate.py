"""``faceedit generate``: images for a list of seeds, plus a grid."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("generate", help="generate images for seeds",
                       description="Generate one PNG per seed and a grid.png from a generator.")
    p.add_argument("--model", required=True, help="NVIDIA .pkl, saved folder, or registered model name")
    p.add_argument("--seeds", default="0-7", help="seeds, e.g. '0-7,10' (default 0-7)")
    p.add_argument("--trunc", type=float, default=1.0, help="truncation psi (default 1 = none)")
    p.add_argument("--trunc-cutoff", type=int, default=None, help="truncate only the first N w rows")
    p.add_argument("--class", dest="class_idx", type=int, default=None, help="class label for conditional networks")
    p.add_argument("--noise-mode", choices=["const", "random", "none"], default="const")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--device", default="auto", help="'auto' (CUDA if available, else CPU), 'cpu', 'cuda', ...")
    p.add_argument("--outdir", type=Path, required=True, help="output folder")
    p.add_argument("--which", default="G_ema", help="network in an NVIDIA snapshot (G_ema or G)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch
    from tqdm.auto import tqdm

    from faceedit.loading.api import load_generator
    from faceedit.utils.images import images_from_tensor, make_grid, save_png
    from faceedit.utils.seeds import parse_seeds, z_from_seeds

    seeds = parse_seeds(args.seeds)
    if args.batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    G = load_generator(args.model, device=args.device, which=args.which)
    device = G.device
    c = None
    if G.c_dim > 0:
        if args.class_idx is None or not 0 <= args.class_idx < G.c_dim:
            raise ValueError(f"this network is conditional with {G.c_dim} classes: pass --class between 0 and "
                             f"{G.c_dim - 1}")
        c = torch.zeros([1, G.c_dim], device=device)
        c[0, args.class_idx] = 1
    elif args.class_idx is not None:
        print("faceedit: note: --class ignored, the network is unconditional")

    args.outdir.mkdir(parents=True, exist_ok=True)
    all_images = []
    z_all = z_from_seeds(seeds, G.z_dim)
    with torch.inference_mode(), tqdm(total=len(seeds), unit="img", desc="generate", disable=args.no_progress) as bar:
        for start in range(0, len(seeds), args.batch_size):
            z = z_all[start : start + args.batch_size].to(device)
            cb = c.expand(len(z), -1) if c is not None else None
            img = G(z, cb, truncation_psi=args.trunc, truncation_cutoff=args.trunc_cutoff, noise_mode=args.noise_mode)
            images = images_from_tensor(img)
            for seed, image in zip(seeds[start : start + args.batch_size], images):
                save_png(image, args.outdir / f"seed{seed:04d}.png")
            all_images.extend(images)
            bar.update(len(z))
    save_png(make_grid(all_images), args.outdir / "grid.png")
    print(f"wrote {len(seeds)} images and grid.png to {args.outdir}")
    return 0
