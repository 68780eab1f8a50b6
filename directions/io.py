"""Direction files: ``NAME.safetensors`` (the vector) + ``NAME.json`` (what it is and where it came from).

The JSON records the generator's name and weight fingerprint, the space and layer range, the
method, the classifier, the sample count and the held-out score. Loading a direction for a
different generator raises :class:`~faceedit.errors.ModelMismatchError`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import torch

from faceedit.errors import CheckpointFormatError, ModelMismatchError
from faceedit.utils.files import atomic_write_bytes, atomic_write_text

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
    projection_std: float = 1.0  # std of W @ vector over the samples: one unit of edit strength
    conditioned_on: Tuple[str, ...] = ()  # attributes projected out
    extra: Dict[str, Any] = field(default_factory=dict)  # anything else worth keeping

    def check_generator(self, G) -> None:
        """Raise ModelMismatchError unless ``G`` is the generator this direction was fitted on."""
        if G.w_dim != len(self.vector):
            raise ModelMismatchError(f"the {self.attribute} direction has w_dim {len(self.vector)} but the generator "
                                     f"has {G.w_dim}; it was fitted on {self.generator_name}")
        if G.fingerprint() != self.generator_fingerprint:
            raise ModelMismatchError(f"the {self.attribute} direction was fitted on {self.generator_name} "
                                     f"(weights {self.generator_fingerprint[:12]}), not on this generator "
                                     f"(weights {G.fingerprint()[:12]}); fit it again with `faceedit directions fit`")


def _paths(path: Union[str, Path]) -> Tuple[Path, Path]:
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".json", ".safetensors") else path
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


def save_direction(direction: Direction, path: Union[str, Path]) -> Path:
    """Write ``PATH.safetensors`` and ``PATH.json`` atomically (the JSON last); returns the JSON path."""
    from safetensors.torch import save as safetensors_save

    weights, meta_path = _paths(path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    vector = torch.as_tensor(np.asarray(direction.vector, dtype=np.float32)).reshape(-1)
    atomic_write_bytes(weights, safetensors_save({"direction": vector.contiguous()}))
    meta = asdict(direction)
    meta.pop("vector")
    meta.update(format=DIRECTION_FORMAT, format_version=DIRECTION_VERSION, w_dim=int(vector.numel()))
    atomic_write_text(meta_path, json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta_path


def load_direction(path: Union[str, Path], generator=None) -> Direction:
    """Read a direction; with ``generator``, check it was fitted on that generator."""
    from safetensors.torch import load_file

    weights, meta_path = _paths(path)
    try:
        meta = json.loads(meta_path.read_text())
        vector = load_file(str(weights))["direction"].numpy().astype(np.float64)
    except FileNotFoundError as exc:
        raise CheckpointFormatError(f"direction file missing: {exc.filename}; a direction is a pair "
                                    f"NAME.safetensors + NAME.json") from None
    except Exception as exc:  # JSON or safetensors damage
        raise CheckpointFormatError(f"cannot read the direction {meta_path}: {exc}") from None
    if meta.get("format") != DIRECTION_FORMAT or int(meta.get("format_version", 0)) > DIRECTION_VERSION:
        raise CheckpointFormatError(f"{meta_path} is not a faceedit direction this version can read")
    if vector.shape != (meta.get("w_dim"),) or not np.isfinite(vector).all():
        raise CheckpointFormatError(f"{weights} does not hold a finite vector of length {meta.get('w_dim')}")
    fields = {k: v for k, v in meta.items() if k not in ("format", "format_version", "w_dim")}
    if fields.get("layers") is not None:
        fields["layers"] = tuple(fields["layers"])
    fields["conditioned_on"] = tuple(fields.get("conditioned_on", ()))
    direction = Direction(vector=vector, **fields)
    if generator is not None:
        direction.check_generator(generator)
    return direction
