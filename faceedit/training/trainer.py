"""A minimal StyleGAN2 trainer: non-saturating loss, lazy R1, EMA generator, style mixing.

The run folder holds everything: ``run.json`` (the config), ``checkpoints/`` (see
:mod:`faceedit.training.checkpoint`), ``stats.jsonl`` (losses), ``loss.png`` and ``samples/``
(grids of the EMA generator on fixed latents). Starting a trainer on a folder with a checkpoint
resumes it exactly: networks, optimisers, RNG states and the data stream position are restored,
so an interrupted run produces the same weights as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import copy
import json
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, ContextManager, Dict, List, Optional, Union

import numpy as np
import torch

from faceedit.networks.generator import Generator
from faceedit.training.checkpoint import TrainingState, latest_checkpoint, load_checkpoint, save_checkpoint
from faceedit.training.config import TrainingConfig
from faceedit.training.data import make_stream
from faceedit.training.discriminator import Discriminator
from faceedit.training.loss import discriminator_loss, generator_loss, mixed_ws, r1_penalty
from faceedit.utils.device import resolve_device
from faceedit.utils.files import atomic_write_text

__all__ = ["Trainer", "RUN_CONFIG_NAME"]

RUN_CONFIG_NAME = "run.json"
RUN_FORMAT = "faceedit-training-run"
STAT_KEYS = ("loss_G", "loss_D", "r1", "D_real", "D_fake")
REALS_BATCH_INDEX = 2**31 - 1  # the data batch shown in samples/reals.png; training never reaches it


class Trainer:
    """Train (or resume training) a StyleGAN2 generator in ``run_dir``.

    Example:
        >>> trainer = Trainer("runs/tiny", preset("tiny"), device="cpu")  # doctest: +SKIP
        >>> trainer.train(max_minutes=10)  # stops at total_kimg or after 10 minutes  # doctest: +SKIP
    """

    def __init__(
        self,
        run_dir: Union[str, Path],  # run folder; resumed when it holds a checkpoint
        config: Optional[TrainingConfig] = None,  # None = the config saved in run_dir (resume only)
        device: Union[str, torch.device, None] = None,  # None = CUDA when available, else CPU
        data: Any = None,  # object with .batch(index, batch_size) -> [B, 3, R, R]; None = from config.data
        progress: bool = True,  # show a progress bar
        channels_last: Optional[bool] = None,  # D in channels-last memory format; None = on CPU, where oneDNN's
        # convolutions are faster that way (changes rounding only, so a run may resume either way)
    ):
        self.run_dir = Path(run_dir)
        self.device = resolve_device(device)
        self.progress = progress
        use_channels_last = self.device.type == "cpu" if channels_last is None else channels_last
        self.memory_format = torch.channels_last if use_channels_last else torch.contiguous_format
        checkpoint = latest_checkpoint(self.run_dir)
        self.config = self._resolve_config(config, checkpoint)
        cfg = self.config
        self.data = data if data is not None else make_stream(cfg.data, cfg.resolution, cfg.data_seed, self.device)

        torch.manual_seed(cfg.seed)
        self.G = Generator(**cfg.generator_kwargs()).to(self.device).train()
        self.D = Discriminator(**cfg.discriminator_kwargs()).to(self.device, memory_format=self.memory_format).train()
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        betas = (float(cfg.adam_beta1), float(cfg.adam_beta2))
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.g_lr, betas=betas, eps=1e-8)
        # Lazy regularisation: rescale D's Adam so main + occasional R1 steps match one combined step.
        ratio = cfg.r1_interval / (cfg.r1_interval + 1) if cfg.r1_interval > 0 else 1.0
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.d_lr * ratio,
                                      betas=(betas[0] ** ratio, betas[1] ** ratio), eps=1e-8)
        self.state = TrainingState(step=0, nimg=0, train_seconds=0.0, config=cfg.to_dict())
        self._continued_at = 0.0  # monotonic time of the last SIGCONT, see _watch_for_continue
        if checkpoint is not None:
            self.state = load_checkpoint(checkpoint, self._networks(), self._optimizers())
            self.state.config = cfg.to_dict()
            self._truncate_stats()
        self._pending: Dict[str, List[float]] = {k: [] for k in STAT_KEYS}

    # ------------------------------------------------------------------ setup

    def _resolve_config(self, config: Optional[TrainingConfig], checkpoint: Optional[Path]) -> TrainingConfig:
        run_file = self.run_dir / RUN_CONFIG_NAME
        if checkpoint is None and not run_file.is_file():
            config = config or TrainingConfig()
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(run_file, json.dumps({"format": RUN_FORMAT, "config": config.to_dict()}, indent=2,
                                                   sort_keys=True) + "\n")
            return config
        try:
            saved = TrainingConfig.from_dict(json.loads(run_file.read_text())["config"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{run_file} is missing or damaged ({exc}); start a new run in an empty folder") from None
        if config is None:
            return saved
        changed = sorted(k for k, v in config.to_dict().items() if saved.to_dict()[k] != v)
        fixed = [k for k in changed if k not in TrainingConfig.RESUMABLE_CHANGES]
        if fixed:
            raise ValueError(f"{self.run_dir} was started with different settings ({', '.join(fixed)}); a resumed "
                             f"run may only change {', '.join(TrainingConfig.RESUMABLE_CHANGES)}. Use a new --outdir "
                             f"for a different configuration")
        if changed:
            atomic_write_text(run_file, json.dumps({"format": RUN_FORMAT, "config": config.to_dict()}, indent=2,
                                                   sort_keys=True) + "\n")
        return config

    def _networks(self) -> Dict[str, torch.nn.Module]:
        return {"G": self.G, "D": self.D, "G_ema": self.G_ema}

    def _optimizers(self) -> Dict[str, torch.optim.Optimizer]:
        return {"G": self.opt_G, "D": self.opt_D}

    @property
    def kimg(self) -> float:
        return self.state.nimg / 1000

    @property
    def done(self) -> bool:
        return self.state.nimg >= self.config.total_kimg * 1000

    # ------------------------------------------------------------------ one step

    def step(self) -> Dict[str, float]:
        """One optimisation step of G and D (plus R1 every ``r1_interval`` steps) and the EMA update."""
        cfg = self.config
        batch = cfg.batch_size
        real = self.data.batch(self.state.step, batch).to(self.device, torch.float32)  # [B, 3, R, R]
        real = real.contiguous(memory_format=self.memory_format)
        stats: Dict[str, float] = {}

        # G: make D call fakes real. D's weights need no gradient here.
        self.G.requires_grad_(True)
        self.D.requires_grad_(False)
        z = torch.randn(batch, cfg.z_dim, device=self.device)  # [B, z_dim]
        ws = mixed_ws(self.G, z, cfg.style_mixing_prob)  # [B, num_ws, w_dim], float32 (feeds w_avg)
        with self._autocast():
            fake_logits = self.D(self.G.synthesis(ws, noise_mode="random"))  # [B, 1]
        loss_g = generator_loss(fake_logits.float())
        self.opt_G.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_G.step()
        stats["loss_G"] = float(loss_g.detach())

        # D: tell reals from fresh fakes.
        self.G.requires_grad_(False)
        self.D.requires_grad_(True)
        with torch.no_grad():
            z = torch.randn(batch, cfg.z_dim, device=self.device)
            ws = mixed_ws(self.G, z, cfg.style_mixing_prob)
            with self._autocast():
                fake = self.G.synthesis(ws, noise_mode="random")  # [B, 3, R, R]
        with self._autocast():
            real_logits = self.D(real).float()  # [B, 1]
            fake_logits = self.D(fake).float()  # [B, 1]
        loss_d = discriminator_loss(real_logits, fake_logits)
        self.opt_D.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_D.step()
        stats.update(loss_D=float(loss_d.detach()), D_real=float(real_logits.detach().mean()),
                     D_fake=float(fake_logits.detach().mean()))

        # Lazy R1: every r1_interval steps, a separate step on the gradient penalty scaled by the interval.
        # Always float32: a second derivative through bfloat16 convolutions is too coarse to regularise with.
        if cfg.r1_interval > 0 and cfg.r1_weight > 0 and self.state.step % cfg.r1_interval == 0:
            real_in = real.detach().requires_grad_(True)
            penalty = r1_penalty(self.D(real_in), real_in)  # [B]
            loss_r1 = penalty.mean() * (cfg.r1_weight / 2) * cfg.r1_interval
            self.opt_D.zero_grad(set_to_none=True)
            loss_r1.backward()
            self.opt_D.step()
            stats["r1"] = float(penalty.detach().mean())
        self.D.requires_grad_(False)

        self.state.step += 1
        self.state.nimg += batch
        self._update_ema()
        return stats

    def _autocast(self) -> ContextManager[Any]:
        """bfloat16 autocast for ``precision='bf16'``; convolutions and matmuls run in bfloat16 inside."""
        if self.config.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @torch.no_grad()
    def _update_ema(self) -> None:
        cfg = self.config
        ema_nimg = cfg.ema_half_life_kimg * 1000
        if cfg.ema_rampup > 0:
            ema_nimg = min(ema_nimg, self.state.nimg * cfg.ema_rampup)
        beta = 0.5 ** (cfg.batch_size / max(ema_nimg, 1e-8))
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
            p_ema.copy_(p.detach().lerp(p_ema, beta))
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)

    # ------------------------------------------------------------------ the loop

    def train(
        self,
        max_minutes: Optional[float] = None,  # stop (with a checkpoint) after this much wall time, None = no limit
        max_steps: Optional[int] = None,  # stop after this many steps in this call, None = no limit
    ) -> TrainingState:
        """Train until ``total_kimg`` (or a limit), checkpointing on the way and at the end.

        An interruption (Ctrl-C) also writes a checkpoint before it propagates.
        """
        from tqdm.auto import tqdm

        cfg = self.config
        self._write_reals()
        start = time.monotonic()
        steps_done = 0
        last_saved_step = self.state.step
        bar = tqdm(total=int(cfg.total_kimg * 1000), initial=min(self.state.nimg, int(cfg.total_kimg * 1000)),
                   unit="img", unit_scale=True, desc="training", disable=not self.progress, dynamic_ncols=True)
        tick_seconds, tick_nimg = 0.0, self.state.nimg
        restore_sigcont = self._watch_for_continue()
        try:
            while not self.done:
                if max_steps is not None and steps_done >= max_steps:
                    break
                if max_minutes is not None and time.monotonic() - start >= max_minutes * 60:
                    break
                t0 = time.monotonic()
                before = self.state.nimg
                stats = self.step()
                # A step the process was suspended in (SIGSTOP ... SIGCONT) counts from the resumption only.
                elapsed = time.monotonic() - max(t0, self._continued_at)
                self.state.train_seconds += elapsed
                tick_seconds += elapsed
                steps_done += 1
                bar.update(min(self.state.nimg, int(cfg.total_kimg * 1000)) - min(before, int(cfg.total_kimg * 1000)))
                for key, value in stats.items():
                    self._pending[key].append(value)
                if self.state.step % cfg.log_steps == 0:
                    speed = (self.state.nimg - tick_nimg) / max(tick_seconds, 1e-9)
                    record = self._flush_stats(speed)
                    tick_seconds, tick_nimg = 0.0, self.state.nimg
                    bar.set_postfix(G=f"{record['loss_G']:.3f}", D=f"{record['loss_D']:.3f}", ips=f"{speed:.1f}")
                if _crossed(before, self.state.nimg, cfg.sample_kimg):
                    self.write_samples()
                if _crossed(before, self.state.nimg, cfg.snapshot_kimg):
                    self.save()
                    last_saved_step = self.state.step
        except KeyboardInterrupt:
            if self.state.step != last_saved_step:
                self.save()
            raise
        finally:
            bar.close()
            restore_sigcont()
        if self.state.step != last_saved_step:
            self.write_samples()
            self.save()
        return self.state

    def _watch_for_continue(self) -> Callable[[], None]:
        """Note when the process resumes after a suspension, so ``train_seconds`` leaves the pause out.

        Only the main thread may install signal handlers; elsewhere (and where SIGCONT does not
        exist) pauses are counted. Returns a function that restores the previous handler.
        """
        self._continued_at = 0.0
        if not hasattr(signal, "SIGCONT") or threading.current_thread() is not threading.main_thread():
            return lambda: None

        def on_continue(signum, frame) -> None:
            self._continued_at = time.monotonic()

        previous = signal.signal(signal.SIGCONT, on_continue)
        return lambda: signal.signal(signal.SIGCONT, previous)

    # ------------------------------------------------------------------ outputs

    def save(self) -> Path:
        """Write a checkpoint now (and refresh the loss plot)."""
        metadata = {"training_step": self.state.step, "training_kimg": self.state.nimg / 1000}

        def export(folder: Path) -> None:  # every checkpoint holds a loadable generator
            self.G_ema.save_pretrained(folder / "generator", metadata=metadata)

        path = save_checkpoint(self.run_dir, self.state, self._networks(), self._optimizers(),
                               keep=self.config.keep_checkpoints, export=export)
        self.plot_losses()
        return path

    @torch.no_grad()
    def sample_grid(self) -> "torch.Tensor":
        """The EMA generator on the run's fixed grid latents, ``[grid**2, 3, R, R]``."""
        from faceedit.utils.seeds import z_from_seeds

        n = self.config.grid_size**2
        z = z_from_seeds(list(range(n)), self.config.z_dim).to(self.device)
        return self.G_ema(z, None, noise_mode="const")

    def write_samples(self) -> Path:
        from faceedit.utils.images import images_from_tensor, make_grid, save_png

        path = self.run_dir / "samples" / f"fakes-step{self.state.step:09d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_png(make_grid(images_from_tensor(self.sample_grid()), cols=self.config.grid_size), path)
        save_png(progress_strip(self.run_dir, self.config), self.run_dir / "samples" / "progress.png")
        return path

    def _write_reals(self) -> None:
        from faceedit.utils.images import images_from_tensor, make_grid, save_png

        path = self.run_dir / "samples" / "reals.png"
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        n = self.config.grid_size**2
        reals = self.data.batch(REALS_BATCH_INDEX, n)
        save_png(make_grid(images_from_tensor(reals), cols=self.config.grid_size), path)

    def _flush_stats(self, images_per_second: float) -> Dict[str, float]:
        record: Dict[str, Any] = {"step": self.state.step, "kimg": round(self.kimg, 3),
                                  "train_seconds": round(self.state.train_seconds, 2),
                                  "images_per_second": round(images_per_second, 2)}
        for key, values in self._pending.items():
            record[key] = sum(values) / len(values) if values else None
            values.clear()
        with open(self.run_dir / "stats.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")
        return record

    def read_stats(self) -> List[Dict[str, Any]]:
        path = self.run_dir / "stats.jsonl"
        if not path.is_file():
            return []
        records = []
        for line in path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # a line cut short by an interruption
        return records

    def _truncate_stats(self) -> None:
        """Drop statistics logged after the checkpoint being resumed (they will be logged again)."""
        path = self.run_dir / "stats.jsonl"
        if path.is_file():
            kept = [r for r in self.read_stats() if r.get("step", 0) <= self.state.step]
            atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in kept))

    def plot_losses(self) -> Optional[Path]:
        """Draw ``loss.png`` from ``stats.jsonl`` (smoothed G and D losses and the R1 penalty)."""
        from faceedit.utils.plots import save_line_plot, smooth

        records = self.read_stats()
        if not records:
            return None
        window = max(1, len(records) // 50)
        series = {}
        for key in ("loss_G", "loss_D", "r1"):
            points = [(r["kimg"], r[key]) for r in records if r.get(key) is not None]
            if points:
                xs, ys = zip(*points)
                series[key] = (xs, smooth(ys, window))
        return save_line_plot(self.run_dir / "loss.png", series, title=f"StyleGAN2 losses, {self.run_dir.name}",
                              xlabel="kimg")


def progress_strip(run_dir: Path, config: TrainingConfig, rows: int = 10, pad: int = 2) -> np.ndarray:
    """The first row of up to ``rows`` evenly spaced sample grids, oldest on top, labelled with kimg.

    Shows how the same latents turned into faces as training went on (``samples/progress.png``).
    """
    from PIL import Image

    from faceedit.utils.images import label_rows

    grids = sorted((Path(run_dir) / "samples").glob("fakes-step*.png"))
    if len(grids) > rows:
        picks = np.linspace(0, len(grids) - 1, rows).round().astype(int)
        grids = [grids[i] for i in sorted(set(picks))]
    strips = [np.asarray(Image.open(path).convert("RGB"))[: config.resolution + 2 * pad] for path in grids]
    kimgs = [int(path.stem.split("step")[1]) * config.batch_size / 1000 for path in grids]
    return label_rows(strips, [f"{kimg:g} kimg" for kimg in kimgs], label_width=72)


def _crossed(before: int, after: int, every_kimg: float) -> bool:
    """Whether the image count passed a multiple of ``every_kimg`` thousand images."""
    every = max(int(round(every_kimg * 1000)), 1)
    return after // every > before // every
