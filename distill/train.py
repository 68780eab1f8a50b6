"""Training a Pix2PixHD filter on a paired dataset, on one CPU/GPU or many (``torchrun``, DDP).

Losses (Pix2PixHD): LSGAN on multi-scale PatchGAN discriminators conditioned on the input,
discriminator feature matching, L1 to the target, and a perceptual term: LPIPS-VGG16 when its weights
are in the cache (``faceedit models fetch vgg16-lpips``; without them the L1 term carries the
reconstruction), or the same recipe over an attribute classifier's feature maps (``perceptual=
'synthfaces-labeler'``, :mod:`faceedit.attributes.perceptual`). Pairs are mirrored left-right at random.

Batch ``k`` of the run is drawn from ``(seed, k)``, each DDP rank taking its own slice of it, so a
resumed run continues exactly as if it had never stopped. Checkpoints (``checkpoints/step-*``, the
project's safetensors + JSON format, a loadable ``filter/`` inside each), sample grids
(``samples/step-*.png``: input | filter | teacher), ``stats.jsonl`` and ``loss.png`` go to the run
folder; ``run.json`` keeps the configuration. Mixed precision (bfloat16 autocast) on CUDA, and on CPUs with
``precision='bf16'``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

from distill.filter import Filter
from distill.networks import MultiscaleDiscriminator, build_generator, feature_matching_loss, lsgan_loss

__all__ = ["FilterTrainingConfig", "FilterTrainer", "load_pairs", "load_training_pairs"]

RUN_CONFIG = "run.json"
FILTER_PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class FilterTrainingConfig:
    """Hyperparameters of a filter run (saved in ``run.json`` and with every checkpoint)."""

    generator: str = "global"  # 'global' (GlobalGenerator) or 'local' (LocalEnhancer, twice the resolution)
    ngf: int = 16  # generator channels after the stem (16 with 4 downsamplings: about 45 ms at 256x256, 2 cores)
    n_downsampling: int = 4  # generator downsamplings (global part)
    n_blocks: int = 6  # residual blocks (global part)
    residual: bool = True  # predict a change over the input
    skips: bool = False  # the generator's encoder-to-decoder skips at every scale (GlobalGenerator); a filter
    # trained without them can start a run with them (--init-from): they start at zero
    ndf: int = 32  # discriminator channels of the first layer
    n_layers_d: int = 3  # stride-2 layers per discriminator
    num_d: int = 2  # discriminator scales
    lambda_gan: float = 1.0  # weight of the generator's adversarial (LSGAN) term; 0 trains without it
    lambda_fm: float = 10.0  # feature-matching weight
    lambda_l1: float = 10.0  # L1 weight
    lambda_lpips: float = 10.0  # weight of the perceptual term (when there is one, see `perceptual`)
    perceptual: str = "lpips"  # 'lpips' (VGG16 LPIPS when its weights are cached, else no perceptual term),
    # 'none', or an attribute classifier (bundled name or folder) whose feature maps give an LPIPS-like distance
    # (faceedit.attributes.perceptual; e.g. 'synthfaces-labeler' for synthfaces generators)
    flip: bool = True  # mirror a random half of each batch left-right (the same mirror for a pair's A and B)
    lr: float = 2e-4  # Adam learning rate of both networks
    lr_decay_steps: int = 0  # the last N steps decay both learning rates linearly to 0 (Pix2PixHD's niter_decay);
    # 0 keeps the rate constant
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 8  # pairs per step, over all ranks
    precision: str = "auto"  # 'auto': bfloat16 autocast on CUDA, float32 on CPUs; 'bf16': bfloat16 autocast on
    # any device (on CPUs with bfloat16 instructions, AVX512-BF16 or AMX, about 1.4x faster steps: BENCHMARKS.md;
    # usually slower on CPUs without them, not measured here); 'fp32': none. Weights, optimiser state and saved
    # filters stay float32
    steps: int = 4000  # optimisation steps in total
    seed: int = 0
    checkpoint_every: int = 500
    sample_every: int = 500
    log_every: int = 20
    held_out: int = 64  # last pairs of each dataset kept out of training (for samples and evaluation)

    def __post_init__(self) -> None:
        if self.precision not in FILTER_PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(FILTER_PRECISIONS)}, got {self.precision!r}")

    def architecture(self) -> Dict[str, Any]:
        """``build_generator``'s arguments (``skips`` only when set, so filters saved before it load unchanged)."""
        skips = {"skips": True} if self.skips else {}
        if self.generator == "local":
            return dict(kind="local", ngf=self.ngf, n_downsampling_global=self.n_downsampling,
                        n_blocks_global=self.n_blocks, residual=self.residual, **skips)
        return dict(kind="global", ngf=self.ngf, n_downsampling=self.n_downsampling, n_blocks=self.n_blocks,
                    residual=self.residual, **skips)

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_saved(cls, saved: Dict[str, Any]) -> "FilterTrainingConfig":
        """The config of a saved run; settings added since it was saved take the values it trained with."""
        return cls(**{**LEGACY_SETTINGS, **saved})


