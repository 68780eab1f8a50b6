"""Hostile pickles are refused before their payload can run.

Every payload would create a marker file; the tests check that the loader raises
UnsafeCheckpointError and that the marker does not exist afterwards.
"""

from __future__ import annotations

import builtins
import os
import pickle
import subprocess
from collections import OrderedDict

import pytest
import torch

import faceedit
from faceedit.errors import UnsafeCheckpointError
from faceedit.loading.nvidia_pickle import read_network_pickle
from tests.conftest import NVIDIA_FIXTURES, tiny_generator
from tests.helpers.nvidia_writer import snapshot_bytes


class _Reduce:
    """Pickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _payloads(marker):
    return {
        "os.system": _Reduce(os.system, f"touch {marker}"),
        "subprocess.Popen": _Reduce(subprocess.Popen, ["touch", str(marker)]),
        "builtins.exec": _Reduce(builtins.exec, f"open({str(marker)!r}, 'w').write('pwned')"),
        "builtins.eval": _Reduce(builtins.eval, f"open({str(marker)!r}, 'w').write('pwned')"),
    }


def _assert_refused(data: bytes, marker, tmp_path, match=None):
    path = tmp_path / "hostile.pkl"
    path.write_bytes(data)
    with pytest.raises(UnsafeCheckpointError, match=match):
        faceedit.load_generator(path, device="cpu")
    assert not marker.exists(), "the payload ran"


@pytest.mark.parametrize("kind", ["os.system", "subprocess.Popen", "builtins.exec", "builtins.eval"])
def test_top_level_reduce_is_refused(kind, tmp_path):
    marker = tmp_path / "marker"
    payload = _payloads(marker)[kind]
    data = pickle.dumps(payload)
    # Sanity check that the payload is live: plain pickle would create the marker.
    if kind == "os.system":
        probe = tmp_path / "probe"
        pickle.loads(pickle.dumps(_Reduce(os.system, f"touch {probe}")))
        assert probe.exists()
    _assert_refused(data, marker, tmp_path)


@pytest.mark.parametrize("kind", ["os.system", "subprocess.Popen", "builtins.exec"])
def test_payload_hidden_deep_in_network_state_is_refused(kind, tmp_path):
    marker = tmp_path / "marker"
    payload = _payloads(marker)[kind]

    def hook(name, tensor):
        return payload if name == "synthesis.b16.conv1.affine.bias" else tensor

    data = snapshot_bytes(tiny_generator(), tensor_hook=hook)
    with pytest.raises(UnsafeCheckpointError, match=r"posix\.system|subprocess\.Popen|builtins\.exec"):
        read_network_pickle(data)
    _assert_refused(data, marker, tmp_path)


def test_payload_in_unused_network_is_refused(tmp_path):
    """Even in D or augment_pipe, which the loader never builds."""
    marker = tmp_path / "marker"
    data = snapshot_bytes(tiny_generator(), extra={"D": _payloads(marker)["os.system"]})
    _assert_refused(data, marker, tmp_path)


@pytest.mark.parametrize("source", [
    "import os\nos.system('touch {marker}')\nclass Generator: pass\n",
    "import numpy as np\nclass Generator:\n    x = __import__('os').system('touch {marker}')\n",
    "def f(a=open('{marker}', 'w')): pass\nclass Generator: pass\n",
    "@__import__('os').system('touch {marker}')\nclass Generator: pass\n",
    "import subprocess\nclass Generator: pass\n",
    "class Generator(metaclass=type('M', (type,), {{}})): pass\n",
])
def test_embedded_module_source_that_runs_code_is_refused(source, tmp_path):
    marker = tmp_path / "marker"
    data = snapshot_bytes(tiny_generator(), module_src=source.format(marker=marker))
    _assert_refused(data, marker, tmp_path, match="module source")


def test_nvidia_style_module_source_is_accepted(tmp_path):
    """Source shaped like NVIDIA's networks.py (imports, decorated classes, literal defaults) loads."""
    names = ["FullyConnectedLayer", "Conv2dLayer", "MappingNetwork", "SynthesisLayer", "ToRGBLayer",
             "SynthesisBlock", "SynthesisNetwork", "Generator"]
    source = '''"""Network architectures."""
import numpy as np
import torch
from torch_utils import misc
from torch_utils import persistence
from torch_utils.ops import conv2d_resample, upfirdn2d, bias_act, fma

@misc.profiled_function
def normalize_2nd_moment(x, dim=1, eps=1e-8):
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()
''' + "".join(f'''
@persistence.persistent_class
class {n}(torch.nn.Module):
    def __init__(self, in_channels, resample_filter=[1,3,3,1], conv_clamp=None, lr=-0.5, kw={{}}):
        super().__init__()
        self.register_buffer('f', upfirdn2d.setup_filter(resample_filter))

    def forward(self, x):
        return x
''' for n in names)
    G = tiny_generator()
    data = snapshot_bytes(G, module_src=source)
    loaded = faceedit.load_generator(_write(tmp_path, data), device="cpu")
    ws = G.mapping(torch.randn(2, G.z_dim), None)
    assert torch.equal(loaded.synthesis(ws), G.synthesis(ws))


