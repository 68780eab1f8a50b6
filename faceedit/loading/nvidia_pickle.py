"""Read NVIDIA's StyleGAN2-ADA network pickles as data.

NVIDIA's pickles store each network as ``_reconstruct_persistent_obj(meta)``, where ``meta``
holds the class name, the instance state and the full source of the module that defined it;
NVIDIA's loader executes that source. Here the same call produces a :class:`PersistentRecord`
(class name + state, pure data), the source is only checked statically, and every other global
maps to a safe constructor of ours. :func:`generator_from_record` then builds faceedit's own
:class:`~faceedit.networks.Generator` from a record's init kwargs and tensors.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Dict, Mapping, Union

import numpy as np
import torch

from faceedit.errors import CheckpointFormatError, UnsafeCheckpointError
from faceedit.loading.module_source import check_module_source
from faceedit.loading.torch_storage import (
    load_storage_from_bytes,
    rebuild_parameter,
    rebuild_tensor,
    safe_ordered_dict,
)
from faceedit.loading.unpickler import load_one

if TYPE_CHECKING:
    from faceedit.networks.generator import Generator

__all__ = ["PersistentRecord", "read_network_pickle", "generator_from_record", "NVIDIA_CLASSES", "MAX_PICKLE_BYTES"]

PERSISTENCE_VERSION = 6
MAX_PICKLE_BYTES = 4 << 30  # the largest official network pickles are ~380 MB

# Classes defined in NVIDIA's training/networks.py (stylegan2-ada-pytorch), stylegan3's
# networks_stylegan2.py and augment.py. StyleGAN3's own classes are known so that we can say
# clearly that they are not supported.
STYLEGAN2_CLASSES = frozenset({
    "FullyConnectedLayer", "Conv2dLayer", "MappingNetwork", "SynthesisLayer", "ToRGBLayer", "SynthesisBlock",
    "SynthesisNetwork", "Generator", "DiscriminatorBlock", "MinibatchStdLayer", "DiscriminatorEpilogue",
    "Discriminator", "AugmentPipe",
})
STYLEGAN3_CLASSES = frozenset({"SynthesisInput", "SynthesisLayer", "SynthesisNetwork", "Generator",
                               "MappingNetwork", "FullyConnectedLayer"})
NVIDIA_CLASSES = STYLEGAN2_CLASSES | STYLEGAN3_CLASSES


@dataclass
class PersistentRecord:
    """One of NVIDIA's persistent network objects, as data: its class name and ``__dict__``."""

    class_name: str
    state: Dict[str, Any] = field(repr=False)

    @property
    def init_args(self) -> tuple:
        return tuple(self.state.get("_init_args", ()))

    @property
    def init_kwargs(self) -> Dict[str, Any]:
        return dict(self.state.get("_init_kwargs", {}))

    def tensors(self, prefix: str = "") -> Dict[str, torch.Tensor]:
        """The state dict of this object and its children, names as ``torch.nn.Module.state_dict``."""
        out: Dict[str, torch.Tensor] = {}
        _collect_tensors(self, prefix, out, depth=0)
        return out

    def children(self) -> Dict[str, Any]:
        modules = self.state.get("_modules") or {}
        return dict(modules) if isinstance(modules, Mapping) else {}


def _collect_tensors(record: PersistentRecord, prefix: str, out: Dict[str, torch.Tensor], depth: int) -> None:
    if depth > 32:
        raise CheckpointFormatError("network records are nested more than 32 levels deep; corrupt file")
    state = record.state
    non_persistent = state.get("_non_persistent_buffers_set") or set()
    for group in ("_parameters", "_buffers"):
        entries = state.get(group) or {}
        if not isinstance(entries, Mapping):
            raise CheckpointFormatError(f"{record.class_name}.{group} is not a mapping")
        for name, value in entries.items():
            if value is None or (group == "_buffers" and name in non_persistent):
                continue
            if not isinstance(value, torch.Tensor):
                raise CheckpointFormatError(f"{prefix}{name} is a {type(value).__name__}, expected a tensor")
            out[prefix + name] = value
    for name, child in record.children().items():
        if child is None:
            continue
        if not isinstance(child, PersistentRecord):
            raise CheckpointFormatError(f"{prefix}{name} is a {type(child).__name__}, expected a network module")
        _collect_tensors(child, f"{prefix}{name}.", out, depth + 1)


