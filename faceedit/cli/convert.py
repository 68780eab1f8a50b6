"""``faceedit convert``: NVIDIA pickle to faceedit's safetensors folder."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("convert", help="convert an NVIDIA pickle to a safetensors folder",
                       description="Read an NVIDIA StyleGAN2(-ADA) network pickle safely and write "
                                   "config.json + model.safetensors.")
    p.add_argument("input", type=Path, help="NVIDIA network pickle (.pkl)")
    p.add_argument("output", type=Path, help="output folder")
    p.add_argument("--which", default="G_ema", help="network to convert: G_ema (default) or G")
    p.add_argument("--fp16", action="store_true", help="store weights in float16 (half the size)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from faceedit.loading.nvidia_pickle import load_nvidia_generator
    from faceedit.utils.files import sha256_file

    if not args.input.is_file():
        raise FileNotFoundError(f"{args.input} does not exist")
    G = load_nvidia_generator(args.input, which=args.which, device="cpu")
    G.save_pretrained(args.output, dtype=torch.float16 if args.fp16 else None,
                      metadata={"converted_from": args.input.name, "source_sha256": sha256_file(args.input),
                                "network": args.which})
    n_params = sum(p.numel() for p in G.parameters())
    print(f"converted {args.input.name}[{args.which}] ({G.img_resolution}x{G.img_resolution}, {n_params:,} parameters) "
          f"to {args.output}")
    return 0
