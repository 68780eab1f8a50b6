"""``faceedit dataset make|status|export``: synthetic paired datasets for distilled filters."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["add_parser"]


def add_parser(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("dataset", help="make paired before/after datasets from latent edits")
    dsub = p.add_subparsers(dest="dataset_command", metavar="ACTION")
    dsub.required = True

    mk = dsub.add_parser("make", help="generate (or resume) a paired dataset",
                         description="For each seed: the face, and the same face edited along a direction (same "
                                     "noise). Writes WebDataset-style tar shards; the same command resumes after an "
                                     "interruption. Under torchrun each rank writes its own shards.")
    mk.add_argument("--model", default="synthfaces-64", help="generator (name, folder or .pkl)")
    mk.add_argument("--direction", required=True, help="bundled direction name (e.g. age-orth-gender) or NAME.json")
    mk.add_argument("--alpha", default="1.5,3", help="edit strength range MIN,MAX in std (negative = the other way)")
    mk.add_argument("--layers", default=None,
                    help="W+ rows START,STOP to edit, or 'all' (default: the direction's own rows, with its unit)")
    mk.add_argument("--trunc", type=float, default=0.8, help="truncation psi (default 0.8)")
    mk.add_argument("--seeds", default="0-999", help="seed range START-END, inclusive (default 0-999)")
    mk.add_argument("--shard-seeds", type=int, default=250, help="seeds per shard (default 250)")
    mk.add_argument("--classifier", default=None, help="filter with this classifier (e.g. synthfaces-labeler)")
    mk.add_argument("--min-change", type=float, default=0.0,
                    help="keep a pair only if the classifier's target attribute moves at least this much")
    mk.add_argument("--max-other", action="append", default=[], metavar="ATTR=LIMIT",
                    help="keep a pair only if ATTR moves at most LIMIT (repeatable), e.g. --max-other gender=0.1")
    mk.add_argument("--batch-size", type=int, default=32, help="seeds per generator call (part of the request)")
    mk.add_argument("--anchor", default=None,
                    help="start each pair from a picture the generator did not make: 'synthfaces' (fresh renders) or "
                         "a folder of aligned face crops; B = the picture plus the teacher's change around its "
                         "encoded latent (filters then work better on real photos). Default: the generator's images")
    mk.add_argument("--encoder", type=Path, default=None,
                    help="latent encoder folder for --anchor (default: the one bundled with --model)")
    mk.add_argument("--out", type=Path, required=True)
    mk.add_argument("--device", default="auto")
    mk.add_argument("--no-progress", action="store_true")
    mk.set_defaults(run=run_make)

    st = dsub.add_parser("status", help="how far a dataset is")
    st.add_argument("folder", type=Path)
    st.set_defaults(run=run_status)

    ex = dsub.add_parser("export", help="write the pairs as A/ and B/ folders (pix2pix layout)")
    ex.add_argument("folder", type=Path)
    ex.add_argument("--out", type=Path, required=True)
    ex.set_defaults(run=run_export)


def _pair(text: str, what: str, kind=float):
    try:
        lo, hi = (kind(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--{what} {text!r}: give two numbers separated by a comma, e.g. 1.5,3") from None
    return lo, hi


def run_make(args: argparse.Namespace) -> int:
    from directions.bundled import resolve_direction
    from distill.dataset import PairSpec, make_dataset
    from faceedit.loading.api import load_generator

    alpha_min, alpha_max = sorted(_pair(args.alpha, "alpha"))
    start, _, end = args.seeds.partition("-")
    try:
        first, last = int(start), int(end)
    except ValueError:
        raise ValueError(f"--seeds {args.seeds!r}: give a range START-END, e.g. 0-999") from None
    if last < first:
        raise ValueError(f"--seeds {args.seeds!r}: END must not be smaller than START")
    max_other = {}
    for item in args.max_other:
        name, sep, value = item.partition("=")
        try:
            max_other[name] = float(value)
        except ValueError:
            raise ValueError(f"--max-other {item!r}: write ATTR=LIMIT, e.g. gender=0.1") from None
        if not sep or not name:
            raise ValueError(f"--max-other {item!r}: write ATTR=LIMIT, e.g. gender=0.1")
    G = load_generator(args.model, device=args.device)
    direction = resolve_direction(args.direction, model=Path(args.model).name, generator=G)
    classifier = None
    if args.classifier:
        from directions.classifiers.registry import make_classifier

        classifier = make_classifier(args.classifier, device=G.device)
    encoder = _anchor_encoder(args, G) if args.anchor else None
    spec = PairSpec(direction=args.direction, alpha_min=alpha_min, alpha_max=alpha_max,
                    layers=_layers(args.layers, direction), truncation_psi=args.trunc,
                    seed_start=first, num_seeds=last - first + 1, shard_seeds=args.shard_seeds,
                    batch_size=args.batch_size,
                    classifier=args.classifier, target=direction.attribute if args.classifier else None,
                    min_change=args.min_change, max_other_change=max_other, anchor=args.anchor)
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))  # set by torchrun
    result = make_dataset(args.out, G, direction, spec, classifier=classifier, rank=rank, world=world,
                          generator_name=Path(args.model).name, encoder=encoder,
                          progress=not args.no_progress)
    rate = (result["pairs"] + result["rejected"]) / max(result["seconds"], 1e-9)
    print(f"faceedit dataset make: rank {rank}/{world}: {result['pairs']} pairs kept, {result['rejected']} rejected, "
          f"{result['shards']} shards written ({result['skipped']} already done), {rate:.1f} seeds/s -> {args.out}")
    return 0


def _layers(text, direction):
    if text is None:
        return None if direction.layers is None else tuple(direction.layers)
    return None if text == "all" else _pair(text, "layers", int)


def _anchor_encoder(args: argparse.Namespace, G):
    from distill.anchors import SYNTHFACES
    from faceedit.inversion.api import load_encoder_for
    from faceedit.inversion.encoder import LatentEncoder

    if args.anchor != SYNTHFACES and not Path(args.anchor).is_dir():
        raise ValueError(f"--anchor {args.anchor!r}: give 'synthfaces' or a folder of aligned face crops")
    if args.encoder is not None:
        return LatentEncoder.from_pretrained(args.encoder, device=G.device)
    encoder = load_encoder_for(Path(args.model).name, device=G.device)
    if encoder is None:
        raise ValueError(f"--anchor needs a latent encoder for {args.model}; none is bundled, so train one with "
                         f"`faceedit train-encoder` and pass it with --encoder")
    return encoder


def run_status(args: argparse.Namespace) -> int:
    from distill.dataset import dataset_status

    status = dataset_status(args.folder)
    print(f"{args.folder}: {status['shards_done']}/{status['shards']} shards, {status['pairs']} pairs, "
          f"{status['rejected']} rejected")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from distill.dataset import export_folders

    count = export_folders(args.folder, args.out)
    print(f"faceedit dataset export: {count} pairs -> {args.out}/A and {args.out}/B")
    return 0
