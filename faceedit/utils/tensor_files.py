"""Small artefacts as a file pair: ``NAME.safetensors`` (tensors) + ``NAME.json`` (what they are).

Directions, inversions and pivotal-tuning deltas use it. Both files are written atomically, the
JSON last, so a JSON always has its tensors; reading checks the format name and version and turns
every way a pair can be missing or damaged into :class:`~faceedit.errors.CheckpointFormatError`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple, Union

import torch

from faceedit.errors import CheckpointFormatError
from faceedit.utils.files import atomic_write_bytes, atomic_write_text

__all__ = ["pair_paths", "write_tensor_pair", "read_tensor_pair"]


def pair_paths(path: Union[str, Path]) -> Tuple[Path, Path]:
    """``(NAME.safetensors, NAME.json)`` for ``NAME``, ``NAME.json`` or ``NAME.safetensors``."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".json", ".safetensors") else path
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


def write_tensor_pair(path: Union[str, Path], tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any],
                      format_name: str, format_version: int) -> Path:
    """Write the pair (tensors as contiguous CPU float32 unless integer); returns the JSON path."""
    from safetensors.torch import save as safetensors_save

    weights, meta_path = pair_paths(path)
    prepared = {k: (v.detach().cpu().float() if v.is_floating_point() else v.detach().cpu()).contiguous()
                for k, v in tensors.items()}
    atomic_write_bytes(weights, safetensors_save(prepared))
    full = dict(meta, format=format_name, format_version=format_version)
    atomic_write_text(meta_path, json.dumps(full, indent=2, sort_keys=True) + "\n")
    return meta_path


def read_tensor_pair(path: Union[str, Path], format_name: str, format_version: int,
                     what: str) -> Tuple[Dict[str, Any], Dict[str, torch.Tensor]]:
    """Read and check a pair; returns ``(meta, tensors)``. ``what`` names it in messages ('direction')."""
    from safetensors.torch import load_file

    weights, meta_path = pair_paths(path)
    try:
        meta = json.loads(meta_path.read_text())
        tensors = load_file(str(weights))
    except FileNotFoundError as exc:
        raise CheckpointFormatError(f"{what} file missing: {exc.filename}; a {what} is a pair NAME.safetensors + "
                                    f"NAME.json") from None
    except Exception as exc:  # JSON or safetensors damage
        raise CheckpointFormatError(f"cannot read the {what} {meta_path}: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != format_name or \
            int(meta.get("format_version", 0)) > format_version:
        raise CheckpointFormatError(f"{meta_path} is not a faceedit {what} this version can read")
    return meta, tensors
