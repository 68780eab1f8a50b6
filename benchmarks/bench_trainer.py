"""Training throughput of `faceedit train`, optionally against NVIDIA's networks in the same step.

Times whole optimisation steps (G step, D step, lazy R1 every 16th step, EMA) on a fixed batch
of renders, so the renderer's cost is measured separately (`bench_synthfaces.py`). With
``--nvidia-src`` (a checkout of NVlabs/stylegan2-ada-pytorch), the same step is run with
NVIDIA's Generator and Discriminator built with the same configuration, interleaved with ours
round by round, and the ratio is reported from the same run.

    python benchmarks/bench_trainer.py --preset synthfaces-64 --steps 32 --rounds 3 --precisions fp32,bf16 \
        [--nvidia-src /path/to/stylegan2-ada-pytorch]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import platform
import sys
import time

import torch


class FixedBatch:
    def __init__(self, images: torch.Tensor):
        self.images = images

    def batch(self, index: int, batch_size: int) -> torch.Tensor:
        return self.images[:batch_size]


def nvidia_step_fn(src: str, cfg, real: torch.Tensor):
    """One step of NVIDIA's loss (pl_weight 0) with NVIDIA's networks, our hyperparameters."""
    sys.path.insert(0, src)
    import torch.nn.functional as F
    from training.networks import Discriminator, Generator  # NVIDIA's code

    gk = cfg.generator_kwargs()
    G = Generator(z_dim=gk["z_dim"], c_dim=0, w_dim=gk["w_dim"], img_resolution=cfg.resolution, img_channels=3,
                  mapping_kwargs=dict(num_layers=cfg.mapping_layers),
                  synthesis_kwargs=dict(channel_base=cfg.channel_base, channel_max=cfg.channel_max,
                                        architecture=cfg.architecture_g)).train()
    D = Discriminator(c_dim=0, img_resolution=cfg.resolution, img_channels=3, architecture=cfg.architecture_d,
                      channel_base=cfg.channel_base, channel_max=cfg.channel_max,
                      epilogue_kwargs=dict(mbstd_group_size=cfg.mbstd_group_size)).train()
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    ratio = cfg.r1_interval / (cfg.r1_interval + 1)
    opt_G = torch.optim.Adam(G.parameters(), lr=cfg.g_lr, betas=(0.0, 0.99))
    opt_D = torch.optim.Adam(D.parameters(), lr=cfg.d_lr * ratio, betas=(0.0, 0.99**ratio))
    state = {"step": 0}
    empty_c = torch.zeros([cfg.batch_size, 0])

    def mapping(z):
        ws = G.mapping(z, empty_c)
        cutoff = int(torch.randint(1, ws.shape[1], ()).item())
        if torch.rand(()).item() < cfg.style_mixing_prob:
            ws[:, cutoff:] = G.mapping(torch.randn_like(z), empty_c, skip_w_avg_update=True)[:, cutoff:]
        return ws

    def step():
        G.requires_grad_(True)
        D.requires_grad_(False)
        img = G.synthesis(mapping(torch.randn(cfg.batch_size, cfg.z_dim)))
        loss = F.softplus(-D(img, empty_c)).mean()
        opt_G.zero_grad(set_to_none=True)
        loss.backward()
        opt_G.step()
        G.requires_grad_(False)
        D.requires_grad_(True)
        with torch.no_grad():
            img = G.synthesis(mapping(torch.randn(cfg.batch_size, cfg.z_dim)))
        loss = F.softplus(D(img, empty_c)).mean() + F.softplus(-D(real, empty_c)).mean()
        opt_D.zero_grad(set_to_none=True)
        loss.backward()
        opt_D.step()
        if state["step"] % cfg.r1_interval == 0:
            x = real.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(D(x, empty_c).sum(), x, create_graph=True)
            r1 = grad.square().sum([1, 2, 3]).mean() * (cfg.r1_weight / 2) * cfg.r1_interval
            opt_D.zero_grad(set_to_none=True)
            r1.backward()
            opt_D.step()
        D.requires_grad_(False)
        state["step"] += 1
        with torch.no_grad():
            for p_ema, p in zip(G_ema.parameters(), G.parameters()):
                p_ema.copy_(p.lerp(p_ema, 0.999))
    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="synthfaces-64")
    parser.add_argument("--steps", type=int, default=24, help="steps per timed round (a multiple of 16 is fair)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nvidia-src", default=None, help="checkout of NVlabs/stylegan2-ada-pytorch")
    parser.add_argument("--precisions", default="fp32,bf16",
                        help="comma-separated trainer precisions to compare in the same run (fp32, bf16)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import tempfile

    from faceedit.synthfaces import render_batch
    from faceedit.training import Trainer, preset

    cfg = preset(args.preset)
    real, _ = render_batch(cfg.batch_size, seed=0, resolution=cfg.resolution)
    contenders = {}
    with tempfile.TemporaryDirectory() as tmp:
        for precision in args.precisions.split(","):
            trainer = Trainer(f"{tmp}/{precision}", cfg.replace(precision=precision), device="cpu",
                              data=FixedBatch(real), progress=False)
            contenders[f"faceedit {precision}"] = trainer.step
        if args.nvidia_src:
            contenders["NVIDIA networks"] = nvidia_step_fn(args.nvidia_src, cfg, real)
        for fn in contenders.values():  # warm-up
            fn()
            fn()
        best = {name: float("inf") for name in contenders}
        for _ in range(args.rounds):
            for name, fn in contenders.items():
                start = time.perf_counter()
                for _ in range(args.steps):
                    fn()
                best[name] = min(best[name], time.perf_counter() - start)
    print(f"{datetime.date.today()} | {platform.machine()} | torch {torch.__version__} | {args.threads} threads | "
          f"preset {args.preset} (batch {cfg.batch_size}, {cfg.resolution}px) | best of {args.rounds} rounds of "
          f"{args.steps} steps\n")
    print("| trainer step | images/s |")
    print("|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {args.steps * cfg.batch_size / seconds:.1f} |")
    print()
    for name in best:
        if name != "faceedit fp32" and "faceedit fp32" in best:
            print(f"{name} speed vs faceedit fp32: {best['faceedit fp32'] / best[name]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
