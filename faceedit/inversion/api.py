"""One entry point from an aligned face to its latent: :func:`invert`, and files for the result.

Methods (``method=``):

* ``'encoder'`` — one forward pass of the model's latent encoder (instant preview);
* ``'w'`` / ``'w+'`` — projection from the mean latent;
* ``'encoder+w+'`` — projection into W+ starting from the encoder's guess (the default when the
  model has an encoder);
* ``'pti'`` — ``encoder+w+`` (or ``w+``) followed by pivotal tuning; the result carries a compact
  generator delta.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Optional, Union

import torch

from faceedit.errors import ModelMismatchError, ModelNotFoundError

__all__ = ["METHODS", "Inversion", "invert", "load_encoder_for", "save_inversion", "load_inversion"]

METHODS = ("encoder", "w", "w+", "encoder+w+", "pti")
LATENT_FORMAT = "faceedit-inversion"
LATENT_VERSION = 1


@dataclass
class Inversion:
    """The latent of one aligned face (and how it was found)."""

    ws: torch.Tensor  # [1, num_ws, w_dim]
    noise: Dict[str, torch.Tensor]  # layer -> [1, 1, R, R]; empty = the generator's constant noise
    method: str
    seconds: float  # wall-clock time it took (0 for a loaded latent file: files do not record it)
    delta: Optional[object] = None  # GeneratorDelta for 'pti'
    extra: Dict = field(default_factory=dict)

    def synthesis(self, G, ws: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Render ``ws`` (default: the inversion's own) with this inversion's noise and tuned weights."""
        ws = self.ws if ws is None else ws
        noise = {k: v.expand(ws.shape[0], -1, -1, -1) for k, v in self.noise.items()} or None
        with torch.no_grad():
            if self.delta is not None:
                return self.delta.synthesis(G, ws, noise_mode="const", noise=noise)
            return G.synthesis(ws, noise_mode="const", noise=noise)


def load_encoder_for(model: str, device: Union[str, torch.device, None] = None):
    """The latent encoder bundled for a model name (``faceedit/assets/MODEL-encoder``), or None.

    It is checked against the generator where it is used (``invert``, ``FaceEditor``), not here.
    """
    from faceedit.hub.registry import ASSETS_DIR
    from faceedit.inversion.encoder import LatentEncoder

    folder = ASSETS_DIR / f"{model}-encoder"
    if not (folder / "config.json").is_file():
        return None
    return LatentEncoder.from_pretrained(folder, device=device)


