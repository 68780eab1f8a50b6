import json

import pytest
import torch

from faceedit.errors import CheckpointFormatError
from faceedit.utils.tensor_files import pair_paths, read_tensor_pair, write_tensor_pair


def test_round_trip_any_suffix(tmp_path):
    meta_path = write_tensor_pair(tmp_path / "x", {"a": torch.arange(3.0), "i": torch.arange(2)}, {"k": 1}, "fmt", 2)
    assert meta_path == tmp_path / "x.json"
    for name in ("x", "x.json", "x.safetensors"):
        meta, tensors = read_tensor_pair(tmp_path / name, "fmt", 2, "thing")
        assert meta["k"] == 1 and torch.equal(tensors["a"], torch.arange(3.0)) and tensors["i"].dtype == torch.int64
    assert pair_paths(tmp_path / "y.v1")[1].name == "y.v1.json"


def test_problems_are_named(tmp_path):
    with pytest.raises(CheckpointFormatError, match="thing file missing"):
        read_tensor_pair(tmp_path / "none", "fmt", 1, "thing")
    write_tensor_pair(tmp_path / "x", {"a": torch.zeros(1)}, {}, "fmt", 3)
    with pytest.raises(CheckpointFormatError, match="not a faceedit thing this version can read"):
        read_tensor_pair(tmp_path / "x", "fmt", 2, "thing")  # written by a newer version
    with pytest.raises(CheckpointFormatError, match="not a faceedit thing"):
        read_tensor_pair(tmp_path / "x", "other", 3, "thing")
    (tmp_path / "x.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointFormatError, match="cannot read the thing"):
        read_tensor_pair(tmp_path / "x", "fmt", 3, "thing")
    (tmp_path / "y.json").write_text(json.dumps([1, 2]))
    write_tensor_pair(tmp_path / "z", {"a": torch.zeros(1)}, {}, "fmt", 1)
    (tmp_path / "y.safetensors").write_bytes((tmp_path / "z.safetensors").read_bytes())
    with pytest.raises(CheckpointFormatError, match="not a faceedit thing"):
        read_tensor_pair(tmp_path / "y", "fmt", 1, "thing")
