"""Quality report of a generator trained on synthfaces, measured by the independent judge.

For N model samples, N fresh renders and N more renders (the floor), the judge predicts every
factor and gives its penultimate features. Reported: per-factor total-variation distance of the
binned predictions (samples vs renders, next to renders vs renders), mean predictions, and the
Fréchet distance of judge features (samples vs renders, next to renders vs renders). Writes a
sample grid and a histogram plot per factor.

    python benchmarks/quality_synthfaces.py --model synthfaces-64 --n 10000 \
        --json benchmarks/results/quality_synthfaces-64.json --images docs/images
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run_record  # noqa: E402

RENDER_SEED_A = 31_337
RENDER_SEED_B = 42_424


@torch.no_grad()
def generate(G, n: int, batch: int, seed: int) -> torch.Tensor:
    z = torch.from_numpy(np.random.RandomState(seed).randn(n, G.z_dim).astype(np.float32))
    torch.manual_seed(seed)
    out = [G(z[i:i + batch].to(G.device), None, noise_mode="random").cpu() for i in range(0, n, batch)]
    return torch.cat(out).clamp(-1, 1)


def histogram_plots(heads, predictions, path: Path) -> None:
    from faceedit.attributes.quality import binned_distribution
    from faceedit.utils.images import make_grid, save_png
    from faceedit.utils.plots import line_plot

    panels = []
    for head in heads:
        series = {}
        for label, preds in predictions.items():
            hist = binned_distribution(preds[head["name"]], head)
            series[label] = (np.arange(len(hist)), hist)
        kind = "bins over range" if head["kind"] == "continuous" else "class"
        panels.append(line_plot(series, title=f"{head['name']} (judge), x = {kind}", size=(420, 260)))
    save_png(make_grid(np.stack(panels), cols=3, pad=4), path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="synthfaces-64", help="generator name or folder")
    parser.add_argument("--judge", default="synthfaces-judge", help="judge classifier name or folder")
    parser.add_argument("--n", type=int, default=10_000, help="images per set")
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0, help="seed of the model's latents and noise")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--images", type=Path, default=None, help="write the sample grid and histograms here")
    parser.add_argument("--tag", default=None, help="file-name tag for the images (default: model name)")
    args = parser.parse_args()

    import faceedit
    from faceedit.attributes import load_classifier
    from faceedit.attributes.quality import attribute_distribution_distances, frechet_distance
    from faceedit.attributes.train import render_test_set
    from faceedit.utils.images import images_from_tensor, make_grid, save_png

    start = time.time()
    G = faceedit.load_generator(args.model, device="cpu")
    judge = load_classifier(args.judge)
    samples = generate(G, args.n, args.batch, args.seed)
    renders_a, _ = render_test_set(args.n, resolution=G.img_resolution, seed=RENDER_SEED_A)
    renders_b, _ = render_test_set(args.n, resolution=G.img_resolution, seed=RENDER_SEED_B)
    sets = {"model samples": samples, "renders": renders_a, "renders (2nd set)": renders_b}
    predictions, features = {}, {}
    with torch.no_grad():
        for label, images in sets.items():
            predictions[label] = judge.predict(images, batch_size=args.batch)
            features[label] = torch.cat([judge.features(images[i:i + args.batch])
                                         for i in range(0, len(images), args.batch)])

    tv_model = attribute_distribution_distances(predictions["model samples"], predictions["renders"], judge.heads)
    tv_floor = attribute_distribution_distances(predictions["renders (2nd set)"], predictions["renders"], judge.heads)
    fd_model = frechet_distance(features["model samples"], features["renders"])
    fd_floor = frechet_distance(features["renders (2nd set)"], features["renders"])

    def mean_of(preds, head):
        v = preds[head["name"]]
        return float(v.argmax(1).float().mean()) if head["kind"] == "categorical" else float(v.float().mean())

    rows = []
    for head in judge.heads:
        rows.append(dict(factor=head["name"], kind=head["kind"], tv_model=tv_model[head["name"]],
                         tv_floor=tv_floor[head["name"]], mean_model=mean_of(predictions["model samples"], head),
                         mean_renders=mean_of(predictions["renders"], head)))
    report = dict(model=str(args.model), judge=str(args.judge), n=args.n, fd_model=fd_model, fd_floor=fd_floor,
                  factors=rows, seconds=round(time.time() - start, 1), **run_record())

    print(f"judge-feature Frechet distance: model vs renders {fd_model:.3f}, renders vs renders (floor) "
          f"{fd_floor:.3f}\n")
    print("| factor | TV model vs renders | TV renders vs renders (floor) | judge mean, model | judge mean, renders |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['factor']} | {r['tv_model']:.3f} | {r['tv_floor']:.3f} | {r['mean_model']:.3f} | "
              f"{r['mean_renders']:.3f} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if args.images:
        tag = args.tag or Path(str(args.model)).name
        args.images.mkdir(parents=True, exist_ok=True)
        grid = make_grid(images_from_tensor(samples[:64]), cols=8)
        save_png(grid.repeat(2, axis=0).repeat(2, axis=1), args.images / f"{tag}-samples.png")
        histogram_plots(judge.heads, predictions, args.images / f"{tag}-judge-histograms.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
