"""A fast image -> W+ encoder, trained on the generator's own samples (their latents are known).

One forward pass gives an instant preview and the projector's starting point. The network is a
plain residual CNN that halves the resolution down to 4x4 and predicts, for every W+ row, an offset
from the generator's mean latent. Training draws latents (with style mixing, so the encoder sees
W+ and not only W), renders them with random noise, and minimises the latent error (in units of
W's spread) plus a pixel + MS-SSIM reconstruction loss through the frozen generator. Training is
checkpointed in the project's format and resumes exactly.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch
import torch.nn.functional as F

from faceedit.errors import CheckpointFormatError, ModelMismatchError
from faceedit.inversion.losses import ms_ssim

__all__ = ["LatentEncoder", "train_encoder", "encode_images", "ENCODER_FORMAT"]

ENCODER_FORMAT = "faceedit-latent-encoder"
ENCODER_VERSION = 2  # 2: blocks widen after downsampling (version 1 encoders need retraining)


class _ResidualDown(torch.nn.Module):
    """A 3x3 convolution at the input's width, halve the resolution, a 3x3 convolution to the output width;
    plus a 1x1 shortcut. As StyleGAN2's discriminator blocks: widening only after the downsampling costs a
    quarter of the multiply-adds of convolving at full resolution with the output's width."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = torch.nn.Conv2d(in_channels, in_channels, 3, padding=1)
        self.conv1 = torch.nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.skip = torch.nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, C_in, R, R] -> [N, C_out, R/2, R/2]
        y = F.leaky_relu(self.conv0(x), 0.2)  # [N, C_in, R, R]
        y = F.leaky_relu(self.conv1(F.avg_pool2d(y, 2)), 0.2)  # [N, C_out, R/2, R/2]
        return (y + self.skip(F.avg_pool2d(x, 2))) * math.sqrt(0.5)


