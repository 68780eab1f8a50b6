"""Generator throughput and peak memory, faceedit against NVIDIA's reference code.

For each network configuration and batch size, one worker process builds faceedit's Generator
(random weights, perturbed), optionally NVIDIA's Generator with the *same* weights (when
``--nvidia-src`` points at a checkout of NVlabs/stylegan2-ada-pytorch), and times the variants
interleaved in rounds so that machine noise hits all of them alike; ratios come from the same
run. Peak memory is measured in a separate fresh process per variant (CPU: peak RSS growth
over the process after model construction; CUDA: ``torch.cuda.max_memory_allocated``).

    python benchmarks/bench_generator.py --device cpu --nvidia-src /path/to/stylegan2-ada-pytorch
    python benchmarks/bench_generator.py --device cuda --configs ffhq-1024 --batches 1 8

Prints a Markdown table (paste into BENCHMARKS.md) and writes JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONFIGS = {
    # 64x64 'skip' with an 8-layer 512-wide mapping and 32 channels everywhere.
    "64-skip-c32": dict(z_dim=512, c_dim=0, w_dim=512, img_resolution=64, img_channels=3,
                        mapping_kwargs=dict(num_layers=8),
                        synthesis_kwargs=dict(channel_base=32768, channel_max=32, num_fp16_res=0, conv_clamp=256,
                                              architecture="skip")),
    # NVIDIA's FFHQ-1024 StyleGAN2 configuration (config F as trained by stylegan2-ada-pytorch).
    "ffhq-1024": dict(z_dim=512, c_dim=0, w_dim=512, img_resolution=1024, img_channels=3,
                      mapping_kwargs=dict(num_layers=8),
                      synthesis_kwargs=dict(channel_base=32768, channel_max=512, num_fp16_res=4, conv_clamp=256,
                                            architecture="skip")),
}

VARIANTS = ("faceedit", "faceedit-unfused", "nvidia")


def _build(variant, config, device, nvidia_src):
    import torch

    from faceedit.networks import Generator

    torch.manual_seed(0)
    ours = Generator(**config)
    with torch.no_grad():
        for p in ours.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    ours = ours.eval().requires_grad_(False).to(device)
    if variant != "nvidia":
        fused = None if variant == "faceedit" else False
        return lambda ws: ours.synthesis(ws, noise_mode="const", fused_modconv=fused), ours
    sys.path.insert(0, nvidia_src)
    from training.networks import Generator as NvidiaGenerator  # NVIDIA's code, not part of this project

    theirs = NvidiaGenerator(**config).eval().requires_grad_(False).to(device)
    theirs.load_state_dict(ours.state_dict())
    force_fp32 = device.type != "cuda"
    return lambda ws: theirs.synthesis(ws, noise_mode="const", force_fp32=force_fp32), ours


def _sync(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def worker_time(args):
    """Time all variants interleaved for one (config, batch)."""
    import torch

    device = torch.device(args.device)
    config = CONFIGS[args.config]
    variants = [v for v in VARIANTS if v != "nvidia" or args.nvidia_src]
    runners = {}
    ref_model = None
    for v in variants:
        runners[v], ref_model = _build(v, config, device, args.nvidia_src)
    ws = ref_model.mapping(torch.randn(args.batch, config["z_dim"], device=device), None)
    times = {v: [] for v in variants}
    outputs = {}
    with torch.inference_mode():
        for v in variants:  # warm-up (and check the variants agree)
            for _ in range(2):
                outputs[v] = runners[v](ws)
            _sync(device)
        deadline = time.perf_counter() + args.seconds
        rounds = 0
        while rounds < args.min_rounds or (time.perf_counter() < deadline and rounds < args.max_rounds):
            for v in variants:
                _sync(device)
                t0 = time.perf_counter()
                runners[v](ws)
                _sync(device)
                times[v].append(time.perf_counter() - t0)
            rounds += 1
    diff = {v: float((outputs[v].float() - outputs["faceedit"].float()).abs().max()) for v in variants}
    return {v: dict(median_s=statistics.median(t), rounds=len(t), max_abs_diff_vs_faceedit=diff[v])
            for v, t in times.items()}


def worker_memory(args):
    """Peak memory of one variant's forward pass in a fresh process."""
    import torch

    device = torch.device(args.device)
    config = CONFIGS[args.config]
    runner, model = _build(args.variant, config, device, args.nvidia_src)
    ws = model.mapping(torch.randn(args.batch, config["z_dim"], device=device), None)
    with torch.inference_mode():
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            runner(ws)
            torch.cuda.synchronize()
            return {"peak_mb": (torch.cuda.max_memory_allocated() - base) / 2**20}
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        runner(ws)
        return {"peak_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024}


def _spawn(mode, **kw):
    cmd = [sys.executable, __file__, "--worker", mode]
    for key, value in kw.items():
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--nvidia-src", default=None, help="checkout of NVlabs/stylegan2-ada-pytorch to compare with")
    parser.add_argument("--seconds", type=float, default=10.0, help="timing budget per (config, batch)")
    parser.add_argument("--min-rounds", type=int, default=3)
    parser.add_argument("--max-rounds", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--worker", choices=["time", "memory"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--config", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--variant", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "time":
        print(json.dumps(worker_time(args)))
        return
    if args.worker == "memory":
        print(json.dumps(worker_memory(args)))
        return

    import torch

    results = []
    variants = [v for v in VARIANTS if v != "nvidia" or args.nvidia_src]
    for config in args.configs:
        for batch in args.batches:
            timing = _spawn("time", config=config, batch=batch, device=args.device, nvidia_src=args.nvidia_src,
                            seconds=args.seconds, min_rounds=args.min_rounds, max_rounds=args.max_rounds)
            for v in variants:
                memory = _spawn("memory", config=config, batch=batch, device=args.device,
                                nvidia_src=args.nvidia_src, variant=v)
                row = dict(config=config, batch=batch, variant=v, **timing[v], **memory)
                row["images_per_s"] = batch / row["median_s"]
                if "nvidia" in timing:
                    row["speedup_vs_nvidia"] = timing["nvidia"]["median_s"] / timing[v]["median_s"]
                results.append(row)
                print(f"{config} batch {batch} {v}: {row['median_s'] * 1000:.1f} ms, {row['images_per_s']:.1f} img/s, "
                      f"peak {row['peak_mb']:.0f} MB", file=sys.stderr)

    machine = (f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch "
               f"{torch.__version__}" + (f", {torch.cuda.get_device_name()}" if args.device.startswith("cuda") else ""))
    print(f"\nDevice {args.device}; {machine}; {time.strftime('%Y-%m-%d')}\n")
    print("| network | batch | implementation | ms / batch | images/s | peak MB | vs NVIDIA | max abs diff |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        ratio = f"{r['speedup_vs_nvidia']:.2f}x" if "speedup_vs_nvidia" in r else "-"
        print(f"| {r['config']} | {r['batch']} | {r['variant']} | {r['median_s'] * 1000:.1f} | {r['images_per_s']:.2f} "
              f"| {r['peak_mb']:.0f} | {ratio} | {r['max_abs_diff_vs_faceedit']:.1e} |")
    if args.json:
        args.json.write_text(json.dumps(dict(machine=machine, device=args.device, results=results), indent=2))


if __name__ == "__main__":
    main()
