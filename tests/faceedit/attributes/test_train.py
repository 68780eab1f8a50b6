import pytest

from faceedit.attributes import AttributeNet, heads_from_factors
from faceedit.attributes.train import (
    CLASSIFIER_PRESETS,
    build_classifier,
    evaluate_classifier,
    render_test_set,
    train_classifier,
)


def test_short_training_beats_chance_on_held_out_renders():
    import torch

    torch.manual_seed(0)
    net = AttributeNet(heads_from_factors(), widths=(16, 32, 32), feature_dim=32, input_resolution=32)
    train_classifier(net, steps=100, batch_size=64, lr=3e-3, resolution=32, device="cpu", progress=False)
    images, labels = render_test_set(300, resolution=32)
    metrics = evaluate_classifier(net, images, labels)
    assert metrics["background"]["accuracy"] > metrics["background"]["chance_accuracy"] + 0.15
    assert metrics["skin_tone"]["mae"] < 0.8 * metrics["skin_tone"]["chance_mae"]


def test_held_out_set_is_deterministic_and_disjoint_from_training():
    import torch

    from faceedit.synthfaces import render_batch
    from faceedit.training.data import batch_seed

    a, labels_a = render_test_set(20, resolution=16, chunk=10)
    b, _ = render_test_set(20, resolution=16, chunk=10)
    assert torch.equal(a, b) and labels_a["age"].shape == (20,)
    first_training_batch, _ = render_batch(10, seed=batch_seed(CLASSIFIER_PRESETS["labeler"]["data_seed"], 0),
                                           resolution=16)
    assert not torch.equal(first_training_batch, a[:10])


def test_labeler_and_judge_differ_in_architecture_and_seed():
    labeler, judge = build_classifier("labeler"), build_classifier("judge")
    assert labeler.config["widths"] != judge.config["widths"]
    assert CLASSIFIER_PRESETS["labeler"]["data_seed"] != CLASSIFIER_PRESETS["judge"]["data_seed"]
    with pytest.raises(ValueError, match="unknown classifier role"):
        build_classifier("oracle")
