"""Paired-dataset generation speed: `make_dataset` pairs/s against the generator's own images/s.

A pair costs two generator images, so the ceiling is 0.5 pairs per generator image-time (issue 6
targets 0.45). Each round renders a pair's worth of images with the generator alone (same batch
size, mapping + synthesis, no gradients) and then generates one shard of pairs (no classifier
filter), so machine noise hits both alike; the ratio is reported over all rounds and as the median
of the per-round ratios. The same run times the PNG encoding of one generated 64x64 image with
`faceedit.utils.png.png_bytes` (what the dataset writes) and with Pillow.

    python benchmarks/bench_dataset.py --rounds 10 --json benchmarks/results/bench_dataset.json
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_seconds, run_record, write_json  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="synthfaces-64", help="generator (bundled name or folder)")
    parser.add_argument("--direction", default="age", help="bundled direction of the pairs")
    parser.add_argument("--batch", type=int, default=32, help="pairs per batch (and generator batch size)")
    parser.add_argument("--shard", type=int, default=128, help="seeds per shard = pairs per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from PIL import Image

    import faceedit
    from directions.bundled import load_bundled_direction
    from distill.dataset import PairSpec, make_dataset
    from faceedit.utils.images import images_from_tensor
    from faceedit.utils.png import png_bytes

    torch.set_grad_enabled(False)
    G = faceedit.load_generator(args.model, device="cpu")
    direction = load_bundled_direction(Path(args.model).name, args.direction, generator=G)
    spec = PairSpec(direction=args.direction, num_seeds=args.rounds * args.shard, shard_seeds=args.shard,
                    batch_size=args.batch)
    z = torch.randn(args.batch, G.z_dim)
    out = Path(tempfile.mkdtemp()) / "pairs"
    warm_up = dataclasses.replace(spec, num_seeds=args.batch, shard_seeds=args.batch)
    make_dataset(out.with_name("warm-up"), G, direction, warm_up, progress=False)
    gen_seconds, pair_seconds, pairs, ratios = 0.0, 0.0, 0, []
    for r in range(args.rounds):
        start = time.perf_counter()
        for _ in range(2 * args.shard // args.batch):
            G.synthesis(G.mapping(z, None), noise_mode="const")
        gen = time.perf_counter() - start
        made = make_dataset(out, G, direction, spec, rank=r, world=args.rounds, progress=False)  # shard r only
        gen_seconds += gen
        pair_seconds += made["seconds"]
        pairs += made["pairs"]
        ratios.append((made["pairs"] / made["seconds"]) / (2 * args.shard / gen))
    images_per_s = args.rounds * 2 * args.shard / gen_seconds
    pairs_per_s = pairs / pair_seconds

    image = images_from_tensor(G(torch.randn(1, G.z_dim), None, noise_mode="const"))[0]  # [H, W, 3] uint8

    def pillow():
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    png_ms = {"png_bytes": [], "pillow": []}
    for _ in range(3):  # interleaved rounds of 200 encodings
        png_ms["png_bytes"].append(1000 * median_seconds(lambda: png_bytes(image), 200))
        png_ms["pillow"].append(1000 * median_seconds(pillow, 200))
    png = {name: round(statistics.median(values), 3) for name, values in png_ms.items()}
    result = dict(**run_record(), model=args.model, batch=args.batch, rounds=args.rounds, pairs=pairs,
                  generator_images_per_s=round(images_per_s, 1), pairs_per_s=round(pairs_per_s, 1),
                  pairs_per_image_time=round(pairs_per_s / images_per_s, 3),
                  pairs_per_image_time_round_median=round(statistics.median(ratios), 3),
                  pairs_per_image_time_rounds=[round(x, 3) for x in ratios],
                  png_ms_per_image=png, png_bytes_per_image={"png_bytes": len(png_bytes(image)),
                                                             "pillow": len(pillow())})
    print(json.dumps(result, indent=2))
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
