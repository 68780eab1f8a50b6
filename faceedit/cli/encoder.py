"""``faceedit train-encoder``: a fast image -> W+ encoder for a generator, trained on its own samples."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser"]


def add_parser(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("train-encoder", help="train a latent encoder on a generator's samples",
                       description="Train (or resume) an image -> W+ encoder on samples of the generator, whose "
                                   "latents are known. Checkpoints go to --run-dir (the same command resumes); the "
                                   "finished encoder is written to --out, which `faceedit invert` uses when it is "
                                   "the bundled folder faceedit/assets/MODEL-encoder.")
    p.add_argument("--model", default="synthfaces-64", help="generator (name, folder or .pkl)")
    p.add_argument("--run-dir", type=Path, required=True, help="checkpoint folder (resumed when it exists)")
    p.add_argument("--out", type=Path, required=True, help="folder for the finished encoder")
    p.add_argument("--steps", type=int, default=3000, help="optimisation steps in total (default 3000)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--image-weight", type=float, default=1.0, help="reconstruction loss weight (0 = latents only)")
    p.add_argument("--head-channels", type=int, default=None,
                   help="reduce the last features to this many channels before the dense layers (a smaller "
                        "encoder; default: keep all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this long (resume later)")
    p.add_argument("--dtype", choices=["float32", "float16"], default="float32", help="weights of the --out files")
    p.add_argument("--device", default="auto")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from faceedit.inversion.encoder import train_encoder
    from faceedit.loading.api import load_generator

    G = load_generator(args.model, device=args.device)
    encoder = train_encoder(G, args.run_dir, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                            image_weight=args.image_weight, seed=args.seed, max_minutes=args.max_minutes,
                            encoder_kwargs=(None if args.head_channels is None
                                            else dict(head_channels=args.head_channels)),
                            progress=not args.no_progress)
    done = encoder.metadata["training_steps"]
    if done < args.steps:
        print(f"faceedit train-encoder: stopped at step {done} of {args.steps}; run the same command to resume")
        return 0
    dtype = torch.float16 if args.dtype == "float16" else torch.float32
    encoder.save_pretrained(args.out, metadata=dict(encoder.metadata, model=Path(args.model).name), dtype=dtype)
    print(f"faceedit train-encoder: {done} steps in {encoder.metadata['training_seconds'] / 60:.1f} min -> {args.out}")
    return 0
