"""Training data streams: batch ``k`` is a pure function of (seed, k), so a resumed run sees the same data."""

from __future__ import annotations

from typing import Optional, Union

import numpy as np
import torch

__all__ = ["SynthFacesStream", "batch_seed", "make_stream"]


def batch_seed(data_seed: int, index: int) -> int:
    """A well-mixed 31-bit seed for batch ``index`` of the stream seeded with ``data_seed``."""
    return int(np.random.SeedSequence([int(data_seed), int(index)]).generate_state(1)[0] & 0x7FFFFFFF)


class SynthFacesStream:
    """Endless procedural face portraits from :mod:`faceedit.synthfaces`, rendered on demand."""

    def __init__(
        self,
        resolution: int,  # image resolution
        data_seed: int = 0,  # seed of the stream
        device: Union[str, torch.device, None] = None,  # render on this device, None = CPU
    ):
        from faceedit.synthfaces import SynthFaces

        self.resolution = resolution
        self.data_seed = data_seed
        self.renderer = SynthFaces(resolution=resolution, device=device)

    def batch(self, index: int, batch_size: int) -> torch.Tensor:
        """Images ``[batch_size, 3, R, R]`` in [-1, 1] for batch number ``index``."""
        images, _ = self.renderer.sample(batch_size, seed=batch_seed(self.data_seed, index))
        return images


def make_stream(name: str, resolution: int, data_seed: int, device: Optional[torch.device] = None):
    """The data stream a :class:`~faceedit.training.config.TrainingConfig` names."""
    if name == "synthfaces":
        return SynthFacesStream(resolution, data_seed, device=device)
    raise ValueError(f"unknown data source {name!r}; the trainer streams 'synthfaces'")
