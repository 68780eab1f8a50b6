import pytest
import torch

from directions.classifiers import CallableClassifier
from directions.sampling import load_samples, sample_and_label
from tests.conftest import tiny_generator


def _brightness():
    return CallableClassifier(lambda images: {"brightness": images.mean(dim=[1, 2, 3])}, name="brightness",
                              device="cpu")


def test_samples_are_labelled_and_stored_in_chunks(tmp_path):
    G = tiny_generator(seed=0)
    samples = sample_and_label(G, _brightness(), tmp_path / "s", n=10, chunk_size=4, batch_size=3, progress=False)
    assert samples.w.shape == (10, G.w_dim) and samples.z.shape == (10, G.z_dim)
    assert samples.scores["brightness"].shape == (10,)
    assert len(list((tmp_path / "s").glob("chunk-*.safetensors"))) == 3
    with torch.no_grad():
        expected = G(samples.z[:2], None, noise_mode="const").mean(dim=[1, 2, 3])
    assert torch.allclose(samples.scores["brightness"][:2], expected, atol=1e-5)


def test_interrupted_sampling_resumes_to_the_same_result(tmp_path):
    G = tiny_generator(seed=0)
    full = sample_and_label(G, _brightness(), tmp_path / "full", n=9, chunk_size=3, progress=False)
    sample_and_label(G, _brightness(), tmp_path / "part", n=9, chunk_size=3, progress=False)
    (tmp_path / "part" / "chunk-000001.safetensors").unlink()  # as if killed while writing chunk 1
    resumed = sample_and_label(G, _brightness(), tmp_path / "part", n=9, chunk_size=3, progress=False)
    assert torch.equal(full.w, resumed.w) and torch.equal(full.scores["brightness"], resumed.scores["brightness"])
    more = sample_and_label(G, _brightness(), tmp_path / "part", n=12, chunk_size=3, progress=False)
    assert torch.equal(more.w[:9], full.w) and len(more) == 12


def test_different_settings_in_the_same_folder_are_refused(tmp_path):
    sample_and_label(tiny_generator(seed=0), _brightness(), tmp_path / "s", n=4, progress=False)
    with pytest.raises(ValueError, match="generator_fingerprint"):
        sample_and_label(tiny_generator(seed=1), _brightness(), tmp_path / "s", n=4, progress=False)
    with pytest.raises(ValueError, match="seed"):
        sample_and_label(tiny_generator(seed=0), _brightness(), tmp_path / "s", n=4, seed=5, progress=False)


def test_incomplete_folder_is_reported(tmp_path):
    sample_and_label(tiny_generator(seed=0), _brightness(), tmp_path / "s", n=4, chunk_size=2, progress=False)
    (tmp_path / "s" / "chunk-000000.safetensors").unlink()
    from faceedit.errors import CheckpointFormatError

    with pytest.raises(CheckpointFormatError, match="incomplete"):
        load_samples(tmp_path / "s")


def test_callable_classifier_names_tensor_columns():
    clf = CallableClassifier(lambda x: torch.stack([x.mean(dim=[1, 2, 3]), x.std(dim=[1, 2, 3])], 1),
                             attributes=["mean", "std"], device="cpu", batch_size=2)
    scores = clf(torch.rand(5, 3, 8, 8))
    assert set(scores) == {"mean", "std"} and scores["std"].shape == (5,)
    with pytest.raises(ValueError, match=r"\[N, 3, H, W\]"):
        clf(torch.rand(5, 8, 8))


def test_synthfaces_classifier_scores_every_factor_and_class():
    from directions.classifiers import SynthfacesClassifier
    from faceedit.synthfaces import render_batch

    clf = SynthfacesClassifier("synthfaces-labeler", device="cpu")
    images, labels = render_batch(64, seed=3)
    scores = clf(images)
    assert "age" in scores and "hair_color=blonde" in scores and "glasses" in scores
    assert torch.corrcoef(torch.stack([scores["age"], labels["age"]]))[0, 1] > 0.8
