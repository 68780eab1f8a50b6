import json
import subprocess
import sys
import time

import numpy as np
import pytest

from directions.classifiers import CallableClassifier
from directions.io import Direction
from distill.dataset import PairSpec, dataset_status, export_folders, make_dataset, read_pairs, render_pairs
from tests.conftest import tiny_generator


def _setup(seed=0):
    G = tiny_generator(seed=seed)
    rng = np.random.RandomState(1)
    vector = rng.randn(G.w_dim)
    direction = Direction(vector=vector / np.linalg.norm(vector), attribute="red", generator_name="tiny",
                          generator_fingerprint=G.fingerprint(), projection_std=2.0)
    return G, direction


def _judge():
    return CallableClassifier(lambda x: {"red": x[:, 0].mean(dim=[1, 2]), "green": x[:, 1].mean(dim=[1, 2])},
                              name="colour", device="cpu")


def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("shard-*"))}


SPEC = PairSpec(direction="red", num_seeds=10, shard_seeds=4, alpha_min=1.0, alpha_max=2.0)


def test_pairs_share_face_and_noise_and_differ_by_the_edit(tmp_path):
    G, d = _setup()
    summary = make_dataset(tmp_path, G, d, SPEC, progress=False)
    assert summary == dict(pairs=10, rejected=0, seconds=summary["seconds"], shards=3, skipped=0)
    pairs = list(read_pairs(tmp_path))
    assert [r["seed"] for _, _, r in pairs] == list(range(10))
    assert all(1.0 <= r["alpha"] <= 2.0 for _, _, r in pairs)
    a, b, _ = pairs[0]
    assert a.shape == (16, 16, 3) and not np.array_equal(a, b)
    zero = PairSpec(direction="red", num_seeds=2, shard_seeds=2, alpha_min=0.0, alpha_max=0.0)
    make_dataset(tmp_path / "zero", G, d, zero, progress=False)
    for a, b, _ in read_pairs(tmp_path / "zero"):
        np.testing.assert_array_equal(a, b)  # same latent and same noise: identical without an edit


def test_other_noise_seeds_change_only_the_noise():
    G, d = _setup()
    a, b, alphas = render_pairs(G, d, SPEC, [0, 1])
    a2, b2, alphas2 = render_pairs(G, d, SPEC, [0, 1], noise_seeds=[7, 8])
    np.testing.assert_array_equal(alphas, alphas2)  # same strengths (and latents: the images barely move)
    assert 0 < float((b2 - b).abs().max()) and float((b2 - b).abs().mean()) < float((b - a).abs().mean())
    a3, _, _ = render_pairs(G, d, SPEC, [0, 1], noise_seeds=[0, 1])
    np.testing.assert_array_equal(a3.numpy(), a.numpy())  # a pair's own seed is its own noise
    with pytest.raises(ValueError, match="one per pair"):
        render_pairs(G, d, SPEC, [0, 1], noise_seeds=[7])


def test_same_request_same_bytes(tmp_path):
    G, d = _setup()
    make_dataset(tmp_path / "one", G, d, SPEC, progress=False)
    make_dataset(tmp_path / "two", G, d, SPEC, progress=False)
    assert _bytes(tmp_path / "one") == _bytes(tmp_path / "two")
    a, b, _ = next(read_pairs(tmp_path / "one"))
    assert a.dtype == np.uint8 and b.shape == a.shape


def test_ranks_split_the_shards_and_together_equal_one_process(tmp_path):
    G, d = _setup()
    make_dataset(tmp_path / "single", G, d, SPEC, progress=False)
    for rank in (0, 1):
        make_dataset(tmp_path / "multi", G, d, SPEC, rank=rank, world=2, progress=False)
    assert _bytes(tmp_path / "single") == _bytes(tmp_path / "multi")


