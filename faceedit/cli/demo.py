"""``faceedit demo``: the whole pipeline on the bundled model in about half a minute, as one HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser"]


def add_parser(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on the bundled model and write an HTML report",
                       description="Sample faces, judge the bundled directions, invert and edit example photos, "
                                   "make a small paired dataset and apply the bundled 'older' filter to photos; "
                                   "writes OUT/index.html with every picture (about 35 s on 2 CPU cores).")
    p.add_argument("--out", type=Path, default=Path("demo"), help="output folder (default: demo/)")
    p.add_argument("--model", default="synthfaces-64", help="generator with bundled directions")
    p.add_argument("--eval-faces", type=int, default=64, help="faces per direction in the evaluation (default 64)")
    p.add_argument("--inversion-steps", type=int, default=200, help="projection steps per photo (default 200)")
    p.add_argument("--train-filter", action="store_true",
                   help="distil a small filter from the demo's pairs instead of applying the bundled one (used "
                        "anyway when the model has none)")
    p.add_argument("--filter-minutes", type=float, default=1.5,
                   help="training time of that filter, in minutes (default 1.5)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit.demo.run import DemoConfig, run_demo

    for name in ("eval_faces", "inversion_steps"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    config = DemoConfig(model=args.model, eval_faces=args.eval_faces, inversion_steps=args.inversion_steps,
                        train_filter=args.train_filter, filter_minutes=args.filter_minutes)
    index = run_demo(args.out, config, progress=not args.no_progress)
    print(f"faceedit demo: open {index}")
    return 0
