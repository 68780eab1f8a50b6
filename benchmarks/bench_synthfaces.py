"""Rendering throughput of the synthfaces world (images per second), as a GAN trainer streams it.

Times ``render_batch(n, seed)`` end to end (factor sampling + rendering) for each resolution
and batch size, after a warm-up, with a fresh seed per repeat; reports the best and the median
of the repeats. Best-of-N is the figure to quote on a shared machine: other load only ever
slows a run down.

    python benchmarks/bench_synthfaces.py                          # 64/128/256 px, batches 64/256, 2 threads
    python benchmarks/bench_synthfaces.py --device cuda --repeats 20

Prints a Markdown table (paste into BENCHMARKS.md) with the machine, date and command.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(resolution: int, batch: int, repeats: int, device) -> list:
    """Seconds per ``render_batch`` call, one entry per repeat (after one warm-up call)."""
    from faceedit.synthfaces import render_batch

    render_batch(batch, seed=0, resolution=resolution, device=device)
    _sync(device)
    times = []
    for repeat in range(repeats):
        start = time.perf_counter()
        render_batch(batch, seed=1 + repeat, resolution=resolution, device=device)
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolutions", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per setting (best and median reported)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (CPU)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rows = []
    for resolution in args.resolutions:
        for batch in args.batches:
            with torch.inference_mode():
                times = measure(resolution, batch, args.repeats, device)
            best, median = min(times), statistics.median(times)
            rows.append((resolution, batch, best, median))
            print(f"# {resolution}px batch {batch}: best {batch / best:.0f} img/s, median {batch / median:.0f} img/s",
                  file=sys.stderr)

    machine = (f"{platform.machine()}, {os.cpu_count()} cores, {args.threads} torch threads"
               if device.type == "cpu" else torch.cuda.get_device_name(device))
    command = " ".join(["python benchmarks/bench_synthfaces.py", *(argv if argv is not None else sys.argv[1:])])
    print(f"Command: `{command}`")
    print(f"Machine: {machine}; torch {torch.__version__}, Python {platform.python_version()}; "
          f"{datetime.date.today().isoformat()}. Best and median of {args.repeats} calls of `render_batch` "
          "(sampling + rendering), fresh seed per call, after one warm-up call.")
    print()
    print("| resolution | batch | best ms / batch | images/s (best) | median ms / batch | images/s (median) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for resolution, batch, best, median in rows:
        print(f"| {resolution} | {batch} | {best * 1e3:.1f} | {batch / best:,.0f} | {median * 1e3:.1f} | "
              f"{batch / median:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
