"""The models shipped inside the package: the synthfaces-64 generator, the labeler and the judge."""

import json

import pytest
import torch

import faceedit
from faceedit.errors import ModelDownloadError
from faceedit.hub import ModelSpec, fetch_model, get_model_spec, is_cached, register_model, unregister_model
from faceedit.hub.registry import ASSETS_DIR

BUNDLE_LIMIT_BYTES = 30 * 1024 * 1024


def test_synthfaces_64_loads_offline_by_name():
    G = faceedit.load_generator("synthfaces-64", device="cpu")  # FACEEDIT_OFFLINE=1 in every test
    assert (G.img_resolution, G.c_dim) == (64, 0)
    with torch.no_grad():
        images = G(torch.randn(2, G.z_dim), None, truncation_psi=0.7)
    assert images.shape == (2, 3, 64, 64) and torch.isfinite(images).all()


def test_synthfaces_64_records_its_training():
    config = json.loads((ASSETS_DIR / "synthfaces-64" / "config.json").read_text())
    assert config["weights_dtype"] == "float16"
    metadata = config["metadata"]
    assert metadata["training_kimg"] > 0 and metadata["training_config"]["resolution"] == 64


def test_bundled_models_are_always_available_and_small():
    spec = get_model_spec("synthfaces-64")
    assert spec.bundled and is_cached(spec)
    assert fetch_model(spec) == ASSETS_DIR / "synthfaces-64"
    total = sum(p.stat().st_size for p in ASSETS_DIR.rglob("*") if p.is_file())
    assert total < BUNDLE_LIMIT_BYTES, f"bundled assets are {total / 2**20:.1f} MB"


def test_missing_bundled_folder_says_reinstall():
    register_model(ModelSpec(name="ghost-bundle", url="", filename="", resolution=64, dataset="-", license="-",
                             bundled="no-such-folder"))
    try:
        with pytest.raises(ModelDownloadError, match="reinstall faceedit"):
            faceedit.load_generator("ghost-bundle")
    finally:
        unregister_model("ghost-bundle")


@pytest.mark.parametrize("name", ["synthfaces-labeler", "synthfaces-judge"])
def test_bundled_classifiers_beat_chance_on_held_out_renders(name):
    from faceedit.attributes import load_classifier
    from faceedit.attributes.train import evaluate_classifier, render_test_set

    net = load_classifier(name)
    images, labels = render_test_set(400, chunk=200)
    metrics = evaluate_classifier(net, images, labels)
    for factor, values in metrics.items():
        if "mae" in values:
            assert values["mae"] < 0.8 * values["chance_mae"], (factor, values)
        else:
            assert values["accuracy"] > values["chance_accuracy"], (factor, values)
    assert net.metadata["role"] == name.split("-")[1]
