"""``faceedit directions fit|eval|explore``: attribute directions from the command line."""

from __future__ import annotations

import argparse
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
                     help="also fit each attribute orthogonal to these attributes' directions (a categorical "
                          "attribute, e.g. background, stands for every one of its classes)")
    fit.add_argument("--choose-layers", type=float, default=None, metavar="KEEP",
                     help="edit only the W+ rows from the latest first row that keeps this share (e.g. 0.9) of the "
                          "attribute's all-rows change, measured with --classifier (default: all rows); the unit "
                          "grows so a step moves the attribute as much as on all rows")
    fit.add_argument("--steady", action="store_true",
                     help="with --choose-layers: among the rows that keep KEEP, choose those whose edit rises at "
                          "every step of the slider's range (-3..3) for the most faces")
    fit.add_argument("--choose-layers-faces", type=int, default=256, metavar="N",
                     help="with --choose-layers: faces the row choice is measured on (default 256)")
    fit.add_argument("--n", type=int, default=20_000, help="samples (default 20000)")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--trunc", type=float, default=1.0, help="truncation psi of the samples")
    fit.add_argument("--samples", type=Path, default=None, help="sample folder (default OUT/samples; resumable)")
    fit.add_argument("--out", type=Path, required=True, help="folder for the direction files")
    fit.add_argument("--device", default="auto")
    fit.add_argument("--no-progress", action="store_true")
    fit.set_defaults(run=run_fit)

    ev = dsub.add_parser("eval", help="judge directions: monotonicity, entanglement, change outside the face")
    ev.add_argument("directions", nargs="+",
                    help="direction files (NAME.json) or names of the model's bundled directions (e.g. age)")
    ev.add_argument("--model", default="synthfaces-64")
    ev.add_argument("--judge", default="synthfaces-judge", help="independent classifier that scores the edits")
    ev.add_argument("--n", type=int, default=1000, help="faces (default 1000)")
    ev.add_argument("--alphas", default="-3,-2,-1,0,1,2,3",
                    help="edit strengths in std units, e.g. --alphas=-2,0,2 (default -3..3)")
    ev.add_argument("--seed", type=int, default=12345, help="seed of the faces (not the fitting seed)")
    ev.add_argument("--strip-seeds", default="0-2", help="faces shown in strips.png (default 0-2)")
    ev.add_argument("--out", type=Path, required=True, help="folder for report.json and PNGs")
    ev.add_argument("--device", default="auto")
    ev.add_argument("--no-progress", action="store_true")
    ev.set_defaults(run=run_eval)

    ls = dsub.add_parser("list", help="directions bundled with a model")
    ls.add_argument("--model", default="synthfaces-64")
    ls.set_defaults(run=run_list)

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
    from directions.pipeline import fit_directions
    from directions.sampling import sample_and_label
    from faceedit.loading.api import load_generator

    G = load_generator(args.model, device=args.device)
    classifier = make_classifier(args.classifier, device=G.device)
    if args.choose_layers is not None and args.choose_layers_faces < 2:  # before the slow part
        raise ValueError(f"--choose-layers-faces {args.choose_layers_faces}: the choice needs at least 2 faces")
    start = time.monotonic()
    samples = sample_and_label(G, classifier, args.samples or args.out / "samples", n=args.n, seed=args.seed,
                               truncation_psi=args.trunc, progress=not args.no_progress)
    sampled = time.monotonic() - start
    conditional = [(a, [o for o in args.conditional_on if o != a]) for a in args.attribute]
    fitted = fit_directions(samples, args.attribute, generator_name=_model_name(args.model),
                            generator_fingerprint=G.fingerprint(), classifier_name=classifier.name,
                            conditional=conditional, method=args.method)
    if args.choose_layers is not None:
        from directions.layers import with_chosen_layers
        from directions.report import DEFAULT_ALPHAS

        fitted = with_chosen_layers(G, fitted, classifier, keep=args.choose_layers, n=args.choose_layers_faces,
                                    steady_alphas=DEFAULT_ALPHAS if args.steady else None,
                                    progress=not args.no_progress)
    for name, direction in fitted.items():
        path = save_direction(direction, args.out / name)
        rows = f", W+ rows {direction.layers[0]}-{direction.layers[1] - 1}" if direction.layers else ""
        print(f"{name}: held-out score {direction.score:.3f}{rows} -> {path}")
    print(f"faceedit directions fit: {len(samples)} samples in {sampled:.0f} s, fitting in "
          f"{time.monotonic() - start - sampled:.1f} s")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from directions.bundled import resolve_direction
    from directions.classifiers.registry import make_classifier
    from directions.report import write_direction_report
    from faceedit.loading.api import load_generator
    from faceedit.utils.seeds import parse_seeds

    G = load_generator(args.model, device=args.device)
    judge = make_classifier(args.judge, device=G.device)
    directions = {}
    for spec in args.directions:
        direction = resolve_direction(spec, model=_model_name(args.model), generator=G)
        directions[Path(spec).stem if spec.endswith(".json") else Path(spec).name] = direction
    report = write_direction_report(args.out, G, directions, judge, n=args.n, alphas=_parse_alphas(args.alphas),
                                    seed=args.seed, strip_seeds=parse_seeds(args.strip_seeds),
                                    extra={"model": args.model}, progress=not args.no_progress)
    for label, entry in report["directions"].items():
        target = entry["attribute"]
        others = sorted(((abs(v), a) for a, v in entry["mean_abs_change"].items() if a != target), reverse=True)[:2]
        mono = f"monotonic {entry['monotonic_fraction']:.3f}, " if "monotonic_fraction" in entry else ""
        print(f"{label}: {mono}{target} {entry['effect_per_unit'][target]:+.3f}/unit; largest side effects "
              + ", ".join(f"{a} {v:.3f}" for v, a in others) + f"; outside face {entry['outside_face_change']:.4f}")
    print(f"faceedit directions eval: report.json, entanglement.png, curves-*.png and strips.png in {args.out}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from directions.bundled import bundled_directions, load_bundled_direction

    names = bundled_directions(args.model)
    if not names:
        print(f"no directions are bundled for {args.model}; fit some with `faceedit directions fit --model "
              f"{args.model} --out DIR`")
        return 0
    for name in names:
        d = load_bundled_direction(args.model, name)
        score = f"{d.score:.3f}" if d.score is not None else "-"
        cond = f" orthogonal to {', '.join(d.conditioned_on)}" if d.conditioned_on else ""
        print(f"{name:28s} {d.attribute}{cond}; {d.method} on {d.n_samples} samples labelled by {d.classifier}, "
              f"held-out {score}")
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
