"""The project's model folder: ``config.json`` + ``model.safetensors``, written atomically, hash-checked.

Every network faceedit saves (generators, classifiers) uses this layout: the weights are written
first, then the config, which records the weights' SHA-256. A folder with a config therefore
always has matching weights, and a replaced or damaged weights file is caught on load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple, Union

import torch

from faceedit.errors import CheckpointFormatError, ModelNotFoundError
from faceedit.utils.files import atomic_write_bytes, atomic_write_text, sha256_file

__all__ = ["CONFIG_NAME", "WEIGHTS_NAME", "write_model_folder", "read_model_folder"]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


def write_model_folder(directory: Union[str, Path], tensors: Mapping[str, torch.Tensor],
                       config: Mapping[str, Any]) -> Path:
    """Write ``tensors`` and ``config`` (plus ``weights_sha256``) to ``directory``, config last.

    ``config`` must hold ``format`` and ``format_version``; everything in it must be JSON-serialisable.
    """
    from safetensors.torch import save as safetensors_save

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    blob = safetensors_save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, metadata={"format": "pt"})
    atomic_write_bytes(directory / WEIGHTS_NAME, blob)
    full = dict(config, weights_sha256=sha256_file(directory / WEIGHTS_NAME))
    atomic_write_text(directory / CONFIG_NAME, json.dumps(full, indent=2, sort_keys=True) + "\n")
    return directory


def read_model_folder(
    directory: Union[str, Path],
    format_name: str,  # expected value of config['format']
    format_version: int,  # newest format version this code reads
    what: str,  # what the folder holds, for messages ('generator', 'attribute classifier')
    how_to_make: str,  # how a user re-creates the folder, for messages
    verify_hash: bool = True,  # check the weights against the SHA-256 in config.json
) -> Tuple[Dict[str, Any], Dict[str, torch.Tensor]]:
    """Read and check a model folder; returns ``(config, state_dict)``.

    Raises:
        ModelNotFoundError: no ``config.json`` in the folder.
        CheckpointFormatError: wrong format or version, missing or damaged weights, hash mismatch.
    """
    from safetensors.torch import load_file

    directory = Path(directory)
    config_path = directory / CONFIG_NAME
    weights_path = directory / WEIGHTS_NAME
    if not config_path.is_file():
        raise ModelNotFoundError(f"{directory} has no {CONFIG_NAME}; expected a {what} folder ({how_to_make})")
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointFormatError(f"{config_path} is not valid JSON ({exc}); re-create the folder "
                                    f"({how_to_make})") from None
    if not isinstance(config, dict) or config.get("format") != format_name:
        found = config.get("format") if isinstance(config, dict) else None
        raise CheckpointFormatError(f"{config_path} is not a faceedit {what} config (format {found!r})")
    if int(config.get("format_version", 0)) > format_version:
        raise CheckpointFormatError(f"{directory} uses {what} format version {config['format_version']}, newer "
                                    f"than this faceedit ({format_version}); upgrade faceedit")
    if not weights_path.is_file():
        raise CheckpointFormatError(f"{directory} has a config but no {WEIGHTS_NAME}; the folder is incomplete")
    if verify_hash and config.get("weights_sha256") and sha256_file(weights_path) != config["weights_sha256"]:
        raise CheckpointFormatError(f"{weights_path} does not match the SHA-256 recorded in {CONFIG_NAME}: the "
                                    f"file is corrupt or was replaced; re-create the folder ({how_to_make})")
    try:
        state = load_file(str(weights_path))
    except Exception as exc:  # safetensors raises its own error types for damaged headers
        raise CheckpointFormatError(f"cannot read {weights_path}: {exc}") from None
    return config, state
