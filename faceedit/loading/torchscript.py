"""Reading the tensors of a TorchScript archive (``torch.jit.save``) without running it.

``torch.jit.load`` would compile and run the TorchScript code stored in the file. Here only
``data.pkl`` is read, with the restricted unpickler: every ``__torch__.*`` class becomes an inert
attribute record, tensors are rebuilt from the raw storage files, and anything else is refused.
The code folder is never looked at. The result is the module tree's tensors, in the order the
file stores them, named by attribute path.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Dict, Iterator, Union

import numpy as np
import torch

from faceedit.errors import CheckpointFormatError, UnsafeCheckpointError
from faceedit.loading.torch_storage import (
    STORAGE_TYPES,
    Storage,
    StorageType,
    rebuild_parameter,
    rebuild_tensor,
    safe_ordered_dict,
)
from faceedit.loading.unpickler import load_one

__all__ = ["read_torchscript_tensors"]

MAX_ARCHIVE_BYTES = 4 << 30  # refuse archives claiming more than 4 GiB of tensors


class ScriptRecord:
    """Stand-in for a TorchScript class instance: its attributes, nothing else."""

    script_class = "__torch__"

    def __init__(self, *args: Any) -> None:
        self.attributes: Dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        self.__dict__.setdefault("attributes", {})  # pickle's NEWOBJ skips __init__
        if isinstance(state, dict):
            self.attributes.update(state)
        else:
            self.attributes["__state__"] = state


def _plain_list(values: Any) -> list:
    if not isinstance(values, list):
        raise CheckpointFormatError("a TorchScript list record does not hold a list")
    return list(values)


def _untagged(value: Any, type_tag: Any = None) -> Any:
    return value


class _Globals(Mapping):
    """Allow-list for ``data.pkl``: tensor rebuilders, storage types, OrderedDict, and inert records."""

    def __init__(self) -> None:
        self._fixed = {("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
                       ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
                       ("collections", "OrderedDict"): safe_ordered_dict,
                       # TorchScript's typed containers: plain lists / the value itself here
                       **{("torch.jit._pickle", name): _plain_list for name in
                          ("build_intlist", "build_doublelist", "build_boollist", "build_tensorlist")},
                       ("torch.jit._pickle", "restore_type_tag"): _untagged,
                       **{("torch", name): st for name, st in STORAGE_TYPES.items()}}
        self._records: Dict[tuple, type] = {}

    def __getitem__(self, key: tuple) -> Any:
        module, name = key
        if key in self._fixed:
            return self._fixed[key]
        if module == "__torch__" or module.startswith("__torch__."):
            if key not in self._records:  # a plain data class per script class; no code from the file
                self._records[key] = type(name, (ScriptRecord,), {"script_class": f"{module}.{name}"})
            return self._records[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._fixed)

    def __len__(self) -> int:
        return len(self._fixed)


def read_torchscript_tensors(path: Union[str, Path, bytes]) -> Dict[str, torch.Tensor]:
    """All tensors of a TorchScript archive, ``{'attr.path': tensor}`` in file order.

    Raises:
        CheckpointFormatError: not a TorchScript archive, or damaged.
        UnsafeCheckpointError: ``data.pkl`` names something that is not plain data.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(path) if isinstance(path, (bytes, bytearray)) else path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CheckpointFormatError(f"{path if not isinstance(path, bytes) else 'the file'} is not a TorchScript "
                                    f"archive (a zip file): {exc}") from None
    with archive:
        names = archive.namelist()
        data_pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(data_pkl) != 1:
            raise CheckpointFormatError("not a TorchScript archive: no single <name>/data.pkl inside")
        root = data_pkl[0].split("/")[0]
        if sum(info.file_size for info in archive.infolist()) > MAX_ARCHIVE_BYTES:
            raise CheckpointFormatError("the archive claims more than 4 GiB; refused")
        storages: Dict[str, Storage] = {}

        def persistent_load(pid: Any) -> Any:
            if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
                raise UnsafeCheckpointError(f"unexpected persistent id {pid!r:.80} in a TorchScript archive; refused")
            _, storage_type, key, _location, numel = pid
            if not isinstance(storage_type, StorageType) or not isinstance(key, str) or not isinstance(numel, int):
                raise CheckpointFormatError(f"malformed tensor storage record {pid!r:.120}")
            if key not in storages:
                try:
                    raw = archive.read(f"{root}/data/{key}")
                except KeyError:
                    raise CheckpointFormatError(f"the archive lacks the storage file data/{key}") from None
                nbytes = numel * storage_type.itemsize
                if len(raw) < nbytes:
                    raise CheckpointFormatError(f"storage data/{key} is truncated ({len(raw)} of {nbytes} bytes)")
                flat = np.frombuffer(raw, dtype=np.uint8, count=nbytes).copy()
                storages[key] = Storage(torch.from_numpy(flat).view(storage_type.dtype))
            return storages[key]

        obj = load_one(io.BytesIO(archive.read(data_pkl[0])), _Globals(), persistent_load=persistent_load,
                       what="a TorchScript archive's data.pkl")
    tensors: Dict[str, torch.Tensor] = {}
    _collect(obj, "", tensors, depth=0)
    if not tensors:
        raise CheckpointFormatError("the TorchScript archive holds no tensors")
    return tensors


def _collect(obj: Any, prefix: str, out: Dict[str, torch.Tensor], depth: int) -> None:
    if depth > 64:
        raise CheckpointFormatError("the TorchScript module tree is nested too deeply")
    if isinstance(obj, torch.Tensor):
        out[prefix.rstrip(".")] = obj
    elif isinstance(obj, ScriptRecord):
        for key, value in obj.attributes.items():
            _collect(value, f"{prefix}{key}.", out, depth + 1)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _collect(value, f"{prefix}{key}.", out, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            _collect(value, f"{prefix}{index}.", out, depth + 1)
