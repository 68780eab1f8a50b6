"""Command line for the synthfaces world: documentation pictures and correlation figures.

    python -m faceedit.synthfaces images --out docs/images      # synthfaces-grid.png, synthfaces-strips.png
    python -m faceedit.synthfaces stats --n 10000               # Markdown table of built-in correlations
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from faceedit.synthfaces.factors import sample_factors
from faceedit.synthfaces.render import render_batch, render_faces
from faceedit.synthfaces.stats import correlations_markdown

# Rows of the strips picture: factor, first and last value.
STRIP_ROWS: Tuple[Tuple[str, float, float], ...] = (
    ("age", 0.0, 1.0), ("gender", 0.0, 1.0), ("smile", 0.0, 1.0), ("yaw", -1.0, 1.0), ("light", -1.0, 1.0),
    ("roll", -1.0, 1.0), ("beard", 0.0, 1.0), ("skin_tone", 0.0, 1.0),
)
# The face the strips edit: a mid-aged, fairly masculine, frontal face (so that the age row shows
# greying and a receding hairline, and the beard row a plausible beard).
STRIP_FACE: Dict[str, float] = {"age": 0.35, "gender": 0.72, "smile": 0.3, "glasses": 0.0, "beard": 0.0,
                                "skin_tone": 0.3, "hair_color": 1.0, "yaw": 0.0, "roll": 0.0, "light": 0.35,
                                "background": 1.0}


def strips(seed: int = 3, steps: int = 8, resolution: int = 64,
           rows: Sequence[Tuple[str, float, float]] = STRIP_ROWS) -> torch.Tensor:
    """One face edited one factor at a time: ``[len(rows) * steps, 3, H, W]`` in [-1, 1], row by row."""
    base = sample_factors(1, seed)
    base.update({name: torch.tensor([value]) for name, value in STRIP_FACE.items()})
    pictures = []
    for name, low, high in rows:
        params = {key: value.repeat(steps) for key, value in base.items()}
        params[name] = torch.linspace(low, high, steps)
        pictures.append(render_faces(params, resolution))
    return torch.cat(pictures)


def _upscaled_grid(images: torch.Tensor, cols: int, scale: int) -> np.ndarray:
    from faceedit.utils.images import images_from_tensor, make_grid

    grid = make_grid(images_from_tensor(images), cols=cols)
    return np.kron(grid, np.ones((scale, scale, 1), dtype=np.uint8))  # nearest-neighbour upscaling


def write_images(out: Path, seed: int = 0, resolution: int = 64, scale: int = 2) -> List[Path]:
    """Write ``synthfaces-grid.png`` (8x8 random faces) and ``synthfaces-strips.png`` to ``out``."""
    from faceedit.utils.images import save_png

    images, _ = render_batch(64, seed, resolution)
    grid_path = save_png(_upscaled_grid(images, 8, scale), out / "synthfaces-grid.png")
    strips_path = save_png(_upscaled_grid(strips(resolution=resolution), 8, scale), out / "synthfaces-strips.png")
    return [grid_path, strips_path]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faceedit.synthfaces", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    images = commands.add_parser("images", help="write the documentation pictures")
    images.add_argument("--out", type=Path, default=Path("docs/images"))
    images.add_argument("--seed", type=int, default=0)
    images.add_argument("--resolution", type=int, default=64)
    images.add_argument("--scale", type=int, default=2, help="nearest-neighbour upscaling for viewing")
    stats = commands.add_parser("stats", help="print the built-in correlations as a Markdown table")
    stats.add_argument("--n", type=int, default=10_000)
    stats.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "images":
        for path in write_images(args.out, args.seed, args.resolution, args.scale):
            print(path)
    else:
        print(correlations_markdown(args.n, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
