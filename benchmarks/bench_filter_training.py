"""Step time of `faceedit distill train` by precision (float32 against bfloat16 autocast) and losses.

Times whole optimisation steps of :class:`distill.train.FilterTrainer` (the bundled filters' network: ngf 16,
3 downsamplings, 6 residual blocks, the labeler's perceptual term) on pairs of the bundled generator, with every
Pix2PixHD loss (discriminator run and trained) and with L1 and the perceptual term only. The contenders run
interleaved, round by round, and the ratios come from the same run (these machines are noisy).

    python benchmarks/bench_filter_training.py --threads 1 --steps 20 --rounds 3 \
        --json benchmarks/results/filter_training.json
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run_record, write_json  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="synthfaces-64")
    parser.add_argument("--direction", default="age-orth-gender-glasses")
    parser.add_argument("--steps", type=int, default=20, help="steps per contender per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: one of two training lanes)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import faceedit
    from directions.bundled import resolve_direction
    from distill.dataset import PairSpec, make_dataset
    from distill.train import FilterTrainer, FilterTrainingConfig

    G = faceedit.load_generator(args.model)
    base = FilterTrainingConfig(ngf=16, n_downsampling=3, perceptual="synthfaces-labeler", checkpoint_every=10 ** 9,
                                sample_every=10 ** 9, log_every=10 ** 9, held_out=8)
    contenders = {f"{losses}, {precision}": dataclasses.replace(base, precision=precision, **changes)
                  for losses, changes in (("every loss", {}), ("L1 + perceptual", dict(lambda_gan=0.0, lambda_fm=0.0)))
                  for precision in ("fp32", "bf16")}
    times = {name: [] for name in contenders}
    with tempfile.TemporaryDirectory() as tmp:
        direction = resolve_direction(args.direction, args.model, generator=G)
        make_dataset(f"{tmp}/pairs", G, direction, PairSpec(direction=args.direction, num_seeds=64, shard_seeds=64),
                     progress=False)
        trainers = {name: FilterTrainer(f"{tmp}/{i}", f"{tmp}/pairs", config, device="cpu", progress=False)
                    for i, (name, config) in enumerate(contenders.items())}
        for trainer in trainers.values():  # warm-up
            trainer.step()
        for _ in range(args.rounds):
            for name, trainer in trainers.items():
                for _ in range(args.steps):
                    start = time.perf_counter()
                    trainer.step()
                    times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    rows = []
    for name, seconds in medians.items():
        losses, precision = name.split(", ")
        fp32 = medians[f"{losses}, fp32"]
        rows.append(dict(losses=losses, precision=precision, ms_per_step=round(seconds * 1000, 1),
                         speedup_over_fp32=round(fp32 / seconds, 2)))
        print(f"{name:28s} {seconds * 1000:7.1f} ms/step   x{fp32 / seconds:.2f} against fp32")
    write_json(args.json, dict(**run_record(), batch_size=base.batch_size, resolution=G.img_resolution,
                               threads=args.threads, steps=args.steps, rounds=args.rounds, rows=rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