def _reconstruct_persistent_obj(meta: Any) -> PersistentRecord:
    """Stand-in for ``torch_utils.persistence._reconstruct_persistent_obj``: returns data, runs nothing."""
    if not isinstance(meta, Mapping):
        raise CheckpointFormatError(f"a persistence record holds {type(meta).__name__}, expected a dict")
    if meta.get("type") != "class":
        raise UnsafeCheckpointError(f"a persistence record has type {meta.get('type')!r}; only 'class' records "
                                    f"are data, so the file was refused")
    if meta.get("version") != PERSISTENCE_VERSION:
        raise CheckpointFormatError(f"a persistence record has format version {meta.get('version')!r}, expected "
                                    f"{PERSISTENCE_VERSION} (StyleGAN2-ADA / StyleGAN3 PyTorch pickles)")
    class_name = meta.get("class_name")
    if not isinstance(class_name, str) or class_name not in NVIDIA_CLASSES:
        raise UnsafeCheckpointError(f"a persistence record names the class {class_name!r:.80}, which is not one of "
                                    f"NVIDIA's StyleGAN2 network classes; faceedit only builds the classes it knows "
                                    f"and refused the file")
    check_module_source(meta.get("module_src"), class_name)
    state = meta.get("state")
    if not isinstance(state, dict):
        raise CheckpointFormatError(f"the persistence record of {class_name} has no state dict")
    return PersistentRecord(class_name=class_name, state=state)


class EasyDict(dict):
    """Stand-in for ``dnnlib.util.EasyDict``: a plain dict with attribute access."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class _DTypeRecord:
    """Stand-in for the ``numpy.dtype`` object a pickle rebuilds: its type code and byte order."""

    def __init__(self, code: Any, align: Any = False, copy: Any = True):
        if not isinstance(code, str) or code not in _NUMPY_SCALAR_CODES:
            raise UnsafeCheckpointError(f"the checkpoint asks for numpy dtype {code!r:.40}; only plain numeric "
                                        f"scalars are accepted")
        self.code = code
        self.byteorder = "<"

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) < 2 or state[1] not in ("<", ">", "|", "="):
            raise CheckpointFormatError(f"malformed numpy dtype state {state!r:.80}")
        self.byteorder = "<" if state[1] in ("|", "=") else state[1]

    def to_numpy(self) -> np.dtype:
        return np.dtype(self.code).newbyteorder(self.byteorder)


_NUMPY_SCALAR_CODES = frozenset({"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"})


def _numpy_scalar(dtype: Any, data: Any = None) -> Any:
    """Stand-in for ``numpy.core.multiarray.scalar`` (numpy 1) / ``numpy._core.multiarray.scalar`` (numpy 2)."""
    if not isinstance(dtype, _DTypeRecord) or not isinstance(data, bytes):
        raise CheckpointFormatError("malformed numpy scalar record")
    np_dtype = dtype.to_numpy()
    if len(data) != np_dtype.itemsize:
        raise CheckpointFormatError(f"numpy scalar of type {np_dtype} holds {len(data)} bytes")
    return np.frombuffer(data, dtype=np_dtype)[0].astype(np_dtype.newbyteorder("="))


def _codecs_encode(text: Any, encoding: Any = "latin1") -> bytes:
    """Stand-in for ``_codecs.encode``, which protocol-2 pickles use for ``bytes``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafeCheckpointError("the checkpoint calls _codecs.encode with unexpected arguments; refused")
    return text.encode("latin1")


def _tf_network_refused(*args: Any, **kwargs: Any) -> Any:
    raise CheckpointFormatError("this is a TensorFlow-era StyleGAN pickle (dnnlib.tflib.network.Network); convert it "
                                "to a PyTorch pickle with NVIDIA's stylegan2-ada-pytorch legacy.py first")


ALLOWED_GLOBALS: Dict[tuple, Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): load_storage_from_bytes,
    ("collections", "OrderedDict"): safe_ordered_dict,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("dnnlib", "EasyDict"): EasyDict,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy", "dtype"): _DTypeRecord,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("__builtin__", "set"): set,
    ("_codecs", "encode"): _codecs_encode,
    ("dnnlib.tflib.network", "Network"): _tf_network_refused,
}