class LatentEncoder(torch.nn.Module):
    """Image ``[N, C, R, R]`` in [-1, 1] -> latents ``[N, num_ws, w_dim]`` (W+)."""

    def __init__(
        self,
        resolution: int,  # input resolution (the generator's), a power of two >= 8
        num_ws: int,  # W+ rows of the generator
        w_dim: int,  # latent width of the generator
        img_channels: int = 3,  # image channels
        channel_base: int = 2048,  # channels at resolution r: min(channel_base // r, channel_max)
        channel_max: int = 256,  # most channels in any block
        w_avg: Optional[torch.Tensor] = None,  # [w_dim] the generator's mean latent, None = zeros
        head_channels: Optional[int] = None,  # 1x1-reduce the 4x4 features to this many channels before the
        #                                       dense layers (most of the weights sit there), None = keep all
    ):
        super().__init__()
        if resolution < 8 or resolution & (resolution - 1):
            raise ValueError(f"resolution must be a power of two >= 8, got {resolution}")
        self.resolution, self.num_ws, self.w_dim, self.img_channels = resolution, num_ws, w_dim, img_channels
        self.channel_base, self.channel_max, self.head_channels = channel_base, channel_max, head_channels

        def channels(res: int) -> int:
            return min(channel_base // res, channel_max)

        self.stem = torch.nn.Conv2d(img_channels, channels(resolution), 3, padding=1)
        blocks, res = [], resolution
        while res > 4:
            blocks.append(_ResidualDown(channels(res), channels(res // 2)))
            res //= 2
        self.blocks = torch.nn.Sequential(*blocks)
        self.head = None if head_channels is None else torch.nn.Conv2d(channels(4), head_channels, 1)
        features = (channels(4) if head_channels is None else head_channels) * 16
        self.hidden = torch.nn.Linear(features, 4 * w_dim)
        self.out = torch.nn.Linear(4 * w_dim, num_ws * w_dim)
        with torch.no_grad():  # start at the mean latent for every image; training grows the offsets
            self.out.weight.zero_()
            self.out.bias.zero_()
        self.register_buffer("w_avg", torch.zeros(w_dim) if w_avg is None else w_avg.detach().float().clone())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.stem(images), 0.2)  # [N, C, R, R]
        x = self.blocks(x)  # [N, C4, 4, 4]
        if self.head is not None:
            x = F.leaky_relu(self.head(x), 0.2)  # [N, head_channels, 4, 4]
        x = x.flatten(1)  # [N, C * 16]
        x = F.leaky_relu(self.hidden(x), 0.2)  # [N, 4 w_dim]
        offsets = self.out(x).view(-1, self.num_ws, self.w_dim)  # [N, num_ws, w_dim]
        return self.w_avg + offsets

    def config(self) -> Dict[str, Any]:
        config = dict(resolution=self.resolution, num_ws=self.num_ws, w_dim=self.w_dim, img_channels=self.img_channels,
                      channel_base=self.channel_base, channel_max=self.channel_max)
        if self.head_channels is not None:  # left out otherwise: encoders saved before the option load unchanged
            config["head_channels"] = self.head_channels
        return config

    def check_generator(self, G, fingerprint: Optional[str] = None) -> None:
        """Raise ModelMismatchError unless ``G`` is the generator this encoder was trained for.

        The latents an encoder predicts only mean something to the generator it was trained on; an encoder
        without a recorded generator (built in code, never trained by ``train_encoder``) is checked by shape
        only. ``fingerprint``: ``G.fingerprint()`` when the caller already has it.
        """
        shape = (G.img_resolution, G.num_ws, G.w_dim, G.img_channels)
        if shape != (self.resolution, self.num_ws, self.w_dim, self.img_channels):
            raise ModelMismatchError(f"the latent encoder takes {self.resolution}x{self.resolution} images to "
                                     f"{self.num_ws} x {self.w_dim} latents, but the generator makes "
                                     f"{G.img_resolution}x{G.img_resolution} images from {G.num_ws} x {G.w_dim}; "
                                     f"train one for it with `faceedit train-encoder`")
        trained_for = getattr(self, "metadata", {}).get("generator")
        fingerprint = fingerprint or G.fingerprint()
        if trained_for is not None and trained_for != fingerprint:
            raise ModelMismatchError(f"the latent encoder was trained for other generator weights "
                                     f"({trained_for[:12]}, not {fingerprint[:12]}); train one for this generator "
                                     f"with `faceedit train-encoder`")

    def save_pretrained(self, directory: Union[str, Path], metadata: Optional[Dict[str, Any]] = None,
                        dtype: torch.dtype = torch.float32) -> Path:
        """Write ``config.json`` + ``model.safetensors`` (``dtype`` float16 halves the size)."""
        from faceedit.utils.model_folder import write_model_folder

        tensors = {k: v.to(dtype) if v.is_floating_point() else v for k, v in self.state_dict().items()}
        return write_model_folder(directory, tensors, {"format": ENCODER_FORMAT, "format_version": ENCODER_VERSION,
                                                       "model": self.config(), "metadata": dict(metadata or {})})

    @classmethod
    def from_pretrained(cls, directory: Union[str, Path], device: Union[str, torch.device, None] = None
                        ) -> "LatentEncoder":
        """Read a folder written by :meth:`save_pretrained` (``config.json`` + ``model.safetensors``).

        Raises:
            ModelNotFoundError: no such folder. CheckpointFormatError: not an encoder, or an older format
            (the message says to train it again).
        """
        from faceedit.utils.model_folder import read_model_folder

        config, state = read_model_folder(directory, ENCODER_FORMAT, ENCODER_VERSION, "latent encoder",
                                          "train one with `faceedit train-encoder`")
        if int(config.get("format_version", 0)) < ENCODER_VERSION:
            raise CheckpointFormatError(f"{directory} holds a latent encoder of format version "
                                        f"{config.get('format_version')}, whose blocks this faceedit no longer builds; "
                                        f"train it again with `faceedit train-encoder`")
        encoder = cls(**config["model"])
        encoder.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
        encoder.metadata = dict(config.get("metadata", {}))
        return encoder.to(device or "cpu").eval()


def _sample_ws(G, n: int, mixing_prob: float, generator: torch.Generator) -> torch.Tensor:
    """Latents for training: W samples, with a second latent mixed in from a random row (W+)."""
    z = torch.randn(n, G.z_dim, generator=generator).to(G.device)
    ws = G.mapping(z, None)  # [n, num_ws, w_dim]
    if mixing_prob > 0 and G.num_ws > 1:
        other = G.mapping(torch.randn(n, G.z_dim, generator=generator).to(G.device), None)
        cutoff = torch.randint(1, G.num_ws, (n, 1, 1), generator=generator).to(G.device)
        mix = (torch.rand(n, 1, 1, generator=generator) < mixing_prob).to(G.device)
        rows = torch.arange(G.num_ws, device=G.device).view(1, -1, 1)
        ws = torch.where(mix & (rows >= cutoff), other, ws)
    return ws


def train_encoder(
    G,  # faceedit Generator (frozen)
    run_dir: Union[str, Path],  # checkpoints go here; an existing run resumes
    steps: int = 2000,  # optimisation steps in total
    batch_size: int = 32,  # samples per step
    lr: float = 1e-3,  # Adam learning rate (cosine decay to 5 % of it)
    image_weight: float = 1.0,  # weight of the reconstruction loss (pixel L2 + 0.5 (1 - MS-SSIM))
    mixing_prob: float = 0.5,  # chance a training latent is a W+ mix of two
    seed: int = 0,  # seed of the encoder's weights and its training latents
    checkpoint_every: int = 200,  # steps between checkpoints
    encoder_kwargs: Optional[Dict[str, Any]] = None,  # LatentEncoder size options (channel_base, channel_max,
    #                                                   head_channels)
    max_minutes: Optional[float] = None,  # stop (with a checkpoint) after this long; run again to resume
    max_steps: Optional[int] = None,  # stop (with a checkpoint) after this many steps in this call
    progress: bool = True,
) -> LatentEncoder:
    """Train (or resume training) an encoder for ``G``; returns it with ``metadata`` about the run."""
    from tqdm.auto import tqdm

    from faceedit.inversion.projector import w_statistics
    from faceedit.training.checkpoint import TrainingState, latest_checkpoint, load_checkpoint, save_checkpoint
    from faceedit.training.data import batch_seed

    run_dir = Path(run_dir)
    torch.manual_seed(seed)
    w_avg, w_std = w_statistics(G, seed=seed)
    encoder = LatentEncoder(G.img_resolution, G.num_ws, G.w_dim, G.img_channels, w_avg=w_avg,
                            **(encoder_kwargs or {})).to(G.device)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=lr, betas=(0.9, 0.99))
    settings = dict(steps=steps, batch_size=batch_size, lr=lr, image_weight=image_weight, mixing_prob=mixing_prob,
                    seed=seed, encoder=encoder.config(), generator=G.fingerprint())
    state = TrainingState(step=0, nimg=0, train_seconds=0.0, config=settings)
    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is not None:
        state = load_checkpoint(checkpoint, {"E": encoder}, {"E": optimizer})
        fixed = {k: v for k, v in settings.items() if k != "steps"}
        if {k: state.config.get(k) for k in fixed} != fixed:
            raise ValueError(f"{run_dir} holds an encoder run with other settings or another generator; use a new "
                             f"folder (only --steps may change when resuming)")
        state.config = settings
    G.eval().requires_grad_(False)
    start, first_step = time.monotonic(), state.step

    def save() -> None:
        save_checkpoint(run_dir, state, {"E": encoder}, {"E": optimizer}, keep=2,
                        export=lambda folder: encoder.save_pretrained(folder / "encoder", metadata=_meta(state)))

    bar = tqdm(total=steps, initial=state.step, desc="encoder", unit="step", disable=not progress)
    try:
        while state.step < steps:
            if max_minutes is not None and time.monotonic() - start > max_minutes * 60:
                break
            if max_steps is not None and state.step - first_step >= max_steps:
                break
            t0 = time.monotonic()
            for group in optimizer.param_groups:
                group["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * state.step / steps)))
            rng = torch.Generator().manual_seed(batch_seed(seed, state.step))  # step k's batch, resumed or not
            with torch.no_grad():
                ws = _sample_ws(G, batch_size, mixing_prob, rng)  # [B, num_ws, w_dim]
                images = G.synthesis(ws, noise_mode="random")  # [B, C, R, R]
            pred = encoder(images)
            loss = (pred - ws).square().mean() / (w_std**2 / G.w_dim)  # per-element error in units of W's spread
            if image_weight:
                recon = G.synthesis(pred, noise_mode="const")
                recon_loss = (recon - images).square().mean() + 0.5 * (1 - ms_ssim(recon, images)).mean()
                loss = loss + image_weight * recon_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            state.step += 1
            state.nimg += batch_size
            state.train_seconds += time.monotonic() - t0
            bar.update(1)
            bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
            if state.step % checkpoint_every == 0:
                save()
    except KeyboardInterrupt:
        save()
        raise
    finally:
        bar.close()
    save()
    encoder.metadata = _meta(state)
    return encoder.eval()


def _meta(state) -> Dict[str, Any]:
    return {"training_steps": state.step, "training_images": state.nimg,
            "training_seconds": round(state.train_seconds, 1), **{k: v for k, v in state.config.items()
                                                                   if k != "encoder"}}


def encode_images(encoder: LatentEncoder, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Encode ``[N, C, R, R]`` images in batches without gradients; ``[N, num_ws, w_dim]``."""
    with torch.no_grad():
        return torch.cat([encoder(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])

