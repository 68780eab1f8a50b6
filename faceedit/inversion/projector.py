"""Projection: find the latent (and noise) that makes the generator reproduce a target image.

Follows NVIDIA's ``projector.py`` (StyleGAN2-ADA): Adam on ``w`` plus per-layer noise maps,
learning rate with a short warm-up and a cosine ramp-down, Gaussian noise added to ``w`` early on
and ramped away, NVIDIA's noise regulariser and noise renormalisation after every step. On top:
W+ (one latent per layer, pulled towards their mean so the result stays editable), a batch of
images at once (each with its own latents and noise, optimised independently), pixel / MS-SSIM /
optional perceptual losses, early stopping, a seed for identical results, a progress bar, and
optional frames for a video of the optimisation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from faceedit.inversion.losses import ms_ssim, noise_regularization, normalize_noise_, pixel_loss

__all__ = ["Projector", "Projection", "w_statistics"]


@dataclass
class Projection:
    """What a projection found, for each of the N target images."""

    ws: torch.Tensor  # [N, num_ws, w_dim] latents (identical rows for space 'w')
    noise: Dict[str, torch.Tensor]  # layer name -> [N, 1, R, R] noise maps (empty if noise was not optimised)
    images: torch.Tensor  # [N, C, H, W] reconstructions
    losses: np.ndarray  # [steps, N] total loss at every step
    steps: int  # steps run (fewer than asked when it stopped early)
    seconds: float  # wall-clock time
    frames: List[np.ndarray] = field(default_factory=list)  # uint8 [H, W', 3] video frames, if asked for

    @property
    def w(self) -> torch.Tensor:
        """``[N, w_dim]``: the mean latent over layers (the latent itself for space 'w')."""
        return self.ws.mean(dim=1)


@torch.no_grad()
def w_statistics(G, samples: int = 10_000, seed: int = 0, batch: int = 1000):
    """Mean ``[w_dim]`` and scalar spread of W (root of the mean squared distance to the mean)."""
    rng = torch.Generator().manual_seed(seed)
    ws = [G.mapping(torch.randn(min(batch, samples - i), G.z_dim, generator=rng).to(G.device), None)[:, 0]
          for i in range(0, samples, batch)]
    w = torch.cat(ws).float()  # [S, w_dim]
    w_avg = w.mean(dim=0)
    w_std = float(((w - w_avg).square().sum(dim=1).mean()).sqrt())
    return w_avg, w_std


class Projector:
    """Projects images into a generator's W or W+ space.

    Example::

        projector = Projector(space="w+", steps=300)
        result = projector.project(G, target)          # target [N, 3, H, W] in [-1, 1]
        result.ws, result.images, result.losses
    """

    def __init__(
        self,
        space: str = "w+",  # 'w': one latent for all layers; 'w+': one per layer
        steps: int = 500,  # optimisation steps
        lr: float = 0.1,  # peak learning rate
        lr_rampup: float = 0.05,  # fraction of steps to warm the learning rate up
        lr_rampdown: float = 0.25,  # fraction of steps over which it falls to zero (cosine)
        w_noise: float = 0.05,  # Gaussian noise on w at the start, as a fraction of W's spread
        w_noise_ramp: float = 0.75,  # fraction of steps over which that noise fades (quadratically)
        optimize_noise: bool = True,  # optimise the per-layer noise maps too
        noise_weight: float = 1e3,  # weight of the noise regulariser
        w_plus_weight: float = 0.1,  # W+ only: pull of the per-layer latents towards their mean (in W's spread)
        pixel: str = "l2",  # pixel loss: 'l2' or 'l1'
        pixel_weight: float = 1.0,  # weight of the pixel loss
        ms_ssim_weight: float = 0.1,  # weight of 1 - MS-SSIM
        perceptual: Optional[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = None,  # e.g. LPIPS, -> [N]
        perceptual_weight: float = 1.0,  # weight of the perceptual loss (when given)
        early_stop_patience: Optional[int] = 50,  # stop once no image improved for this many steps, None = never
        early_stop_tol: float = 1e-4,  # relative improvement that counts
        w_avg_samples: int = 10_000,  # samples for W's mean and spread
        frame_every: Optional[int] = None,  # keep a video frame every this many steps, None = no video
        seed: int = 0,  # seed of the initial noise maps and the w noise
    ):
        if space not in ("w", "w+"):
            raise ValueError(f"space must be 'w' or 'w+', got {space!r}")
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}")
        if pixel not in ("l1", "l2"):
            raise ValueError(f"pixel must be 'l1' or 'l2', got {pixel!r}")
        self.space = space
        self.steps = steps
        self.lr = lr
        self.lr_rampup = lr_rampup
        self.lr_rampdown = lr_rampdown
        self.w_noise = w_noise
        self.w_noise_ramp = w_noise_ramp
        self.optimize_noise = optimize_noise
        self.noise_weight = noise_weight
        self.w_plus_weight = w_plus_weight
        self.pixel = pixel
        self.pixel_weight = pixel_weight
        self.ms_ssim_weight = ms_ssim_weight
        self.perceptual = perceptual
        self.perceptual_weight = perceptual_weight
        self.early_stop_patience = early_stop_patience
        self.early_stop_tol = early_stop_tol
        self.w_avg_samples = w_avg_samples
        self.frame_every = frame_every
        self.seed = seed

    def learning_rate(self, step: int) -> float:
        """NVIDIA's schedule: linear warm-up, flat, cosine ramp-down to zero."""
        t = step / self.steps
        ramp = min(1.0, (1.0 - t) / self.lr_rampdown) if self.lr_rampdown > 0 else 1.0
        ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
        if self.lr_rampup > 0:
            ramp *= min(1.0, t / self.lr_rampup)
        return self.lr * ramp

    def image_losses(self, synth: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Weighted reconstruction loss per image ``[N]`` (without the regularisers)."""
        loss = self.pixel_weight * pixel_loss(synth, target, self.pixel)
        if self.ms_ssim_weight:
            loss = loss + self.ms_ssim_weight * (1 - ms_ssim(synth, target))
        if self.perceptual is not None and self.perceptual_weight:
            loss = loss + self.perceptual_weight * self.perceptual(synth, target)
        return loss

    @torch.enable_grad()  # it optimises: a caller's no_grad (an inference script's) must not turn that off
    def project(
        self,
        G,  # faceedit Generator
        target: torch.Tensor,  # [N, C, H, W] images in [-1, 1] at the generator's resolution
        w_init: Optional[torch.Tensor] = None,  # [N, w_dim] or [N, num_ws, w_dim] start, None = W's mean
        progress: bool = True,  # show a progress bar
        callback: Optional[Callable[[int, torch.Tensor], None]] = None,  # called with (step, loss [N])
    ) -> Projection:
        """Optimise latents (and noise maps) until the generator renders the targets.

        Images in a batch are independent (each moves only its own latents and noise); they share only the
        step count, which early stopping ends when no image has improved for ``early_stop_patience`` steps.

        Returns:
            :class:`Projection`: ``ws [N, num_ws, w_dim]``, ``noise`` (layer -> ``[N, 1, R, R]``),
            ``images [N, C, H, W]``, ``losses [steps, N]``, ``steps``, ``seconds``, ``frames``.

        Raises:
            ValueError: the targets do not match the generator's channels and resolution.

        Shape:
            ``target [N, C, H, W]`` -> ``ws [N, num_ws, w_dim]``.
        """
        from tqdm.auto import tqdm

        start_time = time.monotonic()
        device = G.device
        target = self._check_target(G, target).to(device)
        n = target.shape[0]
        rng = torch.Generator(device="cpu").manual_seed(self.seed)
        w_avg, w_std = w_statistics(G, self.w_avg_samples, seed=self.seed)
        w_avg = w_avg.to(device)
        rows = G.num_ws if self.space == "w+" else 1
        if w_init is None:
            w_start = w_avg.expand(n, rows, -1)
        else:
            w_start = self._expand_init(G, w_init.to(device).float(), rows)
        w_opt = w_start.detach().clone().requires_grad_(True)  # [N, rows, w_dim]
        noise = {}
        if self.optimize_noise:
            noise = {name: torch.randn(n, 1, res, res, generator=rng).to(device).requires_grad_(True)
                     for name, res in G.synthesis.noise_layers().items()}
        optimizer = torch.optim.Adam([w_opt, *noise.values()], betas=(0.9, 0.999), lr=self.lr)
        was_training = G.training
        G.eval().requires_grad_(False)

        history, frames = [], []
        best = torch.full((n,), float("inf"), device=device)
        since_best = 0
        steps_done = 0
        try:
            for step in tqdm(range(self.steps), desc=f"projecting {n} image(s) into {self.space.upper()}",
                             disable=not progress, unit="step"):
                t = step / self.steps
                w_noise_scale = w_std * self.w_noise * max(0.0, 1.0 - t / self.w_noise_ramp) ** 2
                for group in optimizer.param_groups:
                    group["lr"] = self.learning_rate(step)
                w_noise = torch.randn(w_opt.shape, generator=rng).to(device) * w_noise_scale
                ws = (w_opt + w_noise).expand(-1, G.num_ws, -1) if rows == 1 else w_opt + w_noise
                synth = G.synthesis(ws, noise_mode="const", noise=noise or None)  # [N, C, H, W]
                loss = self.image_losses(synth, target)  # [N]
                if noise:
                    loss = loss + self.noise_weight * noise_regularization(noise.values())
                if rows > 1 and self.w_plus_weight:
                    spread = (w_opt - w_opt.mean(dim=1, keepdim=True)).square().sum(dim=2).mean(dim=1)  # [N]
                    loss = loss + self.w_plus_weight * spread / w_std**2
                optimizer.zero_grad(set_to_none=True)
                loss.sum().backward()  # images are independent: each only moves its own latents
                optimizer.step()
                if noise:
                    normalize_noise_(noise.values())
                steps_done = step + 1
                values = loss.detach()
                history.append(values.cpu().numpy())
                if callback is not None:
                    callback(step, values)
                if self.frame_every and step % self.frame_every == 0:
                    frames.append(_frame(synth.detach(), target))
                improved = values < best * (1 - self.early_stop_tol)
                best = torch.where(improved, values, best)
                since_best = 0 if bool(improved.any()) else since_best + 1
                if self.early_stop_patience is not None and since_best >= self.early_stop_patience:
                    break
        finally:
            G.train(was_training)
        with torch.no_grad():
            ws = w_opt.detach().expand(-1, G.num_ws, -1).clone() if rows == 1 else w_opt.detach().clone()
            final_noise = {k: v.detach().clone() for k, v in noise.items()}
            images = G.synthesis(ws, noise_mode="const", noise=final_noise or None)
        if self.frame_every:
            frames.append(_frame(images, target))
        return Projection(ws=ws, noise=final_noise, images=images, losses=np.stack(history), steps=steps_done,
                          seconds=time.monotonic() - start_time, frames=frames)

    @staticmethod
    def _check_target(G, target: torch.Tensor) -> torch.Tensor:
        expected = (G.img_channels, G.img_resolution, G.img_resolution)
        if target.ndim == 3:
            target = target.unsqueeze(0)
        if target.ndim != 4 or tuple(target.shape[1:]) != expected:
            raise ValueError(f"targets must be [N, {expected[0]}, {expected[1]}, {expected[2]}] at the generator's "
                             f"resolution, got {tuple(target.shape)}; align and resize photos first "
                             f"(faceedit.alignment.FaceAligner(output_size={G.img_resolution}))")
        if not torch.isfinite(target).all():
            raise ValueError("targets contain NaN or infinite values")
        return target.float()

    @staticmethod
    def _expand_init(G, w_init: torch.Tensor, rows: int) -> torch.Tensor:
        if w_init.ndim == 2:
            w_init = w_init.unsqueeze(1)
        if w_init.ndim != 3 or w_init.shape[2] != G.w_dim or w_init.shape[1] not in (1, G.num_ws):
            raise ValueError(f"w_init must be [N, {G.w_dim}] or [N, {G.num_ws}, {G.w_dim}], got "
                             f"{tuple(w_init.shape)}")
        if rows == 1:
            return w_init.mean(dim=1, keepdim=True)
        return w_init.expand(-1, G.num_ws, -1)


def _frame(synth: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """Target above, reconstruction below, images side by side: ``uint8 [2H, N W, 3]``."""
    from faceedit.utils.images import images_from_tensor

    top = np.concatenate(list(images_from_tensor(target)), axis=1)
    bottom = np.concatenate(list(images_from_tensor(synth)), axis=1)
    return np.concatenate([top, bottom], axis=0)
