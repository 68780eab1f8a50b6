"""``faceedit train-classifier``: train and evaluate a synthfaces attribute classifier."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser(
        "train-classifier", help="train a synthfaces attribute classifier (labeler or judge)",
        description="Train a small CNN on fresh synthfaces renders to predict every factor, evaluate it on "
                    "held-out renders, and save it with its metrics.")
    p.add_argument("--role", choices=["labeler", "judge"], required=True,
                   help="labeler (builds directions) or judge (evaluates only); they differ in seed, data and "
                        "architecture")
    p.add_argument("--outdir", type=Path, required=True, help="output folder (config.json + model.safetensors)")
    p.add_argument("--steps", type=int, default=1500, help="optimisation steps (default 1500)")
    p.add_argument("--batch-size", type=int, default=128, help="renders per step (default 128)")
    p.add_argument("--test-size", type=int, default=10_000, help="held-out renders for the metrics")
    p.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda', ...")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit.attributes.train import train_and_evaluate

    if args.steps < 1 or args.batch_size < 2 or args.test_size < 10:
        raise ValueError("--steps must be >= 1, --batch-size >= 2 and --test-size >= 10")
    net = train_and_evaluate(args.role, steps=args.steps, batch_size=args.batch_size, test_size=args.test_size,
                             device=args.device, progress=not args.no_progress)
    net.save_pretrained(args.outdir, metadata=net.metadata)
    print(json.dumps(net.metadata["held_out_metrics"], indent=1))
    print(f"faceedit train-classifier: {args.role} saved to {args.outdir}")
    return 0
