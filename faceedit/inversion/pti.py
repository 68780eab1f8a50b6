"""Pivotal tuning (PTI, Roich et al. 2021) stored as a compact low-rank weight delta.

After projection gives a pivot latent, the generator itself is fine-tuned so that the pivot
reproduces the photo exactly, while a locality regulariser keeps the generator unchanged for
latents around the pivot — so edits along directions still behave. Instead of a full copy of the
network per photo, the change is a low-rank update ``W + B @ A`` of every synthesis convolution
(LoRA-style; ``A`` starts random, ``B`` at zero, so tuning starts from the original generator),
plus per-layer bias changes: a few hundred kB at 64x64 rather than the whole model.

    delta = PivotalTuner(steps=300).tune(G, target, pivot_ws)
    images = delta.synthesis(G, ws)                 # the tuned generator, without copying it
    delta.save("photo-delta")                       # .safetensors + .json, checked against G on load
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import torch

from faceedit.errors import ModelMismatchError
from faceedit.inversion.losses import ms_ssim, pixel_loss

__all__ = ["GeneratorDelta", "PivotalTuner", "tunable_layers"]

DELTA_FORMAT = "faceedit-generator-delta"
DELTA_VERSION = 1


def tunable_layers(G) -> List[str]:
    """Names (in ``G.synthesis``) of the convolution weights pivotal tuning adapts."""
    return [name for name, p in G.synthesis.named_parameters() if name.endswith(".weight") and p.ndim == 4]


@dataclass
class GeneratorDelta:
    """Low-rank changes to a generator's synthesis weights: ``W + up @ down`` and ``b + bias``."""

    down: Dict[str, torch.Tensor]  # layer -> [rank, in * k * k]
    up: Dict[str, torch.Tensor]  # layer -> [out, rank]
    bias: Dict[str, torch.Tensor]  # bias name -> [out] change
    generator_fingerprint: str  # Generator.fingerprint() of the generator it modifies
    rank: int
    extra: Dict = field(default_factory=dict)  # provenance saved with it: steps, losses, settings
    seconds: float = 0.0  # tuning wall-clock time; not saved (the same seed writes the same bytes)

    @classmethod
    def identity(cls, G, rank: int = 8, generator: Optional[torch.Generator] = None) -> "GeneratorDelta":
        """A delta that changes nothing yet (``up`` and ``bias`` zero), shaped for ``G``: where tuning starts,
        and how large a delta of this rank is for any architecture.

        Args:
            G: the generator it will modify.
            rank: rank of each convolution's update.
            generator: random numbers for ``down`` (PTI's LoRA-style start); None = torch's global generator.
        """
        params = dict(G.synthesis.named_parameters())
        device = G.device
        down, up, bias = {}, {}, {}
        for name in tunable_layers(G):
            weight = params[name]  # [out, in, k, k]
            fan_in = weight[0].numel()
            down[name] = (torch.randn(rank, fan_in, generator=generator) / fan_in**0.5).to(device)  # [rank, in*k*k]
            up[name] = torch.zeros(weight.shape[0], rank, device=device)  # [out, rank]
        for name, p in params.items():
            if name.endswith(".bias") and p.ndim == 1 and name.rsplit(".", 2)[-2] in ("conv0", "conv1", "torgb"):
                bias[name] = torch.zeros_like(p.detach())
        return cls(down=down, up=up, bias=bias, generator_fingerprint=G.fingerprint(), rank=rank)

    def num_values(self) -> int:
        return sum(t.numel() for group in (self.down, self.up, self.bias) for t in group.values())

    def check_generator(self, G) -> None:
        if G.fingerprint() != self.generator_fingerprint:
            raise ModelMismatchError(f"this pivotal-tuning delta was made for generator weights "
                                     f"{self.generator_fingerprint[:12]}, not {G.fingerprint()[:12]}; tune again "
                                     f"for this generator")

    def overrides(self, G) -> Dict[str, torch.Tensor]:
        """The tuned tensors of ``G.synthesis`` (differentiable in the delta's tensors)."""
        params = dict(G.synthesis.named_parameters())
        out = {}
        for name, down in self.down.items():
            weight = params[name]
            change = (self.up[name].to(weight.device) @ down.to(weight.device)).view_as(weight)  # [out, in, k, k]
            out[name] = weight + change
        for name, change in self.bias.items():
            out[name] = params[name] + change.to(params[name].device)
        return out

    def synthesis(self, G, ws: torch.Tensor, **kwargs) -> torch.Tensor:
        """``G.synthesis(ws, **kwargs)`` with the tuned weights, without modifying or copying ``G``."""
        from torch.func import functional_call

        return functional_call(G.synthesis, self.overrides(G), (ws,), kwargs)  # other tensors: G's own

    def save(self, path: Union[str, Path]) -> Path:
        """Write ``PATH.safetensors`` + ``PATH.json`` atomically; returns the JSON path."""
        from faceedit.utils.tensor_files import write_tensor_pair

        tensors = {**{f"down/{k}": v for k, v in self.down.items()}, **{f"up/{k}": v for k, v in self.up.items()},
                   **{f"bias/{k}": v for k, v in self.bias.items()}}
        meta = dict(generator_fingerprint=self.generator_fingerprint, rank=self.rank, values=self.num_values(),
                    extra=self.extra)
        return write_tensor_pair(path, tensors, meta, DELTA_FORMAT, DELTA_VERSION)

    @classmethod
    def load(cls, path: Union[str, Path], generator=None) -> "GeneratorDelta":
        """Read what :meth:`save` wrote; with ``generator``, refuse it for any other generator.

        Raises:
            CheckpointFormatError: not a delta file. ModelMismatchError: made for another generator.
        """
        from faceedit.utils.tensor_files import read_tensor_pair

        meta, tensors = read_tensor_pair(path, DELTA_FORMAT, DELTA_VERSION, "pivotal-tuning delta")
        groups: Dict[str, Dict[str, torch.Tensor]] = {"down": {}, "up": {}, "bias": {}}
        for key, value in tensors.items():
            group, _, name = key.partition("/")
            groups[group][name] = value
        delta = cls(down=groups["down"], up=groups["up"], bias=groups["bias"],
                    generator_fingerprint=meta["generator_fingerprint"], rank=int(meta["rank"]),
                    extra=dict(meta.get("extra", {})))
        if generator is not None:
            delta.check_generator(generator)
        return delta


