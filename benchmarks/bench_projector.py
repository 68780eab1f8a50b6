"""Cost of one projection step against one generator forward + backward pass, same batch, same run.

Issue 5's target: a projection step (synthesis with the optimised noise maps, pixel + MS-SSIM loss,
noise regularisation, W+ spread, Adam, noise renormalisation) costs no more than about 1.3x one
generator forward + backward pass at the same batch size (synthesis from ws that need a gradient,
squared-error loss, backward). Steps are timed inside `Projector.project` from its per-step callback,
so setup (W statistics) and the final synthesis are left out. Baseline and projector alternate round
by round; medians are reported.

    python benchmarks/bench_projector.py --batches 1,8 --json benchmarks/results/bench_projector.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run_record, write_json  # noqa: E402


def forward_backward_seconds(G, ws: torch.Tensor, target: torch.Tensor, repeats: int) -> float:
    """Median seconds of synthesis + squared error + backward to ``ws``."""
    times = []
    for _ in range(repeats + 1):  # the first call warms up
        start = time.perf_counter()
        w = ws.detach().requires_grad_(True)
        (G.synthesis(w, noise_mode="const") - target).square().mean().backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def projection_step_seconds(G, target: torch.Tensor, space: str, steps: int) -> float:
    """Median seconds between consecutive steps of a projection (setup excluded)."""
    from faceedit.inversion.projector import Projector

    stamps = []
    Projector(space=space, steps=steps, early_stop_patience=None, w_avg_samples=1000).project(
        G, target, progress=False, callback=lambda step, loss: stamps.append(time.perf_counter()))
    return statistics.median(b - a for a, b in zip(stamps[1:], stamps[2:]))  # skips the first (warm-up) step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="synthfaces-64")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--spaces", default="w+,w")
    parser.add_argument("--steps", type=int, default=40, help="projection steps (and baseline passes) per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import faceedit

    G = faceedit.load_generator(args.model, device="cpu")
    rows = []
    for batch in (int(b) for b in args.batches.split(",")):
        gen = torch.Generator().manual_seed(batch)
        target = torch.rand(batch, 3, G.img_resolution, G.img_resolution, generator=gen) * 2 - 1
        with torch.no_grad():
            ws = G.mapping(torch.randn(batch, G.z_dim, generator=gen), None)  # [N, num_ws, w_dim]
        times = {"forward+backward": [], **{space: [] for space in args.spaces.split(",")}}
        for _ in range(args.rounds):
            times["forward+backward"].append(forward_backward_seconds(G, ws, target, args.steps))
            for space in args.spaces.split(","):
                times[space].append(projection_step_seconds(G, target, space, args.steps))
        base = statistics.median(times["forward+backward"])
        row = dict(batch=batch, forward_backward_ms=round(1000 * base, 2))
        for space in args.spaces.split(","):
            step = statistics.median(times[space])
            row[f"{space}_step_ms"] = round(1000 * step, 2)
            row[f"{space}_ratio"] = round(step / base, 3)
        rows.append(row)
        print(json.dumps(row))
    write_json(args.json, dict(**run_record(), model=args.model, rows=rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
