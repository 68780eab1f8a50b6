import numpy as np
import pytest
import torch

from distill.filter import Filter, bundled_filters
from faceedit.errors import ModelNotFoundError
from tests.conftest import tiny_filter


def test_crop_in_crop_out_and_save_load(tmp_path):
    flt = tiny_filter(resolution=16)
    crop = np.full((16, 16, 3), 200, np.uint8)
    out = flt(crop)
    assert out.shape == crop.shape and out.mean() < crop.mean() - 20
    flt.save_pretrained(tmp_path / "f")
    again = Filter.load(tmp_path / "f")
    np.testing.assert_array_equal(again(crop), out)
    assert again.metadata["name"] == "darker"
    with pytest.raises(ValueError, match=r"\[N, 3, 16, 16\]"):
        flt.apply_tensor(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ModelNotFoundError, match="no filter 'sepia'"):
        Filter.load("sepia")


def test_strength_scales_the_change():
    flt = tiny_filter(resolution=16)
    crop = np.random.RandomState(0).randint(60, 200, (16, 16, 3), dtype=np.uint8)
    full = flt(crop).astype(float)
    np.testing.assert_array_equal(flt(crop, strength=1.0), flt(crop))
    np.testing.assert_array_equal(flt(crop, strength=0.0), crop)  # none of the change
    half = flt(crop, strength=0.5).astype(float)
    assert np.abs(half - (crop + full) / 2).max() <= 1  # halfway, up to 8-bit rounding
    stronger = flt(crop, strength=1.5).astype(float)
    assert np.abs(stronger - crop).mean() > 1.4 * np.abs(full - crop).mean()  # extrapolates (the filter darkens)
    for bad in (-0.5, 3.5, float("nan")):
        with pytest.raises(ValueError, match="outside 0-3.*opposite filter"):
            flt(crop, strength=bad)


def test_float16_files_are_half_the_size_and_filter_alike(tmp_path):
    flt = tiny_filter(resolution=16)
    flt.save_pretrained(tmp_path / "f32")
    flt.save_pretrained(tmp_path / "f16", dtype=torch.float16)
    size = lambda d: (tmp_path / d / "model.safetensors").stat().st_size  # noqa: E731
    assert size("f16") < 0.6 * size("f32")
    crop = np.random.RandomState(0).randint(0, 256, (16, 16, 3), dtype=np.uint8)
    difference = np.abs(Filter.load(tmp_path / "f16")(crop).astype(int) - flt(crop).astype(int))
    assert difference.max() <= 2  # float16 weights: at most a rounding step or two in 8-bit output


def test_whole_photo_is_aligned_filtered_and_pasted_back():
    skimage_data = pytest.importorskip("skimage.data")
    pytest.importorskip("dlib")
    photo = skimage_data.astronaut()
    out = tiny_filter(resolution=64)(photo)
    assert out.shape == photo.shape
    face = (slice(60, 160), slice(180, 280))
    assert out[face].mean() < photo[face].mean() - 10  # the face went through the filter
    np.testing.assert_array_equal(out[420:, :80], photo[420:, :80])  # far from the face: untouched


def test_onnx_export_matches_pytorch(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    ort = pytest.importorskip("onnxruntime")
    flt = tiny_filter(resolution=32)
    path = flt.export_onnx(tmp_path / "f.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = torch.rand(3, 3, 32, 32) * 2 - 1  # a batch of 3 through the dynamic batch dimension
    np.testing.assert_allclose(session.run(None, {"images": x.numpy()})[0], flt.apply_tensor(x).numpy(), atol=1e-4)


def test_onnx_export_builds_in_the_default_or_a_given_strength(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    ort = pytest.importorskip("onnxruntime")
    flt = tiny_filter(resolution=32)
    flt.default_strength = 1.5
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    for strength, path in ((None, tmp_path / "default.onnx"), (0.5, tmp_path / "half.onnx")):
        session = ort.InferenceSession(str(flt.export_onnx(path, strength=strength)),
                                       providers=["CPUExecutionProvider"])
        np.testing.assert_allclose(session.run(None, {"images": x.numpy()})[0],
                                   flt.apply_tensor(x, strength).numpy(), atol=1e-4)


def test_onnx_export_of_a_filter_with_skips_matches_pytorch(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    ort = pytest.importorskip("onnxruntime")
    from distill.networks import build_generator

    arch = dict(kind="global", ngf=4, n_downsampling=2, n_blocks=1, skips=True)
    torch.manual_seed(0)
    net = build_generator(**arch)
    with torch.no_grad():
        for conv in net.skip:  # away from their zero start, so the export must carry them
            conv.weight.normal_(0, 0.3)
    flt = Filter(net, 32, arch, {"name": "skips"})
    session = ort.InferenceSession(str(flt.export_onnx(tmp_path / "f.onnx")), providers=["CPUExecutionProvider"])
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    np.testing.assert_allclose(session.run(None, {"images": x.numpy()})[0], flt.apply_tensor(x).numpy(), atol=1e-4)


def test_no_bundled_filters_for_unknown_models():
    assert bundled_filters("nothing") == []


def test_synthfaces_64_ships_four_filters_that_edit_and_keep_the_background():
    from faceedit.synthfaces import render_batch

    assert set(bundled_filters("synthfaces-64")) >= {"older", "younger", "feminine", "masculine"}
    renders, _ = render_batch(4, seed=3, resolution=64)
    for name in ("older", "younger", "feminine", "masculine"):
        flt = Filter.load(name)
        assert flt.resolution == 64 and flt.metadata["teacher"] == "synthfaces-64"
        with torch.no_grad():
            change = (flt.apply_tensor(renders) - renders).abs()  # [4, 3, 64, 64]
        assert change.mean() > 0.01, name  # it edits
        if name in ("older", "younger"):  # trained on age edits of W+ rows 3-9, which keep the background
            assert change[..., :6, :].mean() < 0.5 * change[..., 16:48, 16:48].mean(), name