# What runs saved before a setting existed were trained with (so they resume unchanged).
LEGACY_SETTINGS: Dict[str, Any] = {"perceptual": "lpips", "flip": False, "lambda_gan": 1.0, "lr_decay_steps": 0,
                                   "skips": False}


def load_pairs(dataset: Union[str, Path]):
    """All pairs of a dataset folder as ``uint8`` tensors ``A, B [N, 3, H, W]`` plus the dataset header."""
    from distill.dataset import read_pairs

    a_list, b_list = [], []
    for a, b, _ in read_pairs(dataset):
        a_list.append(a)
        b_list.append(b)
    if not a_list:
        raise ValueError(f"{dataset} holds no pairs yet; make them with `faceedit dataset make`")
    header = json.loads((Path(dataset) / "dataset.json").read_text())
    to_tensor = lambda xs: torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).contiguous()  # noqa: E731
    return to_tensor(a_list), to_tensor(b_list), header


def load_training_pairs(datasets: Sequence[Union[str, Path]], held_out: int):
    """Pairs of one or several datasets of the same teacher, split into training and held-out pairs.

    Each dataset keeps its own last ``held_out`` pairs out of training (so a teacher's own pairs stay held out
    beside anchored pairs of the same request). Returns ``A, B [N, 3, H, W]`` (``uint8``, the training pairs
    first, then the held-out ones), the number of training pairs, and the datasets' headers.
    """
    if not datasets:
        raise ValueError("no dataset given; pass at least one folder made by `faceedit dataset make`")
    train, held, headers = [], [], []
    for dataset in datasets:
        a, b, header = load_pairs(dataset)
        if len(a) <= held_out:
            raise ValueError(f"{dataset} has {len(a)} pairs; it needs more than held_out={held_out}")
        if headers and a.shape[1:] != train[0][0].shape[1:]:
            raise ValueError(f"{dataset} holds {a.shape[-1]}x{a.shape[-2]} pairs, {datasets[0]} "
                             f"{train[0][0].shape[-1]}x{train[0][0].shape[-2]}; train on datasets of one resolution")
        if headers and header.get("generator_fingerprint") != headers[0].get("generator_fingerprint"):
            raise ValueError(f"{dataset} was made by another generator than {datasets[0]}; a filter learns one "
                             f"teacher: train on datasets of the same generator")
        cut = len(a) - held_out
        train.append((a[:cut], b[:cut]))
        held.append((a[cut:], b[cut:]))
        headers.append(header)
    A = torch.cat([a for a, _ in train] + [a for a, _ in held])  # [N, 3, H, W]
    B = torch.cat([b for _, b in train] + [b for _, b in held])
    return A, B, sum(len(a) for a, _ in train), headers


def _learning_rate(config: FilterTrainingConfig, step: int) -> float:
    if config.lr_decay_steps <= 0:
        return config.lr
    return config.lr * min(1.0, max(0.0, (config.steps - step) / config.lr_decay_steps))