class PivotalTuner:
    """Fine-tune a generator around a pivot latent, as a low-rank delta."""

    def __init__(
        self,
        steps: int = 300,  # optimisation steps
        lr: float = 1e-2,  # Adam learning rate of the delta
        rank: int = 8,  # rank of each convolution's update
        pixel: str = "l2",  # pixel loss: 'l2' or 'l1'
        ms_ssim_weight: float = 0.1,  # weight of 1 - MS-SSIM
        perceptual=None,  # optional perceptual distance (a, b) -> [N], e.g. LPIPS
        perceptual_weight: float = 1.0,
        locality_weight: float = 0.1,  # weight of the locality regulariser (PTI's lambda_R)
        locality_radius: Optional[float] = None,  # distance of the regulariser's latents from the pivot in W,
        # None = W's spread (root mean squared distance of w from its mean); PTI used 30 on FFHQ
        locality_samples: int = 4,  # latents per regulariser step
        locality_every: int = 1,  # regulariser every this many steps (PTI: 10 on GPUs; cheap here)
        seed: int = 0,
    ):
        if rank < 1:
            raise ValueError(f"rank must be at least 1, got {rank}")
        self.steps, self.lr, self.rank = steps, lr, rank
        self.pixel, self.ms_ssim_weight = pixel, ms_ssim_weight
        self.perceptual, self.perceptual_weight = perceptual, perceptual_weight
        self.locality_weight, self.locality_radius = locality_weight, locality_radius
        self.locality_samples, self.locality_every = locality_samples, locality_every
        self.seed = seed

    def _reconstruction(self, synth: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = pixel_loss(synth, target, self.pixel)
        if self.ms_ssim_weight:
            loss = loss + self.ms_ssim_weight * (1 - ms_ssim(synth, target))
        if self.perceptual is not None and self.perceptual_weight:
            loss = loss + self.perceptual_weight * self.perceptual(synth, target)
        return loss.mean()

    def tune(
        self,
        G,  # faceedit Generator (left unchanged)
        target: torch.Tensor,  # [1, C, H, W] or [C, H, W] in [-1, 1]
        pivot_ws: torch.Tensor,  # [1, num_ws, w_dim] from projection or the encoder
        noise: Optional[Dict[str, torch.Tensor]] = None,  # the projection's noise maps, None = G's constant noise
        progress: bool = True,  # show a progress bar
        callback: Optional[Callable[[int, float], None]] = None,  # called with (step, reconstruction loss)
    ) -> GeneratorDelta:
        """Fit a low-rank delta so that ``G + delta`` renders the target at the pivot, while latents around
        the pivot (at ``locality_radius``) keep rendering what ``G`` renders (PTI's locality regulariser).

        Returns:
            The delta (``G`` itself is not changed): ``delta.synthesis(G, ws)`` renders with it,
            ``delta.save(path)`` stores it (kilobytes, not a copy of the network).

        Raises:
            ValueError: more than one target or pivot.

        Shape:
            ``target [1, C, H, W]``, ``pivot_ws [1, num_ws, w_dim]``.
        """
        from tqdm.auto import tqdm

        start = time.monotonic()
        device = G.device
        target = (target.unsqueeze(0) if target.ndim == 3 else target).to(device).float()
        pivot_ws = (pivot_ws.unsqueeze(0) if pivot_ws.ndim == 2 else pivot_ws).to(device).float()
        if target.shape[0] != 1 or pivot_ws.shape[0] != 1:
            raise ValueError("pivotal tuning adapts the generator to one image at a time; pass one target and one "
                             "pivot (loop over a batch)")
        rng = torch.Generator().manual_seed(self.seed)
        radius = self.locality_radius
        if radius is None and self.locality_weight:
            from faceedit.inversion.projector import w_statistics

            radius = w_statistics(G, samples=2000, seed=self.seed)[1]
        delta = GeneratorDelta.identity(G, self.rank, rng)
        down, up, bias = delta.down, delta.up, delta.bias
        for group in (down, up, bias):
            for tensor in group.values():
                tensor.requires_grad_(True)
        optimizer = torch.optim.Adam([*down.values(), *up.values(), *bias.values()], lr=self.lr)
        was_training = G.training
        G.eval().requires_grad_(False)
        kwargs = dict(noise_mode="const", noise=noise)
        history: List[Tuple[float, float]] = []
        try:
            for step in tqdm(range(self.steps), desc="pivotal tuning", unit="step", disable=not progress):
                synth = delta.synthesis(G, pivot_ws, **kwargs)
                rec = self._reconstruction(synth, target)
                loss, loc = rec, torch.zeros((), device=device)
                if self.locality_weight and step % self.locality_every == 0:
                    with torch.no_grad():
                        z = torch.randn(self.locality_samples, G.z_dim, generator=rng).to(device)
                        w_z = G.mapping(z, None)  # [S, num_ws, w_dim]
                        direction = w_z - pivot_ws
                        w_r = pivot_ws + radius * direction / direction.norm(dim=2, keepdim=True)
                        before = G.synthesis(w_r, noise_mode="const")
                    after = delta.synthesis(G, w_r, noise_mode="const")
                    loc = self._reconstruction(after, before)
                    loss = loss + self.locality_weight * loc
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                history.append((float(rec.detach()), float(loc.detach())))
                if callback is not None:
                    callback(step, history[-1][0])
        finally:
            G.train(was_training)
        for group in (down, up, bias):
            for key in group:
                group[key] = group[key].detach()
        losses = np.array(history)
        delta.seconds = time.monotonic() - start
        delta.extra = dict(steps=self.steps, lr=self.lr,
                           locality_weight=self.locality_weight, locality_radius=radius,
                           final_reconstruction_loss=float(losses[-1, 0]), final_locality_loss=float(losses[-1, 1]))
        return delta