def _write(tmp_path, data):
    path = tmp_path / "net.pkl"
    path.write_bytes(data)
    return path


def _legacy_stream(object_pickle: bytes) -> bytes:
    """A legacy torch.save stream whose object pickle is ``object_pickle``."""
    head = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
    head += pickle.dumps({"protocol_version": 1001, "little_endian": True,
                          "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    return head + object_pickle + pickle.dumps(["0"], protocol=2) + (1).to_bytes(8, "little") + b"\0\0\0\0"


@pytest.mark.parametrize("kind", ["os.system", "builtins.exec"])
def test_hostile_pickle_inside_tensor_storage_bytes_is_refused(kind, tmp_path):
    marker = tmp_path / "marker"
    inner = pickle.dumps(_payloads(marker)[kind], protocol=2)
    hostile_storage = _Reduce(torch.storage._load_from_bytes, _legacy_stream(inner))
    tensor = _Reduce(torch._utils._rebuild_tensor_v2, hostile_storage, 0, (1,), (1,), False, OrderedDict())

    def hook(name, value):
        return tensor if name == "mapping.fc0.weight" else value

    data = snapshot_bytes(tiny_generator(), tensor_hook=hook)
    # torch's own _load_from_bytes would run the payload (weights_only=False):
    probe = tmp_path / "probe"
    with pytest.raises(Exception):  # noqa: B017 - any error: only the side effect matters
        torch.storage._load_from_bytes(_legacy_stream(pickle.dumps(_Reduce(os.system, f"touch {probe}"), protocol=2)))
    assert probe.exists(), "the probe shows torch's loader executes the inner pickle"
    _assert_refused(data, marker, tmp_path)


def test_hostile_magic_number_pickle_in_storage_is_refused(tmp_path):
    marker = tmp_path / "marker"
    blob = pickle.dumps(_payloads(marker)["os.system"], protocol=2)
    storage = _Reduce(torch.storage._load_from_bytes, blob)
    data = snapshot_bytes(tiny_generator(), tensor_hook=lambda n, v: _Reduce(
        torch._utils._rebuild_tensor_v2, storage, 0, (1,), (1,), False, OrderedDict()) if n == "mapping.w_avg" else v)
    _assert_refused(data, marker, tmp_path)


def test_unknown_persistent_class_is_refused(tmp_path):
    from tests.helpers import nvidia_writer

    G = tiny_generator()
    with nvidia_writer.fake_persistence_module():
        record = nvidia_writer.module_record(G)
        record.meta["class_name"] = "Backdoor"
        data = pickle.dumps({"G_ema": record, "G": record, "D": None})
    with pytest.raises(UnsafeCheckpointError, match="Backdoor"):
        read_network_pickle(data)


def test_refusal_names_what_was_refused(tmp_path):
    data = pickle.dumps(_Reduce(os.system, "true"))
    with pytest.raises(UnsafeCheckpointError, match=r"posix\.system|nt\.system"):
        read_network_pickle(data)


def test_real_fixture_needs_only_the_allow_list():
    snapshot = read_network_pickle(NVIDIA_FIXTURES / "sg2_f_skip64_w64.pkl")
    assert snapshot["G_ema"].class_name == "Generator"
    assert snapshot["D"].class_name == "Discriminator"
