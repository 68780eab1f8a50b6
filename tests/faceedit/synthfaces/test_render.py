"""synthfaces rendering: shapes, determinism, single-factor edits stay local, validation, speed."""

from __future__ import annotations

import time

import pytest
import torch

from faceedit.synthfaces import (
    FACTOR_NAMES,
    SynthFaces,
    _frame,
    render_batch,
    render_faces,
    render_masks,
    sample_factors,
)
from faceedit.synthfaces.__main__ import main as synthfaces_main
from faceedit.synthfaces.__main__ import strips


def frontal(n: int, seed: int = 0, **overrides: float) -> dict:
    """``n`` sampled faces, upright and centred (so feature rows are predictable), with overrides."""
    params = sample_factors(n, seed)
    for name in ("roll", "_head_x", "_head_y", "_head_scale", "_eye_height"):
        params[name] = torch.zeros(n)
    for name, value in overrides.items():
        params[name] = torch.full((n,), float(value))
    return params


def changed(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``[N, H, W]`` bool: where two renders differ in any channel."""
    return (a != b).any(dim=1)


@pytest.mark.parametrize("resolution", [32, 64, 128])
def test_shapes_dtype_range(resolution):
    images, labels = render_batch(6, seed=1, resolution=resolution)
    assert images.shape == (6, 3, resolution, resolution) and images.dtype == torch.float32
    assert float(images.min()) >= -1.0 and float(images.max()) <= 1.0
    assert float(images.std()) > 0.2  # pictures, not a flat colour
    assert tuple(labels) == FACTOR_NAMES
    assert all(value.shape == (6,) and value.dtype == torch.float32 for value in labels.values())


def test_same_seed_same_bytes_and_seeds_differ():
    a, labels_a = render_batch(16, seed=3)
    b, labels_b = render_batch(16, seed=3)
    c, _ = render_batch(16, seed=4)
    assert torch.equal(a, b) and all(torch.equal(labels_a[k], labels_b[k]) for k in labels_a)
    assert not torch.equal(a, c)
    assert len({bytes(image.numpy().tobytes()) for image in a}) == 16  # no two faces alike


def test_a_face_renders_the_same_alone_or_in_any_batch():
    params = sample_factors(24, seed=7)
    batch = render_faces(params)
    for i in (0, 11, 23):
        alone = render_faces({k: v[i:i + 1] for k, v in params.items()})
        assert torch.equal(alone[0], batch[i])


def test_windows_and_patches_draw_the_same_bytes_as_full_pictures(monkeypatch):
    """Drawing layers in windows and features in per-image patches is exact, even at extreme poses."""
    params = sample_factors(48, seed=8)
    gen = torch.Generator().manual_seed(8)
    for name in ("yaw", "roll", "_head_x", "_head_y", "_head_scale"):
        params[name] = torch.rand(48, generator=gen) * 2 - 1
    params["glasses"], params["beard"] = torch.ones(48), torch.rand(48, generator=gen)
    fast = render_faces(params, 48)

    window, patch = _frame.Frame.window, _frame.Frame.patch

    def whole_window(self, *args, **kwargs):
        return None if window(self, *args, **kwargs) is None else self.full

    def whole_patch(self, *args):
        every_row = torch.arange(self.resolution).expand(self.head_x.shape[0], -1)
        return _frame.Patch(every_row, every_row, self.resolution)

    monkeypatch.setattr(_frame.Frame, "window", whole_window)
    monkeypatch.setattr(_frame.Frame, "patch", whole_patch)
    assert torch.equal(fast, render_faces(params, 48))
    monkeypatch.setattr(_frame.Frame, "window", window)
    monkeypatch.setattr(_frame.Frame, "patch", patch)


def test_glasses_change_only_the_eye_band():
    params = frontal(12, seed=2, glasses=0.0)
    without = render_faces(params)
    params["glasses"] = torch.ones(12)
    diff = changed(without, render_faces(params))  # [N, 64, 64]
    rows = diff.any(dim=2)  # [N, 64]
    assert bool(rows[:, 28:36].any(dim=1).all())  # every face got glasses around the eyes (row ~32)
    assert not bool(rows[:, :20].any()) and not bool(rows[:, 44:].any())  # hair top, mouth, chin, body untouched


def test_background_class_changes_only_background_pixels():
    params = sample_factors(12, seed=3)
    params["background"] = torch.zeros(12)
    grey = render_faces(params)
    params["background"] = torch.full((12,), 1.0)
    blue = render_faces(params)
    foreground = render_masks(params)["foreground"]  # [N, H, W]
    diff = changed(grey, blue)
    assert not bool(diff[foreground >= 1.0].any())  # fully covered pixels never change
    assert bool(diff[:, 0, 0].all())  # the corners are background
    assert float((foreground >= 1.0).float().mean()) > 0.3


def test_smile_changes_only_the_face():
    params = frontal(12, seed=4, smile=0.0)
    neutral = render_faces(params)
    params["smile"] = torch.ones(12)
    diff = changed(neutral, render_faces(params))
    face = render_masks(params)["face"]
    assert not bool(diff[face == 0].any())
    rows = diff.any(dim=2)
    assert bool(rows[:, 40:48].any(dim=1).all())  # the mouth (row ~43) moved in every face
    assert not bool(rows[:, :24].any())  # forehead and hair untouched


def test_age_and_beard_leave_the_background_alone():
    params = frontal(12, seed=5, age=0.0, gender=0.9, beard=0.0)
    young = render_faces(params)
    masks_young = render_masks(params)["foreground"]
    params["age"] = torch.ones(12)
    old = render_faces(params)
    background = (masks_young == 0) & (render_masks(params)["foreground"] == 0)
    assert not bool(changed(young, old)[background].any())
    assert float(changed(young, old).float().mean()) > 0.05  # greying, hairline, wrinkles: a visible change
    params["beard"] = torch.ones(12)
    rows = changed(old, render_faces(params)).any(dim=2)
    assert bool(rows[:, 40:50].any(dim=1).all()) and not bool(rows[:, :28].any())  # below the eyes only


def test_strips_vary_one_factor():
    pictures = strips(steps=4, rows=(("yaw", -1.0, 1.0), ("age", 0.0, 1.0)))
    assert pictures.shape == (8, 3, 64, 64)
    assert not torch.equal(pictures[0], pictures[3]) and not torch.equal(pictures[4], pictures[7])


def test_synthfaces_wrapper():
    faces = SynthFaces(resolution=32)
    images, labels = faces.sample(4, seed=9)
    assert images.shape == (4, 3, 32, 32) and tuple(labels) == FACTOR_NAMES
    assert torch.equal(images, render_batch(4, seed=9, resolution=32)[0])
    assert torch.equal(faces.render(sample_factors(4, seed=9)), images)
    assert "resolution=32" in repr(faces)


def test_bad_inputs_are_refused_with_a_fix():
    with pytest.raises(ValueError, match="resolution 8 is out of range: use 16"):
        render_batch(2, resolution=8)
    with pytest.raises(ValueError, match="resolution must be an integer"):
        render_batch(2, resolution=64.0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        render_batch(0)
    with pytest.raises(ValueError, match="out of range"):
        SynthFaces(resolution=12)
    params = sample_factors(2)
    del params["_jaw"]
    with pytest.raises(ValueError, match="lack 1 key.*_jaw"):
        render_faces(params)
    with pytest.raises(ValueError, match="lack 11 key"):
        render_faces({k: v for k, v in sample_factors(2).items() if k.startswith("_")})


def test_images_command_writes_pictures(tmp_path, capsys):
    assert synthfaces_main(["images", "--out", str(tmp_path), "--resolution", "32", "--scale", "1"]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"synthfaces-grid.png", "synthfaces-strips.png"}
    assert synthfaces_main(["stats", "--n", "500"]) == 0
    assert "corr(age, grey)" in capsys.readouterr().out


def test_speed_sanity():
    """Loose floor so CI never flakes; the real figure comes from benchmarks/bench_synthfaces.py."""
    render_batch(64, seed=0)
    best = min(_timed(lambda: render_batch(256, seed=1)) for _ in range(3))
    assert 256 / best >= 200, f"{256 / best:.0f} images/s"


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    params = sample_factors(8, seed=11)
    cpu = render_faces(params)
    gpu = render_faces({k: v.to("cuda") for k, v in params.items()})
    assert gpu.device.type == "cuda"
    assert float((gpu.cpu() - cpu).abs().mean()) < 1e-3
    images, labels = render_batch(4, seed=1, device="cuda")
    assert images.device.type == "cuda" and labels["age"].device.type == "cuda"
