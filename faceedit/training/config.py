"""Hyperparameters of a StyleGAN2 training run, saved with every checkpoint.

Defaults follow NVIDIA's StyleGAN2-ADA ``auto`` configuration where it applies (Adam with
betas (0, 0.99), lr 0.0025, R1 every 16 steps with gamma = 0.0002 * res**2 / batch, EMA
half-life of batch * 10 / 32 kimg with a 5 % ramp-up, style mixing with probability 0.9).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Dict, Mapping

__all__ = ["TrainingConfig", "PRESETS", "PRECISIONS", "preset"]

PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides what a training run computes (not where or how long it runs)."""

    # Data.
    data: str = "synthfaces"  # data source; 'synthfaces' streams the procedural renderer
    resolution: int = 64  # image resolution, a power of two >= 8
    data_seed: int = 0  # seed of the data stream; batch k is rendered from (data_seed, k)
    # Networks.
    z_dim: int = 128  # input latent width
    w_dim: int = 128  # intermediate latent width
    mapping_layers: int = 4  # dense layers in the mapping network
    channel_base: int = 2048  # channels at resolution r are min(channel_base // r, channel_max), G and D
    channel_max: int = 64  # maximum channels per layer, G and D
    architecture_g: str = "skip"  # synthesis architecture: 'orig', 'skip' or 'resnet'
    architecture_d: str = "resnet"  # discriminator architecture: 'orig', 'skip' or 'resnet'
    mbstd_group_size: int = 4  # minibatch-std group size (batch_size must be a multiple)
    # Optimisation.
    batch_size: int = 16  # images per step
    g_lr: float = 0.0025  # generator learning rate
    d_lr: float = 0.0025  # discriminator learning rate
    adam_beta1: float = 0.0  # Adam beta1
    adam_beta2: float = 0.99  # Adam beta2
    r1_gamma: float = -1.0  # R1 weight; negative = NVIDIA's heuristic 0.0002 * resolution**2 / batch_size
    r1_interval: int = 16  # lazy regularisation: R1 every this many steps, 0 = no R1
    style_mixing_prob: float = 0.9  # probability of mixing two latents at a random layer
    ema_kimg: float = -1.0  # EMA half-life in thousands of images; negative = batch_size * 10 / 32
    ema_rampup: float = 0.05  # EMA half-life at most this fraction of the images seen so far, 0 = no ramp-up
    seed: int = 0  # seed of weights, latents and noise
    precision: str = "fp32"  # 'fp32', or 'bf16': G and D forward passes under bfloat16 autocast (weights, losses
    # and R1 stay float32); about 2x faster convolutions on CPUs with AVX512-BF16/AMX and on recent GPUs
    # Monitoring.
    total_kimg: float = 1000.0  # stop after this many thousand images
    snapshot_kimg: float = 10.0  # checkpoint every this many thousand images
    sample_kimg: float = 10.0  # write a sample grid every this many thousand images
    log_steps: int = 20  # record losses every this many steps
    keep_checkpoints: int = 3  # keep this many most recent checkpoints
    grid_size: int = 8  # sample grids are grid_size x grid_size images

    def __post_init__(self) -> None:
        log2 = int(math.log2(self.resolution)) if self.resolution > 0 else 0
        if self.resolution < 8 or 2**log2 != self.resolution:
            raise ValueError(f"resolution must be a power of two >= 8, got {self.resolution}")
        if self.batch_size < 1 or self.batch_size % min(self.mbstd_group_size, self.batch_size):
            raise ValueError(f"batch_size must be a positive multiple of mbstd_group_size "
                             f"({self.mbstd_group_size}), got {self.batch_size}")
        for name in ("z_dim", "w_dim", "mapping_layers", "channel_base", "channel_max", "log_steps",
                     "keep_checkpoints", "grid_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.r1_interval < 0:
            raise ValueError(f"r1_interval must be >= 0, got {self.r1_interval}")
        if not 0 <= self.style_mixing_prob <= 1:
            raise ValueError(f"style_mixing_prob must be in [0, 1], got {self.style_mixing_prob}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        for name in ("total_kimg", "snapshot_kimg", "sample_kimg"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")

    # Resolved heuristics ------------------------------------------------------------------

    @property
    def r1_weight(self) -> float:
        return 0.0002 * self.resolution**2 / self.batch_size if self.r1_gamma < 0 else self.r1_gamma

    @property
    def ema_half_life_kimg(self) -> float:
        return self.batch_size * 10 / 32 if self.ema_kimg < 0 else self.ema_kimg

    def generator_kwargs(self) -> Dict[str, Any]:
        return dict(z_dim=self.z_dim, c_dim=0, w_dim=self.w_dim, img_resolution=self.resolution, img_channels=3,
                    mapping_kwargs=dict(num_layers=self.mapping_layers),
                    synthesis_kwargs=dict(channel_base=self.channel_base, channel_max=self.channel_max,
                                          architecture=self.architecture_g))

    def discriminator_kwargs(self) -> Dict[str, Any]:
        return dict(c_dim=0, img_resolution=self.resolution, img_channels=3, architecture=self.architecture_d,
                    channel_base=self.channel_base, channel_max=self.channel_max,
                    mbstd_group_size=self.mbstd_group_size)

    # Serialisation ---------------------------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrainingConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training options {unknown}; known options: {sorted(known)}")
        return cls(**dict(values))

    def replace(self, **changes: Any) -> "TrainingConfig":
        return dataclasses.replace(self, **changes)

    # Options that may change when a run is resumed: they do not change what a step computes, or (precision)
    # only its rounding, so a long CPU run can switch to bf16 when it moves to faster hardware.
    RESUMABLE_CHANGES = ("total_kimg", "snapshot_kimg", "sample_kimg", "log_steps", "keep_checkpoints", "precision")


PRESETS: Dict[str, TrainingConfig] = {
    # The bundled model: about 0.46 M generator parameters, ~30 images/s on 2 CPU cores.
    "synthfaces-64": TrainingConfig(),
    # A few-second configuration for tests and smoke runs.
    "tiny": TrainingConfig(resolution=16, z_dim=16, w_dim=16, mapping_layers=2, channel_base=128, channel_max=16,
                           batch_size=4, total_kimg=0.016, snapshot_kimg=0.008, sample_kimg=0.008, log_steps=1,
                           grid_size=2, r1_interval=2),
}


def preset(name: str) -> TrainingConfig:
    """A named configuration (``faceedit train --preset``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
