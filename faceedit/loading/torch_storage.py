"""Safe readers for the tensors inside PyTorch pickles.

A tensor in a pickle is ``_rebuild_tensor_v2(storage, offset, size, stride, ...)``, and its
storage is ``torch.storage._load_from_bytes(b)``, where ``b`` is a complete legacy
``torch.save`` stream. Calling the real ``_load_from_bytes`` would run
``torch.load(..., weights_only=False)`` on bytes from the file, so this module parses that
stream itself: five small pickles read with a restricted unpickler, then the raw data.
Sizes are validated against the bytes actually present before anything is allocated.
"""

from __future__ import annotations

import io
import struct
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence

import numpy as np
import torch

from faceedit.errors import CheckpointFormatError, UnsafeCheckpointError
from faceedit.loading.unpickler import load_one

__all__ = ["StorageType", "STORAGE_TYPES", "load_storage_from_bytes", "rebuild_tensor", "rebuild_parameter"]

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
MAX_TENSOR_DIMS = 16


@dataclass(frozen=True)
class StorageType:
    """Stand-in for a ``torch.<Name>Storage`` class named in a pickle: only its element type."""

    name: str
    dtype: torch.dtype

    @property
    def itemsize(self) -> int:
        return torch.empty((), dtype=self.dtype).element_size()


STORAGE_TYPES: Dict[str, StorageType] = {
    name: StorageType(name, dtype)
    for name, dtype in {
        "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
        "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
        "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
        "BoolStorage": torch.bool, "UntypedStorage": torch.uint8,
    }.items()
}


@dataclass
class Storage:
    """A flat, typed, CPU buffer read from a checkpoint."""

    data: torch.Tensor  # 1-D tensor holding every element of the storage


_STORAGE_GLOBALS = {("torch", name): st for name, st in STORAGE_TYPES.items()}


def load_storage_from_bytes(blob: Any) -> Storage:
    """Parse the argument of ``torch.storage._load_from_bytes`` without running ``torch.load``."""
    if not isinstance(blob, (bytes, bytearray)):
        raise CheckpointFormatError(f"a tensor storage record holds {type(blob).__name__}, expected bytes")
    blob = bytes(blob)
    if blob[:2] == b"PK":
        return _load_zip_storage(blob)
    stream = io.BytesIO(blob)
    what = "a tensor storage inside the checkpoint"

    magic = load_one(stream, {}, what=what)
    if magic != LEGACY_MAGIC:
        raise CheckpointFormatError("a tensor storage record does not start with torch's magic number; corrupt file")
    protocol = load_one(stream, {}, what=what)
    if protocol != LEGACY_PROTOCOL:
        raise CheckpointFormatError(f"a tensor storage uses torch serialisation protocol {protocol!r}, "
                                    f"expected {LEGACY_PROTOCOL}")
    sys_info = load_one(stream, {}, what=what)
    if not isinstance(sys_info, dict) or sys_info.get("little_endian", True) is not True:
        raise CheckpointFormatError("a tensor storage was written on a big-endian machine or has no system info; "
                                    "not supported")

    records: Dict[str, tuple] = {}

    def persistent_load(pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise UnsafeCheckpointError(f"a tensor storage has an unexpected persistent id {pid!r:.80}; refused")
        _, storage_type, key, location, numel = pid[:5]
        if not isinstance(storage_type, StorageType) or not isinstance(key, str) or not isinstance(location, str):
            raise CheckpointFormatError(f"a tensor storage record is malformed: {pid!r:.120}")
        if not isinstance(numel, int) or numel < 0:
            raise CheckpointFormatError(f"a tensor storage claims {numel!r} elements")
        if len(pid) > 5 and pid[5] is not None:
            raise CheckpointFormatError("tensor storage views (pre-1.0 torch files) are not supported")
        records[key] = (storage_type, numel)
        return key

    root_key = load_one(stream, _STORAGE_GLOBALS, persistent_load=persistent_load, what=what)
    keys = load_one(stream, {}, what=what)
    if not isinstance(keys, list) or keys != [root_key] or root_key not in records:
        raise CheckpointFormatError("a tensor storage record does not hold exactly one storage")
    storage_type, numel = records[root_key]

    header = stream.read(8)
    if len(header) != 8:
        raise CheckpointFormatError("a tensor storage is truncated (no element count)")
    (count,) = struct.unpack("<q", header)
    if count != numel:
        raise CheckpointFormatError(f"a tensor storage says {numel} elements in its header and {count} before its data")
    nbytes = numel * storage_type.itemsize
    remaining = len(blob) - stream.tell()
    if nbytes > remaining:
        raise CheckpointFormatError(f"a tensor storage claims {numel} elements ({nbytes} bytes) but only "
                                    f"{remaining} bytes follow; the file is truncated or corrupt")
    if nbytes < remaining:
        raise CheckpointFormatError("a tensor storage has trailing bytes after its data; corrupt file")
    raw = np.frombuffer(blob, dtype=np.uint8, count=nbytes, offset=stream.tell()).copy()
    data = torch.from_numpy(raw).view(storage_type.dtype) if nbytes else torch.empty(0, dtype=storage_type.dtype)
    return Storage(data)


def _load_zip_storage(blob: bytes) -> Storage:
    """Zip-format storage bytes (not written by known torch versions, but valid): torch's own
    weights-only loader is safe for these."""
    try:
        obj = torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu")
    except Exception as exc:
        raise UnsafeCheckpointError(
            f"a zip-format tensor storage was refused by torch's weights-only loader: {exc}") from None
    if isinstance(obj, torch.TypedStorage):
        return Storage(torch.tensor([], dtype=obj.dtype).set_(obj).reshape(-1).clone())
    if isinstance(obj, torch.UntypedStorage):
        return Storage(torch.tensor([], dtype=torch.uint8).set_(obj).reshape(-1).clone())
    raise CheckpointFormatError(f"a zip-format tensor storage holds {type(obj).__name__}, expected a storage")


def _int_tuple(value: Any, what: str) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) > MAX_TENSOR_DIMS or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise CheckpointFormatError(f"a tensor's {what} is not a short tuple of integers: {value!r:.80}")
    return tuple(value)


def rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any = False,
                   backward_hooks: Any = None, metadata: Any = None) -> torch.Tensor:
    """Safe stand-in for ``torch._utils._rebuild_tensor_v2``: a view of a parsed storage, bounds-checked."""
    if not isinstance(storage, Storage):
        raise CheckpointFormatError("a tensor record does not refer to a tensor storage")
    size = _int_tuple(size, "size")
    stride = _int_tuple(stride, "stride")
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise CheckpointFormatError(f"a tensor has an invalid size {size} / stride {stride}")
    if not isinstance(storage_offset, int) or storage_offset < 0:
        raise CheckpointFormatError(f"a tensor has an invalid storage offset {storage_offset!r}")
    numel = storage.data.numel()
    if all(s > 0 for s in size):
        last = storage_offset + sum((n - 1) * st for n, st in zip(size, stride))
        if last >= numel:
            raise CheckpointFormatError(f"a tensor of size {list(size)} needs storage element {last}, but its storage "
                                        f"holds only {numel}; the file is corrupt")
    elif storage_offset > numel:
        raise CheckpointFormatError("a tensor's storage offset lies beyond its storage")
    tensor = storage.data.as_strided(size, stride, storage_offset).clone()
    return tensor


def rebuild_parameter(data: Any, requires_grad: Any = False, backward_hooks: Any = None) -> torch.Tensor:
    """Safe stand-in for ``torch._utils._rebuild_parameter``: the plain tensor (gradients are ours to decide)."""
    if not isinstance(data, torch.Tensor):
        raise CheckpointFormatError("a parameter record does not wrap a tensor")
    return data


def safe_ordered_dict(items: Optional[Sequence] = None) -> "OrderedDict":
    """``collections.OrderedDict`` with at most a list of pairs (what pickles pass it)."""
    return OrderedDict() if items is None else OrderedDict(items)