def invert(
    G,  # faceedit Generator
    image: torch.Tensor,  # [1, C, H, W] or [C, H, W] aligned face in [-1, 1] at G's resolution
    method: str = "encoder+w+",  # one of METHODS
    encoder=None,  # LatentEncoder for the encoder methods (required by them)
    steps: int = 300,  # projection steps
    pti_steps: int = 300,  # pivotal-tuning steps ('pti')
    seed: int = 0,
    frame_every: Optional[int] = None,  # keep projection video frames
    perceptual=None,  # perceptual distance for projection and tuning (e.g. LPIPS), None = pixel + MS-SSIM only
    progress: bool = True,  # show progress bars
    callback: Optional[Callable[[str, int, int], None]] = None,  # called with (stage, step, steps) after each step
    fingerprint: Optional[str] = None,  # G.fingerprint() when the caller has it (checks the encoder without rehashing)
) -> Inversion:
    """Find the latent of an aligned face with the chosen method.

    ``callback`` sees stage ``'projection'`` then, for ``'pti'``, ``'tuning'``; ``steps`` is the stage's
    planned length (projection may stop earlier when it converges). A UI turns it into a progress bar.

    Returns:
        :class:`Inversion`: ``ws [1, num_ws, w_dim]``, the noise maps, the PTI delta (``'pti'``), seconds
        and provenance (``extra``: projection steps, start, perceptual loss, video frames).

    Raises:
        ValueError: unknown method. ModelNotFoundError: an encoder method without an encoder.
        ModelMismatchError: the encoder was trained for another generator.

    Shape:
        ``image [1, C, H, W]`` -> ``ws [1, num_ws, w_dim]``.
    """
    from faceedit.inversion.projector import Projector
    from faceedit.inversion.pti import PivotalTuner

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    needs_encoder = method in ("encoder", "encoder+w+")
    if needs_encoder and encoder is None:
        raise ModelNotFoundError(f"method {method!r} needs a latent encoder for this generator and none was given; "
                                 f"use method 'w+' or train one with `faceedit train-encoder`")
    if encoder is not None:
        encoder.check_generator(G, fingerprint)
    start = time.monotonic()
    target = (image.unsqueeze(0) if image.ndim == 3 else image).to(G.device).float()
    w_init = None
    if encoder is not None and method in ("encoder", "encoder+w+", "pti"):
        with torch.no_grad():
            w_init = encoder.to(G.device)(target)  # [1, num_ws, w_dim]
    if method == "encoder":
        return Inversion(ws=w_init, noise={}, method=method, seconds=time.monotonic() - start)
    space = "w" if method == "w" else "w+"
    projection_callback = tuning_callback = None
    if callback is not None:
        def projection_callback(step, _loss):
            callback("projection", step + 1, steps)

        def tuning_callback(step, _loss):
            callback("tuning", step + 1, pti_steps)
    projection = Projector(space=space, steps=steps, seed=seed, frame_every=frame_every, perceptual=perceptual).project(
        G, target, w_init=w_init, progress=progress, callback=projection_callback)
    result = Inversion(ws=projection.ws, noise=projection.noise, method=method, seconds=0.0,
                       extra={"projection_steps": projection.steps, "frames": projection.frames,
                              "start": "encoder" if w_init is not None else "w_avg",
                              "perceptual": type(perceptual).__name__ if perceptual is not None else None})
    if method == "pti":
        tuner = PivotalTuner(steps=pti_steps, seed=seed, perceptual=perceptual)
        result.delta = tuner.tune(G, target, projection.ws, noise=projection.noise, progress=progress,
                                  callback=tuning_callback)
    result.seconds = time.monotonic() - start
    return result


def save_inversion(inversion: Inversion, path: Union[str, Path], G) -> Path:
    """Write ``PATH.safetensors`` (latents, noise) + ``PATH.json`` (+ ``PATH-delta.*`` for PTI); returns the JSON."""
    from faceedit.utils.tensor_files import pair_paths, write_tensor_pair

    path = pair_paths(path)[1].with_suffix("")
    delta_name = None
    if inversion.delta is not None:
        delta_name = path.name + "-delta"
        inversion.delta.save(path.with_name(delta_name))
    tensors = {"ws": inversion.ws, **{f"noise/{k}": v for k, v in inversion.noise.items()}}
    # no wall-clock time in the file: the same photo, settings and seed write the same bytes
    meta = dict(method=inversion.method, generator_fingerprint=G.fingerprint(),
                delta=delta_name, extra={k: v for k, v in inversion.extra.items() if k != "frames"})
    return write_tensor_pair(path, tensors, meta, LATENT_FORMAT, LATENT_VERSION)


def load_inversion(path: Union[str, Path], G) -> Inversion:
    """Read what :func:`save_inversion` wrote, refusing it for another generator."""
    from faceedit.inversion.pti import GeneratorDelta
    from faceedit.utils.tensor_files import pair_paths, read_tensor_pair

    meta, tensors = read_tensor_pair(path, LATENT_FORMAT, LATENT_VERSION, "inversion")
    path = pair_paths(path)[1].with_suffix("")
    if meta["generator_fingerprint"] != G.fingerprint():
        raise ModelMismatchError(f"{path} was inverted with another generator (weights "
                                 f"{meta['generator_fingerprint'][:12]}); invert the photo again with this one")
    noise = {k[len("noise/"):]: v.to(G.device) for k, v in tensors.items() if k.startswith("noise/")}
    delta = GeneratorDelta.load(path.with_name(meta["delta"]), generator=G) if meta.get("delta") else None
    return Inversion(ws=tensors["ws"].to(G.device), noise=noise, method=meta["method"], seconds=0.0,
                     delta=delta, extra=meta.get("extra", {}))
