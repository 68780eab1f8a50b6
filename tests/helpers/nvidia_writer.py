"""Write generators in NVIDIA's persistence-pickle layout, for tests (round trips, hostile files).

NVIDIA's own code made the fixtures in tests/fixtures/nvidia; this writer reproduces the same
structure (described in tests/fixtures/nvidia/FORMAT.md) from a faceedit Generator so tests can
cover every architecture and build deliberately broken or hostile variants.
"""

from __future__ import annotations

import contextlib
import pickle
import sys
import types
from typing import Any, Callable, Dict, Optional

import numpy as np
import torch


@contextlib.contextmanager
def fake_persistence_module():
    """Make ``torch_utils.persistence._reconstruct_persistent_obj`` importable so pickle can name it."""
    saved = {k: sys.modules.get(k) for k in ("torch_utils", "torch_utils.persistence")}
    pkg = types.ModuleType("torch_utils")
    mod = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):  # never called by the tests: only its name is pickled
        raise AssertionError("the fake reconstruct function must never run")

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    mod._reconstruct_persistent_obj = _reconstruct_persistent_obj
    pkg.persistence = mod
    sys.modules["torch_utils"] = pkg
    sys.modules["torch_utils.persistence"] = mod
    try:
        yield _reconstruct_persistent_obj
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value


class Persistent:
    """Pickles as NVIDIA's persistence record ``_reconstruct_persistent_obj(meta)``."""

    def __init__(self, meta: Dict[str, Any]):
        self.meta = meta

    def __reduce__(self):
        return (sys.modules["torch_utils.persistence"]._reconstruct_persistent_obj, (self.meta,))


def module_record(module: torch.nn.Module, module_src: str = "# source removed",
                  init_kwargs: Optional[Dict[str, Any]] = None,
                  tensor_hook: Optional[Callable[[str, torch.Tensor], Any]] = None, prefix: str = "") -> Persistent:
    """Record of a module and its children, as NVIDIA's pickles hold it."""
    params = {}
    for name, p in module._parameters.items():
        value = p.detach().clone() if p is not None else None
        params[name] = tensor_hook(prefix + name, value) if tensor_hook and value is not None else (
            torch.nn.Parameter(value, requires_grad=False) if value is not None else None)
    buffers = {}
    for name, b in module._buffers.items():
        value = b.detach().clone() if b is not None else None
        buffers[name] = tensor_hook(prefix + name, value) if tensor_hook and value is not None else value
    children = {name: module_record(child, module_src, None, tensor_hook, f"{prefix}{name}.")
                for name, child in module._modules.items() if child is not None}
    state: Dict[str, Any] = {
        "training": False, "_parameters": params, "_buffers": buffers, "_non_persistent_buffers_set": set(),
        "_forward_hooks": __import__("collections").OrderedDict(), "_modules": children,
    }
    for attr in ("weight_gain", "act_gain"):
        if hasattr(module, attr):
            state[attr] = np.float64(getattr(module, attr))
    state["_init_args"] = ()
    state["_init_kwargs"] = dict(init_kwargs or {})
    meta = {"type": "class", "version": 6, "module_src": module_src, "class_name": type(module).__name__,
            "state": state}
    return Persistent(meta)


def snapshot_bytes(G_ema: torch.nn.Module, G: Optional[torch.nn.Module] = None, module_src: str = "# source removed",
                   tensor_hook: Optional[Callable[[str, torch.Tensor], Any]] = None,
                   extra: Optional[Dict[str, Any]] = None, protocol: int = 4) -> bytes:
    """An NVIDIA-style snapshot pickle holding ``G`` and ``G_ema`` (D omitted: ``None``)."""
    with fake_persistence_module():
        snapshot = {
            "training_set_kwargs": {"resolution": G_ema.img_resolution},
            "G": module_record(G or G_ema, module_src, G_ema.config, tensor_hook),
            "D": None,
            "G_ema": module_record(G_ema, module_src, G_ema.config, tensor_hook),
            "augment_pipe": None,
        }
        snapshot.update(extra or {})
        return pickle.dumps(snapshot, protocol=protocol)
