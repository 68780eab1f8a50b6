"""Direction files: ``NAME.safetensors`` (the vector) + ``NAME.json`` (what it is and where it came from).

The JSON records the generator's name and weight fingerprint, the space and layer range, the
method, the classifier, the sample count and the held-out score. Loading a direction for a
different generator raises :class:`~faceedit.errors.ModelMismatchError`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import torch

from faceedit.errors import CheckpointFormatError, ModelMismatchError
from faceedit.utils.tensor_files import read_tensor_pair, write_tensor_pair

__all__ = ["Direction", "save_direction", "load_direction", "DIRECTION_FORMAT"]

DIRECTION_FORMAT = "faceedit-direction"
DIRECTION_VERSION = 1


@dataclass
class Direction:
    """A unit direction in a generator's W space, with its provenance."""

    vector: np.ndarray  # [w_dim] unit vector
    attribute: str  # what it changes, e.g. 'age'
    generator_name: str  # e.g. 'synthfaces-64'
    generator_fingerprint: str  # Generator.fingerprint() of the generator it was fitted on
    space: str = "W"  # latent space the vector lives in
    layers: Optional[Tuple[int, int]] = None  # W+ rows it is meant for, None = all
    method: str = ""  # DirectionEstimator method
    classifier: str = ""  # classifier that labelled the samples
    n_samples: int = 0  # samples used for fitting
    score: Optional[float] = None  # held-out accuracy or R^2
    projection_std: float = 1.0  # std of W @ vector over the samples
    layer_gain: float = 1.0  # a unit on the chosen rows is this many projection_std long, so it moves the
    #                          attribute as much as a unit on every row (directions.choose_layers measures it)
    conditioned_on: Tuple[str, ...] = ()  # attributes projected out
    extra: Dict[str, Any] = field(default_factory=dict)  # anything else worth keeping

    @property
    def unit(self) -> float:
        """W length of one unit of edit strength (what ``alpha = 1`` moves along ``vector``)."""
        return self.projection_std * self.layer_gain

    def unit_for(self, layers: Optional[Tuple[int, int]]) -> float:
        """W length of one unit when editing ``layers``: :attr:`unit` on the direction's own rows, the plain
        ``projection_std`` on any others (the gain was measured for the direction's rows only)."""
        own = None if self.layers is None else tuple(self.layers)
        return self.unit if (None if layers is None else tuple(layers)) == own else self.projection_std

    def check_generator(self, G, fingerprint: Optional[str] = None) -> None:
        """Raise ModelMismatchError unless ``G`` is the generator this direction was fitted on.

        ``fingerprint``: ``G.fingerprint()`` when the caller already has it (hashing a large generator's
        weights takes a while; checking many directions needs it only once).
        """
        if G.w_dim != len(self.vector):
            raise ModelMismatchError(f"the {self.attribute} direction has w_dim {len(self.vector)} but the generator "
                                     f"has {G.w_dim}; it was fitted on {self.generator_name}")
        fingerprint = fingerprint or G.fingerprint()
        if fingerprint != self.generator_fingerprint:
            raise ModelMismatchError(f"the {self.attribute} direction was fitted on {self.generator_name} "
                                     f"(weights {self.generator_fingerprint[:12]}), not on this generator "
                                     f"(weights {fingerprint[:12]}); fit it again with `faceedit directions fit`")


def save_direction(direction: Direction, path: Union[str, Path]) -> Path:
    """Write ``PATH.safetensors`` and ``PATH.json`` atomically (the JSON last); returns the JSON path."""
    vector = torch.as_tensor(np.asarray(direction.vector, dtype=np.float32)).reshape(-1)
    meta = asdict(direction)
    meta.pop("vector")
    meta["w_dim"] = int(vector.numel())
    return write_tensor_pair(path, {"direction": vector}, meta, DIRECTION_FORMAT, DIRECTION_VERSION)


def load_direction(path: Union[str, Path], generator=None) -> Direction:
    """Read a direction; with ``generator``, check it was fitted on that generator."""
    meta, tensors = read_tensor_pair(path, DIRECTION_FORMAT, DIRECTION_VERSION, "direction")
    vector = tensors.get("direction", torch.zeros(0)).numpy().astype(np.float64)
    if vector.shape != (meta.get("w_dim"),) or not np.isfinite(vector).all():
        raise CheckpointFormatError(f"{path} does not hold a finite vector of length {meta.get('w_dim')}")
    fields = {k: v for k, v in meta.items() if k not in ("format", "format_version", "w_dim")}
    if fields.get("layers") is not None:
        fields["layers"] = tuple(fields["layers"])
    fields["conditioned_on"] = tuple(fields.get("conditioned_on", ()))
    direction = Direction(vector=vector, **fields)
    if generator is not None:
        direction.check_generator(generator)
    return direction
