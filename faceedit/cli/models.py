"""``faceedit models list|fetch``: the model registry and cache."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser"]


def add_parser(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("models", help="list and fetch pretrained models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    msub.required = True
    lp = msub.add_parser("list", help="list registered models and whether they are cached")
    lp.add_argument("--verbose", "-v", action="store_true", help="show URLs and licences")
    lp.set_defaults(run=run_list)
    fp = msub.add_parser("fetch", help="download a registered model into the cache")
    fp.add_argument("name", help="registered model name")
    fp.add_argument("--from-file", type=Path, default=None, help="install a file you downloaded by hand")
    fp.add_argument("--force", action="store_true", help="download again even if cached")
    fp.add_argument("--no-progress", action="store_true")
    fp.set_defaults(run=run_fetch)


def run_list(args: argparse.Namespace) -> int:
    from faceedit.hub import cache_dir, is_cached, list_models

    specs = list_models()
    width = max(len(s.name) for s in specs)
    print(f"cache: {cache_dir()}")
    for spec in specs:
        state = "bundled" if spec.bundled else "cached" if is_cached(spec) else "-"
        size = f"{spec.resolution:>5}px" if spec.kind == "generator" else f"{spec.kind:>7}"
        print(f"{spec.name:<{width}}  {size}  {state:<7}  {spec.dataset}: {spec.description}")
        if args.verbose and spec.bundled:
            print(f"{'':<{width}}  folder: {spec.bundled_path}\n{'':<{width}}  licence: {spec.license}")
        elif args.verbose:
            print(f"{'':<{width}}  url: {spec.url}\n{'':<{width}}  licence: {spec.license}")
            if spec.sha256:
                print(f"{'':<{width}}  sha256: {spec.sha256}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from faceedit.hub import fetch_model

    path = fetch_model(args.name, force=args.force, from_file=args.from_file, progress=not args.no_progress)
    print(f"{args.name}: {path}")
    return 0