def read_network_pickle(source: Union[str, Path, bytes, BinaryIO]) -> Dict[str, Any]:
    """Read an NVIDIA network pickle safely.

    Args:
        source: path, bytes or binary file of a ``network-snapshot-*.pkl`` / ``ffhq.pkl``.

    Returns:
        The snapshot dict; networks (``G``, ``D``, ``G_ema``, ``augment_pipe``) are
        :class:`PersistentRecord` objects.

    Raises:
        UnsafeCheckpointError: the file names anything that could run code.
        CheckpointFormatError: the file is corrupt, truncated or not a network pickle.
    """
    name = "checkpoint"
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise CheckpointFormatError(f"cannot read {path}: {exc.strerror}") from None
        if size > MAX_PICKLE_BYTES:
            raise CheckpointFormatError(f"{path} is {size / 2**30:.1f} GiB; no StyleGAN2 network pickle is that large")
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        data = source.read()
    if not data:
        raise CheckpointFormatError(f"{name} is empty")
    if data[:2] == b"PK":
        raise CheckpointFormatError(f"{name} is a zip file (torch.save), not an NVIDIA network pickle; if it is a "
                                    f"state dict, load it with torch.load(weights_only=True)")
    if data[:1] != b"\x80":
        raise CheckpointFormatError(f"{name} is not a pickle (it does not start with a pickle protocol marker)")
    stream = io.BytesIO(data)
    result = load_one(stream, ALLOWED_GLOBALS, what=name)
    if stream.read(1):
        raise CheckpointFormatError(f"{name} has trailing data after the pickle; corrupt file")
    if isinstance(result, tuple) and len(result) == 3:
        raise CheckpointFormatError(f"{name} is a TensorFlow-era pickle (G, D, Gs); convert it with NVIDIA's "
                                    f"stylegan2-ada-pytorch legacy.py first")
    if not isinstance(result, dict):
        raise CheckpointFormatError(f"{name} holds a {type(result).__name__}, expected a network snapshot dict")
    return result


def generator_record(snapshot: Mapping[str, Any], which: str = "G_ema", source: str = "checkpoint") -> PersistentRecord:
    """Pick a generator record from a snapshot, with clear errors for the wrong key or class."""
    if which not in snapshot:
        networks = sorted(k for k, v in snapshot.items() if isinstance(v, PersistentRecord))
        raise CheckpointFormatError(f"{source} has no network {which!r}; it holds {networks}")
    record = snapshot[which]
    if not isinstance(record, PersistentRecord):
        raise CheckpointFormatError(f"{source}[{which!r}] is a {type(record).__name__}, not a network")
    if record.class_name != "Generator":
        raise CheckpointFormatError(f"{source}[{which!r}] is a {record.class_name}; only generators (G_ema, G) "
                                    f"can be loaded as a Generator")
    synthesis = record.children().get("synthesis")
    if isinstance(synthesis, PersistentRecord) and any(
            isinstance(c, PersistentRecord) and c.class_name == "SynthesisInput"
            for c in synthesis.children().values()):
        raise CheckpointFormatError(f"{source} is a StyleGAN3 (alias-free) network; faceedit supports StyleGAN2 "
                                    f"and StyleGAN2-ADA networks")
    return record


_GENERATOR_POSITIONAL = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs",
                         "synthesis_kwargs")


def generator_config(record: PersistentRecord, source: str = "checkpoint") -> Dict[str, Any]:
    """The Generator's construction arguments from a record's ``_init_args`` / ``_init_kwargs``."""
    args, kwargs = record.init_args, record.init_kwargs
    if len(args) > len(_GENERATOR_POSITIONAL):
        raise CheckpointFormatError(f"{source}: the generator was built with {len(args)} positional arguments")
    config = dict(zip(_GENERATOR_POSITIONAL, args))
    for key, value in kwargs.items():
        if key in config:
            raise CheckpointFormatError(f"{source}: generator argument {key!r} given twice")
        config[key] = value
    config.pop("class_name", None)
    for key in ("mapping_kwargs", "synthesis_kwargs"):
        config[key] = _plain(config.get(key) or {})
    return config


def _plain(value: Any) -> Any:
    """Turn EasyDicts, numpy scalars and tuples into JSON-friendly plain values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def generator_from_record(record: PersistentRecord, device: Union[str, torch.device, None] = None,
                          source: str = "checkpoint") -> "Generator":
    """Build faceedit's :class:`Generator` from a generator record (strict, shape-checked)."""
    from faceedit.networks.generator import build_generator

    return build_generator(generator_config(record, source), record.tensors(), device=device, source=source)


def load_nvidia_generator(path: Union[str, Path, bytes], which: str = "G_ema",
                          device: Union[str, torch.device, None] = None) -> "Generator":
    """Read an NVIDIA pickle safely and return its generator ``which`` as a faceedit Generator."""
    source = Path(path).name if isinstance(path, (str, Path)) else "checkpoint"
    snapshot = read_network_pickle(path)
    return generator_from_record(generator_record(snapshot, which, source), device=device, source=source)
