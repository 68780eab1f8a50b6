"""Corrupt, truncated and absurd files give CheckpointFormatError, never a crash or a huge allocation."""

from __future__ import annotations

import pickle
import random
import resource
from collections import OrderedDict

import pytest
import torch

import faceedit
from faceedit.errors import CheckpointFormatError, FaceEditError, ModelNotFoundError
from faceedit.loading.nvidia_pickle import read_network_pickle
from tests.conftest import NVIDIA_FIXTURES, tiny_generator
from tests.helpers.nvidia_writer import snapshot_bytes

FIXTURE = NVIDIA_FIXTURES / "sg2_e_tiny16_cond.pkl"


def _load_bytes(tmp_path, data):
    path = tmp_path / "net.pkl"
    path.write_bytes(data)
    return faceedit.load_generator(path, device="cpu")


@pytest.mark.parametrize("fraction", [0.0001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999])
def test_truncated_file(tmp_path, fraction):
    data = FIXTURE.read_bytes()
    with pytest.raises(CheckpointFormatError):
        _load_bytes(tmp_path, data[: int(len(data) * fraction)])


def test_random_byte_corruption_never_escapes_as_another_error(tmp_path):
    data = bytearray(FIXTURE.read_bytes())
    rng = random.Random(1234)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(60):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            _load_bytes(tmp_path, bytes(damaged))
            outcomes["loaded"] += 1  # a flip inside float data is undetectable and harmless
        except FaceEditError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0


def test_tensor_claiming_more_elements_than_its_storage(tmp_path):
    small = torch.zeros(4)

    def hook(name, value):
        if name == "mapping.w_avg":
            return _Reduce(torch._utils._rebuild_tensor_v2, _Storage(small), 0,
                           (10**12,), (1,), False, OrderedDict())
        return value

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointFormatError, match="storage holds only 4"):
        _load_bytes(tmp_path, snapshot_bytes(tiny_generator(), tensor_hook=hook))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing huge allocated


def test_storage_claiming_more_bytes_than_present(tmp_path):
    blob = _legacy_storage_bytes(numel_claimed=10**12, data=b"\0" * 16)
    tensor = _Reduce(torch._utils._rebuild_tensor_v2, _Reduce(torch.storage._load_from_bytes, blob), 0, (4,), (1,),
                     False, OrderedDict())
    data = snapshot_bytes(tiny_generator(), tensor_hook=lambda n, v: tensor if n == "mapping.w_avg" else v)
    with pytest.raises(CheckpointFormatError, match="elements"):
        _load_bytes(tmp_path, data)


def test_wrong_shape_is_reported_by_name(tmp_path):
    data = snapshot_bytes(tiny_generator(), tensor_hook=lambda n, v: torch.zeros(3) if n == "mapping.w_avg" else v)
    with pytest.raises(CheckpointFormatError, match="mapping.w_avg"):
        _load_bytes(tmp_path, data)


def test_absurd_config_is_caught_before_allocating(tmp_path):
    G = tiny_generator()
    G.config = dict(G.config, synthesis_kwargs=dict(G.config["synthesis_kwargs"], channel_max=10**7,
                                                    channel_base=10**9))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointFormatError, match="shape"):
        _load_bytes(tmp_path, snapshot_bytes(G))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000


@pytest.mark.parametrize("content,match", [
    (b"", "empty"),
    (b"hello world", "not a pickle"),
    (b"PK\x03\x04rest", "zip"),
    (pickle.dumps([1, 2, 3]), "expected a network snapshot"),
    (pickle.dumps({"G_ema": 5}), "not a network"),
])
def test_not_a_network(tmp_path, content, match):
    with pytest.raises(CheckpointFormatError, match=match):
        _load_bytes(tmp_path, content)


def test_missing_file_and_wrong_key(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        faceedit.load_generator(tmp_path / "nope.pkl")
    with pytest.raises(CheckpointFormatError, match="no network 'G_best'"):
        faceedit.load_generator(FIXTURE, which="G_best")
    with pytest.raises(CheckpointFormatError, match="Discriminator"):
        faceedit.load_generator(FIXTURE, which="D")


def test_trailing_garbage(tmp_path):
    with pytest.raises(CheckpointFormatError, match="trailing"):
        read_network_pickle(FIXTURE.read_bytes() + b"junk")


class _Reduce:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


class _Storage:
    """Pickles as a genuine legacy storage record of a small tensor."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce__(self):
        return (torch.storage._load_from_bytes, (_legacy_storage_bytes(self.tensor.numel(),
                                                                       self.tensor.numpy().tobytes()),))


def _legacy_storage_bytes(numel_claimed, data):
    class _Pid:
        pass

    head = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
    head += pickle.dumps({"protocol_version": 1001, "little_endian": True,
                          "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)

    import io

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _Pid):
                return ("storage", torch.FloatStorage, "0", "cpu", numel_claimed, None)
            return None

    buf = io.BytesIO()
    P(buf, protocol=2).dump(_Pid())
    return head + buf.getvalue() + pickle.dumps(["0"], protocol=2) + numel_claimed.to_bytes(8, "little") + data
