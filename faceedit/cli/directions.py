"""``faceedit directions fit|eval|explore``: attribute directions from the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import List

import numpy as np

__all__ = ["add_parser"]


def add_parser(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("directions", help="fit, evaluate and explore latent directions")
    dsub = p.add_subparsers(dest="directions_command", metavar="ACTION")
    dsub.required = True

    fit = dsub.add_parser("fit", help="sample, label and fit attribute directions",
                          description="Sample latents, label their images with a classifier, and fit one direction "
                                      "per attribute (plus conditional ones with --conditional-on).")
    fit.add_argument("--model", default="synthfaces-64", help="generator (name, folder or .pkl)")
    fit.add_argument("--attribute", nargs="+", default=["age", "gender", "smile", "glasses"],
                     help="scores to fit (default: age gender smile glasses)")
    fit.add_argument("--classifier", default="synthfaces-labeler", help="classifier that labels the samples")
    fit.add_argument("--method", default="svm", choices=["svm", "logistic", "mean_diff", "ridge"])
    fit.add_argument("--conditional-on", nargs="*", default=[],
                     help="also fit each attribute orthogonal to these attributes' directions")
    fit.add_argument("--n", type=int, default=20_000, help="samples (default 20000)")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--trunc", type=float, default=1.0, help="truncation psi of the samples")
    fit.add_argument("--samples", type=Path, default=None, help="sample folder (default OUT/samples; resumable)")
    fit.add_argument("--out", type=Path, required=True, help="folder for the direction files")
    fit.add_argument("--device", default="auto")
    fit.add_argument("--no-progress", action="store_true")
    fit.set_defaults(run=run_fit)

    ev = dsub.add_parser("eval", help="judge directions: monotonicity, entanglement, change outside the face")
    ev.add_argument("directions", nargs="+", type=Path, help="direction files (NAME.json)")
    ev.add_argument("--model", default="synthfaces-64")
    ev.add_argument("--judge", default="synthfaces-judge", help="independent classifier that scores the edits")
    ev.add_argument("--n", type=int, default=1000, help="faces (default 1000)")
    ev.add_argument("--alphas", default="-3,-2,-1,0,1,2,3",
                    help="edit strengths in std units, e.g. --alphas=-2,0,2 (default -3..3)")
    ev.add_argument("--seed", type=int, default=12345, help="seed of the faces (not the fitting seed)")
    ev.add_argument("--out", type=Path, required=True, help="folder for report.json and PNGs")
    ev.add_argument("--device", default="auto")
    ev.add_argument("--no-progress", action="store_true")
    ev.set_defaults(run=run_eval)

    ex = dsub.add_parser("explore", help="unsupervised candidate directions (GANSpace, SeFa) as image grids")
    ex.add_argument("--model", default="synthfaces-64")
    ex.add_argument("--method", choices=["ganspace", "sefa"], default="ganspace")
    ex.add_argument("--k", type=int, default=10, help="candidates (default 10)")
    ex.add_argument("--seeds", default="0-2", help="faces per candidate (default 0-2)")
    ex.add_argument("--out", type=Path, required=True)
    ex.add_argument("--device", default="auto")
    ex.set_defaults(run=run_explore)


def _parse_alphas(text: str) -> List[float]:
    try:
        alphas = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--alphas {text!r}: give comma-separated numbers such as -3,-1,0,1,3") from None
    if 0.0 not in alphas or len(alphas) < 2:
        raise ValueError("--alphas must contain 0 and at least one other strength")
    return sorted(alphas)


def _model_name(source: str) -> str:
    return Path(source).name if ("/" in source or source.endswith(".pkl")) else source


def run_fit(args: argparse.Namespace) -> int:
    import time

    from directions.classifiers.registry import make_classifier
    from directions.io import save_direction
    from directions.pipeline import fit_direction
    from directions.sampling import sample_and_label
    from faceedit.loading.api import load_generator

    G = load_generator(args.model, device=args.device)
    classifier = make_classifier(args.classifier, device=G.device)
    start = time.monotonic()
    samples = sample_and_label(G, classifier, args.samples or args.out / "samples", n=args.n, seed=args.seed,
                               truncation_psi=args.trunc, progress=not args.no_progress)
    sampled = time.monotonic() - start
    fingerprint, name = G.fingerprint(), _model_name(args.model)
    common = dict(generator_name=name, generator_fingerprint=fingerprint, classifier_name=classifier.name,
                  method=args.method)
    naive = {}
    for attribute in dict.fromkeys(list(args.attribute) + list(args.conditional_on)):
        naive[attribute] = fit_direction(samples, attribute, **common)
        path = save_direction(naive[attribute], args.out / attribute)
        print(f"{attribute}: held-out score {naive[attribute].score:.3f} -> {path}")
    if args.conditional_on:
        for attribute in args.attribute:
            others = {a: naive[a] for a in args.conditional_on if a != attribute}
            if not others:
                continue
            direction = fit_direction(samples, attribute, conditioned_on=others, **common)
            path = save_direction(direction, args.out / f"{attribute}-orth-{'-'.join(others)}")
            print(f"{attribute} orthogonal to {', '.join(others)}: {path}")
    print(f"faceedit directions fit: {len(samples)} samples in {sampled:.0f} s, fitting in "
          f"{time.monotonic() - start - sampled:.1f} s")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    import torch

    from directions.classifiers.registry import make_classifier
    from directions.edit import apply_direction
    from directions.evaluation import edit_sweep, effect_per_unit, monotonic_fraction
    from directions.io import load_direction
    from faceedit.loading.api import load_generator
    from faceedit.utils.images import images_from_tensor, make_grid, save_png
    from faceedit.utils.plots import heatmap
    from faceedit.utils.seeds import z_from_seeds

    G = load_generator(args.model, device=args.device)
    judge = make_classifier(args.judge, device=G.device)
    alphas = _parse_alphas(args.alphas)
    args.out.mkdir(parents=True, exist_ok=True)
    report, rows, labels = {"model": args.model, "judge": judge.name, "n": args.n, "alphas": alphas}, [], []
    attributes = None
    for path in args.directions:
        direction = load_direction(path, generator=G)
        sweep = edit_sweep(G, direction.vector, judge, n=args.n, alphas=alphas, scale=direction.projection_std,
                           layers=direction.layers, seed=args.seed, progress=not args.no_progress)
        attributes = attributes or [a for a in sweep.scores if "=" not in a]
        label = Path(path).with_suffix("").name
        effects = {a: effect_per_unit(sweep, a) for a in attributes}
        entry = {"attribute": direction.attribute, "effect_per_unit": effects,
                 "outside_face_change": float(sweep.outside_change[np.argmax(np.abs(alphas))].mean())}
        if direction.attribute in sweep.scores:
            entry["monotonic_fraction"] = monotonic_fraction(sweep, direction.attribute)
        report[label] = entry
        rows.append([effects[a] for a in attributes])
        labels.append(label)
        with torch.no_grad():  # one face per strength for people to look at
            ws = G.mapping(z_from_seeds([args.seed], G.z_dim).to(G.device), None, truncation_psi=0.7)
            strip = torch.cat([G.synthesis(apply_direction(ws, direction.vector, a, direction.layers,
                                                           direction.projection_std), noise_mode="const")
                               for a in alphas])
        save_png(make_grid(images_from_tensor(strip), cols=len(alphas)), args.out / f"{label}-strip.png")
        print(f"{label}: " + ", ".join(f"{k} {v:.3f}" for k, v in entry.items() if isinstance(v, float)))
    save_png(heatmap(np.array(rows), labels, attributes, title=f"judge change per unit edit ({judge.name})"),
             args.out / "entanglement.png")
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"faceedit directions eval: report.json, entanglement.png and strips in {args.out}")
    return 0


def run_explore(args: argparse.Namespace) -> int:
    from directions.discovery import direction_grid, ganspace, sefa
    from faceedit.loading.api import load_generator
    from faceedit.utils.images import save_png
    from faceedit.utils.seeds import parse_seeds

    G = load_generator(args.model, device=args.device)
    if args.method == "ganspace":
        candidates, strength = ganspace(G, k=args.k)
    else:
        candidates, strength = sefa(G, k=args.k)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(args.out / f"{args.method}.npz", directions=candidates, strength=strength)
    grid = direction_grid(G, candidates, seeds=parse_seeds(args.seeds))
    save_png(grid, args.out / f"{args.method}.png")
    print(f"faceedit directions explore: {args.k} {args.method} candidates -> {args.out}/{args.method}.png "
          f"(rows: candidate x seed, columns: -3..3 std)")
    return 0