def test_crash_then_resume_gives_the_same_dataset(tmp_path, monkeypatch):
    import distill.dataset as dataset

    G, d = _setup()
    make_dataset(tmp_path / "ref", G, d, SPEC, progress=False)
    real = dataset._write_shard
    calls = {"n": 0}

    def crash_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(dataset, "_write_shard", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        make_dataset(tmp_path / "run", G, d, SPEC, progress=False)
    monkeypatch.setattr(dataset, "_write_shard", real)
    (tmp_path / "run" / "shard-000002.tar").write_bytes(b"torn")  # a half-written shard without its summary
    assert dataset_status(tmp_path / "run")["shards_done"] == 1
    summary = make_dataset(tmp_path / "run", G, d, SPEC, progress=False)
    assert summary["skipped"] == 1 and summary["shards"] == 2
    assert _bytes(tmp_path / "run") == _bytes(tmp_path / "ref")


def test_kill_9_and_resume(tmp_path):
    G, d = _setup()
    G.save_pretrained(tmp_path / "G")
    spec = PairSpec(direction="red", num_seeds=400, shard_seeds=20, batch_size=1)  # one seed a call: slow enough
    make_dataset(tmp_path / "ref", G, d, spec, progress=False)
    script = f"""
import numpy as np
from directions.io import Direction
from distill.dataset import PairSpec, make_dataset
from faceedit.loading.api import load_generator
G = load_generator({str(tmp_path / 'G')!r})
v = np.random.RandomState(1).randn(G.w_dim)
d = Direction(vector=v / np.linalg.norm(v), attribute="red", generator_name="tiny",
              generator_fingerprint=G.fingerprint(), projection_std=2.0)
make_dataset({str(tmp_path / 'run')!r}, G, d, PairSpec(direction="red", num_seeds=400, shard_seeds=20,
             batch_size=1), progress=False)
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not (tmp_path / "run" / "shard-000002.json").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()  # SIGKILL: no cleanup runs
    proc.wait()
    done = dataset_status(tmp_path / "run")["shards_done"]
    assert 3 <= done < spec.num_shards, f"killed after {done} of {spec.num_shards} shards; expected part-way"
    make_dataset(tmp_path / "run", G, d, spec, progress=False)
    assert _bytes(tmp_path / "run") == _bytes(tmp_path / "ref")
    assert not list((tmp_path / "run").glob("*.tmp*"))


def test_filter_keeps_only_confirmed_edits(tmp_path):
    G, d = _setup()
    spec = PairSpec(direction="red", num_seeds=12, shard_seeds=12, classifier="colour", target="red",
                    min_change=0.02, max_other_change={"green": 0.05})
    summary = make_dataset(tmp_path, G, d, spec, classifier=_judge(), progress=False)
    records = [r for _, _, r in read_pairs(tmp_path)]
    assert summary["pairs"] == len(records) and summary["pairs"] + summary["rejected"] == 12
    for r in records:
        assert r["scores_b"]["red"] - r["scores_a"]["red"] >= 0.02 - 1e-4
        assert abs(r["scores_b"]["green"] - r["scores_a"]["green"]) <= 0.05 + 1e-4
    strict = PairSpec(direction="red", num_seeds=4, shard_seeds=4, classifier="colour", target="red", min_change=10.0)
    assert make_dataset(tmp_path / "none", G, d, strict, classifier=_judge(), progress=False)["pairs"] == 0


def test_export_to_folders_and_guards(tmp_path):
    G, d = _setup()
    make_dataset(tmp_path / "ds", G, d, SPEC, progress=False)
    assert export_folders(tmp_path / "ds", tmp_path / "ab") == 10
    assert len(list((tmp_path / "ab" / "A").glob("*.png"))) == 10
    assert (tmp_path / "ab" / "B" / "000000003.png").is_file()
    with pytest.raises(ValueError, match="other settings"):
        make_dataset(tmp_path / "ds", G, d, PairSpec(direction="red", num_seeds=11, shard_seeds=4), progress=False)
    with pytest.raises(ValueError, match="needs a classifier"):
        PairSpec(direction="red", min_change=0.1)
    with pytest.raises(ValueError, match="pass that classifier"):
        make_dataset(tmp_path / "x", G, d, PairSpec(direction="red", classifier="c", target="red"), progress=False)
    assert json.loads((tmp_path / "ds" / "dataset.json").read_text())["spec"]["num_seeds"] == 10
