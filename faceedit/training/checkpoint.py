"""Training checkpoints in the project's format: safetensors for tensors, JSON for the rest.

A checkpoint is a folder ``checkpoints/step-000001234/`` holding

* whatever the caller exports (the StyleGAN2 trainer: ``generator/``, the EMA generator as
  :meth:`Generator.save_pretrained` writes it, so any checkpoint loads with ``faceedit.load_generator``);
* ``state.safetensors`` — G, D, G_ema, both optimisers' moment tensors and the RNG states;
* ``state.json`` — step, images seen, wall time, the training config and optimiser settings.

Folders are written under a temporary name and renamed, and ``checkpoints/latest`` names the
newest complete one, so an interruption at any moment leaves the previous checkpoint usable.
Nothing here unpickles: loading is safe on files from anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional

import torch

from faceedit.errors import CheckpointFormatError
from faceedit.utils.files import atomic_write_text

__all__ = ["TrainingState", "save_checkpoint", "load_checkpoint", "latest_checkpoint", "list_checkpoints"]

STATE_FORMAT = "faceedit-training-state"
STATE_VERSION = 1
LATEST_NAME = "latest"


@dataclass
class TrainingState:
    """What a checkpoint restores, besides the tensors held by the networks."""

    step: int  # optimisation steps done
    nimg: int  # training images shown to the discriminator
    train_seconds: float  # wall time spent training, summed over all sessions
    config: Dict[str, Any]  # TrainingConfig.to_dict()


def _flatten_optimizer(prefix: str, optimizer: torch.optim.Optimizer, tensors: Dict[str, torch.Tensor]) -> Dict:
    state = optimizer.state_dict()
    scalars: Dict[str, Dict[str, Any]] = {}
    for idx, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{idx}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(prefix: str, meta: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> Dict:
    state: Dict[int, Dict[str, Any]] = {}
    for name, tensor in tensors.items():
        if name.startswith(prefix + "."):
            idx, key = name[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(idx), {})[key] = tensor
    for idx, values in meta.get("scalars", {}).items():
        state.setdefault(int(idx), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    run_dir: Path,
    state: TrainingState,
    networks: Mapping[str, torch.nn.Module],  # name -> module, e.g. 'G', 'D', 'G_ema'
    optimizers: Mapping[str, torch.optim.Optimizer],  # name -> optimiser, e.g. 'G', 'D'
    keep: int = 3,  # keep this many newest checkpoints
    export: Optional[Callable[[Path], None]] = None,  # writes usable models into the folder, None = nothing
) -> Path:
    """Write a checkpoint folder atomically and point ``checkpoints/latest`` at it.

    ``export`` is called with the (temporary) checkpoint folder before it is renamed into place, so
    a usable model saved there (the trainer's ``generator/``) is complete whenever the checkpoint is.
    """
    from safetensors.torch import save_file

    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    name = f"step-{state.step:09d}"
    final = root / name
    tmp = root / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()

    tensors: Dict[str, torch.Tensor] = {}
    for net_name, net in networks.items():
        for key, value in net.state_dict().items():
            tensors[f"{net_name}.{key}"] = value.detach().cpu().contiguous()
    optim_meta = {name: _flatten_optimizer(f"opt_{name}", opt, tensors) for name, opt in optimizers.items()}
    tensors["rng.cpu"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for idx, rng in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{idx}"] = rng
    save_file(tensors, str(tmp / "state.safetensors"))
    meta = {"format": STATE_FORMAT, "format_version": STATE_VERSION, "step": state.step, "nimg": state.nimg,
            "train_seconds": state.train_seconds, "config": state.config, "optimizers": optim_meta}
    (tmp / "state.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    if export is not None:
        export(tmp)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    atomic_write_text(root / LATEST_NAME, name + "\n")
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(run_dir: Path) -> List[Path]:
    """Complete checkpoint folders of a run, oldest first."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("step-")
                  and (p / "state.json").is_file())


def latest_checkpoint(run_dir: Path) -> Optional[Path]:
    """The checkpoint ``checkpoints/latest`` names (or the newest complete one), None when there is none."""
    root = Path(run_dir) / "checkpoints"
    pointer = root / LATEST_NAME
    if pointer.is_file():
        candidate = root / pointer.read_text().strip()
        if (candidate / "state.json").is_file():
            return candidate
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def load_checkpoint(
    path: Path,
    networks: Mapping[str, torch.nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
    restore_rng: bool = True,  # also restore the global RNG states (exact resumption)
) -> TrainingState:
    """Restore networks, optimisers and RNG states from a checkpoint folder, strictly."""
    from safetensors.torch import load_file

    path = Path(path)
    try:
        meta = json.loads((path / "state.json").read_text())
        tensors = load_file(str(path / "state.safetensors"))
    except Exception as exc:  # OSError, JSON errors, and safetensors' own error type for damaged files
        raise CheckpointFormatError(f"cannot read training checkpoint {path}: {exc}; resume from an older one "
                                    f"(delete this folder) or start a new run") from None
    if meta.get("format") != STATE_FORMAT or int(meta.get("format_version", 0)) > STATE_VERSION:
        raise CheckpointFormatError(f"{path} is not a faceedit training checkpoint this version can read")
    for net_name, net in networks.items():
        prefix = net_name + "."
        sub = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        try:
            net.load_state_dict(sub, strict=True)
        except RuntimeError as exc:
            raise CheckpointFormatError(f"{path}: {net_name} weights do not fit the network built from the run's "
                                        f"config: {exc}") from None
    for name, opt in optimizers.items():
        device = next(iter(opt.param_groups[0]["params"])).device
        state = _unflatten_optimizer(f"opt_{name}", meta["optimizers"][name], tensors)
        for values in state["state"].values():
            for key, value in values.items():
                if isinstance(value, torch.Tensor) and key != "step":
                    values[key] = value.to(device)
        opt.load_state_dict(state)
    if restore_rng:
        torch.set_rng_state(tensors["rng.cpu"])
        cuda_keys = sorted((k for k in tensors if k.startswith("rng.cuda.")), key=lambda k: int(k.rsplit(".", 1)[1]))
        cuda_states = [tensors[k] for k in cuda_keys]
        if cuda_states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(cuda_states[:torch.cuda.device_count()])
    return TrainingState(step=int(meta["step"]), nimg=int(meta["nimg"]),
                         train_seconds=float(meta["train_seconds"]), config=dict(meta["config"]))
