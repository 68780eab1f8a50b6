"""Judge a set of directions and write what people read: numbers (JSON), curves, strips and a heatmap (PNG).

``faceedit directions eval`` and ``benchmarks/directions_synthfaces.py`` both call
:func:`write_direction_report`; the pieces are usable on their own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch

from directions.evaluation import EditSweep, edit_sweep, effect_per_unit, monotonic_fraction
from directions.io import Direction

__all__ = ["DEFAULT_ALPHAS", "evaluate_directions", "summarize_sweeps", "response_curves", "edit_strips",
           "write_direction_report"]

DEFAULT_ALPHAS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)  # the slider's range, in std of the boundary distance


def evaluate_directions(
    G,  # faceedit Generator the directions were fitted on
    directions: Mapping[str, Direction],  # label -> direction
    judge,  # AttributeClassifier that did not label the fitting samples
    n: int = 1000,  # faces per direction (the same faces for every direction)
    alphas: Sequence[float] = DEFAULT_ALPHAS,  # edit strengths in units of each direction's projection std
    seed: int = 12345,  # seed of the faces; keep it apart from the fitting seed
    progress: bool = True,
) -> Dict[str, EditSweep]:
    """One :func:`~directions.evaluation.edit_sweep` per direction, over the same faces."""
    sweeps = {}
    for label, direction in directions.items():
        direction.check_generator(G)
        sweeps[label] = edit_sweep(G, direction.vector, judge, n=n, alphas=alphas, scale=direction.unit,
                                   layers=direction.layers, seed=seed, progress=progress)
    return sweeps


def scalar_attributes(sweep: EditSweep) -> List[str]:
    """The judge's continuous attributes (not one-vs-rest class scores such as ``'hair_color=blonde'``)."""
    return [a for a in sweep.scores if "=" not in a]


def summarize_sweeps(directions: Mapping[str, Direction], sweeps: Mapping[str, EditSweep]) -> Dict[str, Dict]:
    """Per direction: monotonic fraction of its target, and for every judged attribute the slope of the mean
    score per unit of alpha and the mean absolute per-face change over the whole range of alpha.

    The per-face change catches edits that move an attribute up on some faces and down on others, which
    the slope of the mean hides.
    """
    summary = {}
    for label, sweep in sweeps.items():
        direction = directions[label]
        lo, hi = int(np.argmin(sweep.alphas)), int(np.argmax(sweep.alphas))
        attributes = scalar_attributes(sweep)
        entry = {
            "attribute": direction.attribute,
            "conditioned_on": list(direction.conditioned_on),
            "effect_per_unit": {a: effect_per_unit(sweep, a) for a in attributes},
            "mean_abs_change": {a: float(np.abs(sweep.scores[a][hi] - sweep.scores[a][lo]).mean())
                                for a in attributes},
            "outside_face_change": float(np.maximum(sweep.outside_change[lo], sweep.outside_change[hi]).mean()),
        }
        if direction.attribute in sweep.scores:
            entry["monotonic_fraction"] = monotonic_fraction(sweep, direction.attribute)
        summary[label] = entry
    return summary


def response_curves(sweep: EditSweep, title: str = "", target: Optional[str] = None) -> np.ndarray:
    """Mean change of every judged attribute against alpha (relative to the unedited faces); ``uint8 [H, W, 3]``.

    ``target`` is drawn first so it gets the first colour.
    """
    from faceedit.utils.plots import line_plot

    zero = int(np.flatnonzero(sweep.alphas == 0)[0])
    attributes = scalar_attributes(sweep)
    if target in attributes:
        attributes = [target] + [a for a in attributes if a != target]
    series = {a: (sweep.alphas, sweep.scores[a].mean(axis=1) - sweep.scores[a][zero].mean()) for a in attributes}
    return line_plot(series, title=title, xlabel="alpha (std)", size=(560, 360))


@torch.no_grad()
def edit_strips(
    G,  # faceedit Generator
    directions: Mapping[str, Direction],  # label -> direction, one row each per face
    seeds: Sequence[int],  # faces
    alphas: Sequence[float] = DEFAULT_ALPHAS,  # columns
    truncation_psi: float = 0.7,
    zoom: int = 1,  # integer upscaling (nearest neighbour) so small faces can be judged by eye
) -> np.ndarray:
    """Rows of edited faces (for each seed, one row per direction; columns are alphas), labelled."""
    from directions.edit import apply_direction
    from faceedit.utils.images import images_from_tensor, label_rows, make_grid
    from faceedit.utils.seeds import z_from_seeds

    rows, labels = [], []
    for seed in seeds:
        ws = G.mapping(z_from_seeds([int(seed)], G.z_dim).to(G.device), None, truncation_psi=truncation_psi)
        for label, d in directions.items():
            images = torch.cat([G.synthesis(apply_direction(ws, d.vector, float(a), d.layers, d.unit),
                                            noise_mode="const") for a in alphas])  # [A, 3, H, W]
            pictures = images_from_tensor(images).repeat(zoom, axis=1).repeat(zoom, axis=2)  # [A, zH, zW, 3]
            rows.append(make_grid(pictures, cols=len(alphas)))
            labels.append(f"face {seed}: {label}")
    width = 8 + 7 * max(len(s) for s in labels)
    return label_rows(rows, labels, label_width=width, column_labels=[f"{a:+g}" for a in alphas],
                      header="alpha (std of the boundary distance)")


def write_direction_report(
    out: Path,  # folder for report.json and the PNGs
    G,  # faceedit Generator
    directions: Mapping[str, Direction],  # label -> direction
    judge,  # independent AttributeClassifier
    n: int = 1000,  # faces per direction
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    seed: int = 12345,  # seed of the judged faces
    strip_seeds: Sequence[int] = (0, 1, 2),  # faces shown in strips.png
    extra: Optional[Mapping] = None,  # more entries for report.json (model name, timings, ...)
    progress: bool = True,
) -> Dict:
    """Judge ``directions`` and write ``report.json``, ``entanglement.png``, ``curves-LABEL.png`` and ``strips.png``.

    Returns the report (what ``report.json`` holds).
    """
    from faceedit.utils.files import atomic_write_text
    from faceedit.utils.images import save_png
    from faceedit.utils.plots import heatmap

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sweeps = evaluate_directions(G, directions, judge, n=n, alphas=alphas, seed=seed, progress=progress)
    summary = summarize_sweeps(directions, sweeps)
    attributes = scalar_attributes(next(iter(sweeps.values())))
    matrix = np.array([[summary[label]["effect_per_unit"][a] for a in attributes] for label in summary])
    save_png(heatmap(matrix, list(summary), attributes, title=f"judged change per unit of alpha ({judge.name})"),
             out / "entanglement.png")
    for label, sweep in sweeps.items():
        save_png(response_curves(sweep, title=f"{label}: judged change ({judge.name})",
                                 target=directions[label].attribute), out / f"curves-{label}.png")
    zoom = max(1, 128 // G.img_resolution)
    save_png(edit_strips(G, directions, strip_seeds, alphas, zoom=zoom), out / "strips.png")
    report = dict(extra or {})
    report.update(judge=judge.name, n=n, alphas=[float(a) for a in alphas], seed=seed, directions=summary)
    atomic_write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    return report
