"""Markdown tables for MODELS.md / BENCHMARKS.md from the JSON results the benchmark scripts write.

    python benchmarks/markdown_tables.py quality benchmarks/results/quality_synthfaces-64.json
    python benchmarks/markdown_tables.py directions benchmarks/results/directions_synthfaces-64.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OTHERS = ("age", "gender", "smile", "glasses", "beard", "skin_tone", "yaw")


def quality(r: dict) -> str:
    lines = [f"Judge-feature Fréchet distance: model {r['fd_model']:.3f}, floor {r['fd_floor']:.3f}.", "",
             "| factor | TV distance, model vs renders | TV distance, floor | judge mean, model "
             "| judge mean, renders |",
             "|---|---:|---:|---:|---:|"]
    for f in r["factors"]:
        lines.append(f"| {f['factor']} | {f['tv_model']:.3f} | {f['tv_floor']:.3f} | {f['mean_model']:.3f} | "
                     f"{f['mean_renders']:.3f} |")
    return "\n".join(lines)


def directions(r: dict) -> str:
    lines = [f"{r['n']:,} samples labelled in {r['sample_seconds']:.0f} s, {len(r['held_out'])} directions fitted in "
             f"{r['fit_seconds']:.1f} s; judged on {r['eval_n']} faces over alpha {r['alphas'][0]:+g} .. "
             f"{r['alphas'][-1]:+g} ({r['eval_seconds'] / 60:.1f} min).", "",
             "| direction | held-out | monotonic | target / unit | " + " | ".join(f"\\|Δ{a}\\|" for a in OTHERS)
             + " | outside face |", "|---|---:|---:|---:|" + "---:|" * len(OTHERS) + "---:|"]
    for label, e in r["evaluation"].items():
        target = e["attribute"]
        mono = f"{e['monotonic_fraction']:.3f}" if "monotonic_fraction" in e else "-"
        cells = " | ".join(f"{e['mean_abs_change'][a]:.3f}" for a in OTHERS)
        lines.append(f"| {label} | {r['held_out'][label]:.3f} | {mono} | {e['effect_per_unit'][target]:+.3f} | "
                     f"{cells} | {e['outside_face_change']:.3f} |")
    lines += ["", "| age estimator | held-out | cosine to svm | seconds |", "|---|---:|---:|---:|"]
    for method, m in r["age_methods"].items():
        lines.append(f"| {method} | {m['score']:.3f} | {m['cosine_to_svm']:.3f} | {m['seconds']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    kind, path = sys.argv[1], Path(sys.argv[2])
    print({"quality": quality, "directions": directions}[kind](json.loads(path.read_text())))