def _float(images: torch.Tensor) -> torch.Tensor:
    return (images.float() - 128) / 127.5


class FilterTrainer:
    """Trains one filter; ``train()`` runs until ``config.steps`` (resumable)."""

    def __init__(
        self,
        run_dir: Union[str, Path],  # checkpoints, samples and logs
        dataset: Union[str, Path, Sequence[Union[str, Path]]],  # paired dataset folder, or several of one
        # teacher (e.g. its own pairs and anchored ones), whose pairs are pooled
        config: Optional[FilterTrainingConfig] = None,  # None = the run's saved config, or the defaults
        device: Union[str, torch.device, None] = None,
        progress: bool = True,
        perceptual=None,  # LPIPS-like distance (a, b) -> [N]; None = look in the model cache
        init_from: Union[str, Path, None] = None,  # a filter folder whose weights start a *new* run (fine-tuning,
        # e.g. with other losses); its architecture must match the config's. None = random initialisation
    ):
        from faceedit.training.checkpoint import TrainingState, latest_checkpoint, load_checkpoint
        from faceedit.utils.device import resolve_device

        self.run_dir = Path(run_dir)
        self.device = resolve_device(device)
        self.rank, self.world = _dist_rank_world()
        saved = self.run_dir / RUN_CONFIG
        saved_run = json.loads(saved.read_text()) if saved.is_file() else {}
        saved_config = FilterTrainingConfig.from_saved(saved_run["config"]) if saved_run else None
        config = config or saved_config or FilterTrainingConfig()
        if saved_config is not None:
            # the schedule is checked below, once the checkpoint's step is known; the precision only rounds
            free = ("steps", "lr_decay_steps", "precision")
            if {k: v for k, v in saved_config.to_dict().items() if k not in free} != {
                    k: v for k, v in config.to_dict().items() if k not in free}:
                raise ValueError(f"{self.run_dir} was started with another configuration; use a new folder (only "
                                 f"the number of steps, the learning-rate decay and the precision may change on "
                                 f"resume)")
        if config.batch_size % self.world:
            raise ValueError(f"batch_size {config.batch_size} must be divisible by the number of processes "
                             f"({self.world})")
        self.config, self.progress = config, progress
        datasets = [dataset] if isinstance(dataset, (str, Path)) else list(dataset)
        self.A, self.B, self.num_train, self.headers = load_training_pairs(datasets, config.held_out)
        # run.json keeps one dataset's header as it always did (older runs resume), a list of them for several
        recorded_header = self.headers[0] if len(self.headers) == 1 else self.headers
        if saved_run.get("dataset_header") not in (None, recorded_header):  # the folder may move; its content not
            raise ValueError(f"{self.run_dir} was trained on other datasets than {', '.join(map(str, datasets))}; "
                             f"use a new run folder, or the datasets it was started with")
        self.resolution = int(self.A.shape[-1])
        if self.resolution % 2 ** (config.n_downsampling + (1 if config.generator == "local" else 0)):
            raise ValueError(f"resolution {self.resolution} is not divisible by 2**n_downsampling")
        torch.manual_seed(config.seed)
        self.G = build_generator(**config.architecture()).to(self.device)
        self.D = MultiscaleDiscriminator(6, config.ndf, config.n_layers_d, config.num_d).to(self.device)
        betas = (config.beta1, config.beta2)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=config.lr, betas=betas)
        self.G_train, self.D_train = self.G, self.D
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.G_train, self.D_train = DDP(self.G, device_ids=ids), DDP(self.D, device_ids=ids)
        if perceptual is None and config.lambda_lpips:
            perceptual = _perceptual_distance(config.perceptual, self.device)
        self.perceptual = perceptual
        self.state = TrainingState(step=0, nimg=0, train_seconds=0.0, config=config.to_dict())
        checkpoint = latest_checkpoint(self.run_dir)
        self.init_from = saved_run.get("init_from")
        if checkpoint is None:  # a fresh run, or one stopped before its first checkpoint
            source = init_from if init_from is not None else (self.init_from or {}).get("path")
            self.init_from = self._load_initial_weights(source) if source is not None else None
        if checkpoint is not None:
            self.state = load_checkpoint(checkpoint, {"G": self.G, "D": self.D}, {"G": self.opt_G, "D": self.opt_D})
            self.state.config = config.to_dict()
            if saved_config is not None:
                self._check_schedule(saved_config, self.state.step)
        if self.rank == 0:
            self._truncate_stats()
            from faceedit.utils.files import atomic_write_text

            self.run_dir.mkdir(parents=True, exist_ok=True)
            dataset_paths = str(datasets[0]) if len(datasets) == 1 else [str(d) for d in datasets]
            atomic_write_text(saved, json.dumps({"config": config.to_dict(), "dataset": dataset_paths,
                                                 "dataset_header": recorded_header, "init_from": self.init_from},
                                                indent=2) + "\n")

    def _load_initial_weights(self, folder: Union[str, Path]) -> Dict[str, Any]:
        """Copy a saved filter's weights into G; returns what the run records about them."""
        from faceedit.utils.files import weights_fingerprint

        start = Filter.load(folder, device=self.device)  # a folder, or a bundled filter's name
        wanted = self.config.architecture()
        if start.architecture not in (wanted, {k: v for k, v in wanted.items() if k != "skips"}):
            raise ValueError(f"{folder} is a {start.architecture} filter; this run builds {wanted}. Pass the same "
                             f"--ngf/--n-downsampling/--n-blocks/--generator (and --skips if it has them) to "
                             f"fine-tune it")
        weights = start.network.state_dict()
        if "skips" not in start.architecture and self.config.skips:
            # a filter without skips, continued with them: its weights, and the new skips at their zero start
            weights.update({k: v for k, v in self.G.state_dict().items() if ".skip." in f".{k}"})
        self.G.load_state_dict(weights, strict=True)
        return {"path": str(folder), "weights_fingerprint": weights_fingerprint(start.network),
                "training_steps": start.metadata.get("training_steps")}

    @property
    def uses_discriminator(self) -> bool:
        """Whether any generator loss needs D (else D is neither run nor trained: L1 and perceptual only)."""
        return bool(self.config.lambda_gan or self.config.lambda_fm)

    # ------------------------------------------------------------------ one step

    def _batch(self, step: int):
        from faceedit.training.data import batch_seed

        rng = np.random.RandomState(batch_seed(self.config.seed, step))
        index = rng.randint(0, self.num_train, size=self.config.batch_size)  # [B] over all ranks
        mirror = rng.rand(self.config.batch_size) < 0.5  # [B] drawn whether or not used: same stream either way
        per_rank = self.config.batch_size // self.world
        mine = slice(self.rank * per_rank, (self.rank + 1) * per_rank)
        a, b = (_float(x[torch.from_numpy(index[mine])]) for x in (self.A, self.B))  # [B/world, 3, R, R]
        if self.config.flip:
            flipped = torch.from_numpy(mirror[mine]).view(-1, 1, 1, 1)
            a, b = (torch.where(flipped, x.flip(-1), x) for x in (a, b))
        return a.to(self.device), b.to(self.device)

    def learning_rate(self, step: int) -> float:
        """The learning rate of both networks at ``step`` (constant, then linear decay to 0)."""
        return _learning_rate(self.config, step)

    def _check_schedule(self, saved: FilterTrainingConfig, done: int) -> None:
        """A resumed run may get more steps or a decay only where the steps already taken would have had the same
        learning rates: then it ends exactly as a run started with the new settings."""
        changed = [s for s in range(done) if _learning_rate(saved, s) != _learning_rate(self.config, s)]
        if changed:
            raise ValueError(f"{self.run_dir} is at step {done}, but steps={self.config.steps} with "
                             f"lr_decay_steps={self.config.lr_decay_steps} would have changed the learning rate "
                             f"from step {changed[0]} on; let the decay start at step {done} or later (steps - "
                             f"lr_decay_steps >= {done}), or use a new folder")

    def step(self) -> Dict[str, float]:
        cfg = self.config
        a, b = self._batch(self.state.step)
        lr = self.learning_rate(self.state.step)
        for group in (*self.opt_G.param_groups, *self.opt_D.param_groups):
            group["lr"] = lr
        n = len(a)
        autocast = nullcontext()
        if cfg.precision == "bf16" or (cfg.precision == "auto" and self.device.type == "cuda"):
            autocast = torch.autocast(self.device.type, dtype=torch.bfloat16)
        stats: Dict[str, float] = {}
        with autocast:
            fake = self.G_train(a)  # [B, 3, R, R]
        if self.uses_discriminator:
            with autocast:
                # D: filtered pairs down, real pairs up; one forward (DDP syncs once per backward).
                pairs = torch.cat([torch.cat([a, fake.detach()], dim=1), torch.cat([a, b], dim=1)])  # [2B, 6, R, R]
                d_out = self.D_train(pairs)
                d_fake = [[t[:n] for t in scale] for scale in d_out]
                d_real = [[t[n:].detach() for t in scale] for scale in d_out]
                loss_d = 0.5 * (lsgan_loss(d_fake, False) + lsgan_loss([[t[n:] for t in s] for s in d_out], True))
            self.opt_D.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_D.step()
        with autocast:
            loss_l1 = F.l1_loss(fake, b)
            stats["loss_l1"] = float(loss_l1.detach())
            if self.uses_discriminator:
                # G: through the plain D module; D's own gradients from this pass are never used.
                d_fake = self.D(torch.cat([a, fake], dim=1))
                loss_gan = lsgan_loss(d_fake, True)
                loss_fm = feature_matching_loss(d_fake, d_real)
                loss_g = cfg.lambda_gan * loss_gan + cfg.lambda_fm * loss_fm + cfg.lambda_l1 * loss_l1
                stats.update({name: float(value.detach()) for name, value in
                              (("loss_D", loss_d), ("loss_G_gan", loss_gan), ("loss_fm", loss_fm))})
            else:
                loss_g = cfg.lambda_l1 * loss_l1
            if self.perceptual is not None and cfg.lambda_lpips:
                loss_perceptual = self.perceptual(fake.float(), b).mean()
                loss_g = loss_g + cfg.lambda_lpips * loss_perceptual
                stats["loss_perceptual"] = float(loss_perceptual.detach())
        self.opt_G.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_G.step()
        self.state.step += 1
        self.state.nimg += cfg.batch_size
        return stats

    # ------------------------------------------------------------------ the loop

    def train(self, max_minutes: Optional[float] = None, max_steps: Optional[int] = None) -> Filter:
        from tqdm.auto import tqdm

        cfg = self.config
        start, first = time.monotonic(), self.state.step
        bar = tqdm(total=cfg.steps, initial=self.state.step, unit="step", desc="filter",
                   disable=not self.progress or self.rank != 0)
        pending: Dict[str, list] = {}
        try:
            while self.state.step < cfg.steps:
                if max_minutes is not None and time.monotonic() - start > max_minutes * 60:
                    break
                if max_steps is not None and self.state.step - first >= max_steps:
                    break
                t0 = time.monotonic()
                stats = self.step()
                self.state.train_seconds += time.monotonic() - t0
                for key, value in stats.items():
                    pending.setdefault(key, []).append(value)
                bar.update(1)
                if self.state.step % cfg.log_every == 0:
                    self._log(pending)
                    pending = {}
                    bar.set_postfix({"L1": f"{stats['loss_l1']:.4f}",
                                     **({"D": f"{stats['loss_D']:.3f}"} if "loss_D" in stats else {})})
                if self.state.step % cfg.sample_every == 0:
                    self.write_samples()
                if self.state.step % cfg.checkpoint_every == 0:
                    self.save()
        except KeyboardInterrupt:
            self.save()
            raise
        finally:
            bar.close()
        self.save()
        self.write_samples()
        return self.filter()

    def filter(self) -> Filter:
        """The current generator as a :class:`Filter` (sharing its weights)."""
        headers = self.headers
        # 'dataset': the first dataset's request (the edit the filter applies); 'datasets': all, when pooled
        pooled = {"datasets": [header.get("spec", {}) for header in headers]} if len(headers) > 1 else {}
        meta = dict(dataset=headers[0].get("spec", {}), **pooled, teacher=headers[0].get("generator_name"),
                    teacher_fingerprint=headers[0].get("generator_fingerprint"),
                    training_steps=self.state.step, training_seconds=round(self.state.train_seconds, 1),
                    training_config=self.config.to_dict(), init_from=self.init_from,
                    perceptual=self.config.perceptual if self.perceptual is not None else "none")
        return Filter(self.G, self.resolution, self.config.architecture(), meta)

    def save(self) -> Optional[Path]:
        from faceedit.training.checkpoint import save_checkpoint

        if self.rank != 0:
            return None

        def export(folder: Path) -> None:
            self.filter().save_pretrained(folder / "filter")
            self.G.train()

        path = save_checkpoint(self.run_dir, self.state, {"G": self.G, "D": self.D},
                               {"G": self.opt_G, "D": self.opt_D}, keep=2, export=export)
        self.plot_losses()
        return path

    def held_out(self):
        """The held-out pairs ``(A, B)`` as float tensors in [-1, 1]."""
        return _float(self.A[self.num_train:]), _float(self.B[self.num_train:])

    @torch.no_grad()
    def write_samples(self, count: int = 8) -> Optional[Path]:
        from faceedit.utils.images import images_from_tensor, make_grid, save_png

        if self.rank != 0:
            return None
        a, b = (x[:count] for x in self.held_out())
        was_training = self.G.training
        fake = self.G.eval()(a.to(self.device)).cpu()
        self.G.train(was_training)
        rows = torch.cat([a, fake, b])  # input | filter | teacher
        path = self.run_dir / "samples" / f"step-{self.state.step:07d}.png"
        return save_png(make_grid(images_from_tensor(rows), cols=len(a)), path)

    def _truncate_stats(self) -> None:
        """Drop log rows written after the checkpoint being resumed (they will be written again)."""
        from faceedit.utils.files import atomic_write_text

        path = self.run_dir / "stats.jsonl"
        if path.is_file():
            rows = [line for line in path.read_text().splitlines() if line.strip()]
            keep = [line for line in rows if json.loads(line)["step"] <= self.state.step]
            if len(keep) != len(rows):
                atomic_write_text(path, "".join(line + "\n" for line in keep))

    def _log(self, pending: Dict[str, list]) -> None:
        if self.rank != 0 or not pending:
            return
        record = {"step": self.state.step, "train_seconds": round(self.state.train_seconds, 2),
                  **{k: float(np.mean(v)) for k, v in pending.items()}}
        with open(self.run_dir / "stats.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def plot_losses(self) -> Optional[Path]:
        from faceedit.utils.plots import save_line_plot

        path = self.run_dir / "stats.jsonl"
        if not path.is_file():
            return None
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        rows = [r for r in rows if r["step"] <= self.state.step]
        if not rows:
            return None
        steps = [r["step"] for r in rows]
        series = {k: (steps, [r.get(k, float("nan")) for r in rows]) for k in rows[-1] if k.startswith("loss")}
        return save_line_plot(self.run_dir / "loss.png", series, title="filter losses", xlabel="step")


def _perceptual_distance(name: str, device: torch.device):
    """The perceptual distance a config names, or None ('none', or 'lpips' without cached weights)."""
    if name == "none":
        return None
    if name == "lpips":
        from faceedit.inversion.lpips import load_lpips

        return load_lpips(device=device)
    from faceedit.attributes import load_classifier
    from faceedit.attributes.perceptual import ClassifierFeatureDistance

    return ClassifierFeatureDistance(load_classifier(name, device=device))


def _dist_rank_world():
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
