"""CLIPZeroShotClassifier with a tiny random CLIPModel and the real CLIP BPE tokenizer, offline.

The model is built here (random weights, 32-wide, 32 px images); the tokenizer comes from the fixture files
in tests/fixtures/clip (OpenAI CLIP's vocabulary, 49,408 tokens). Needs transformers (the 'clip' extra);
skipped without it, except the missing-package message, which is checked with transformers hidden.
"""

import gzip
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

from directions.classifiers.clip import CLIP_STD, CLIPZeroShotClassifier, clip_preprocess

FIXTURE = Path(__file__).parents[2] / "fixtures" / "clip"
needs_transformers = pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                                        reason="needs pip install transformers")

ATTRIBUTES = {
    "old": (["a photo of an old person", "an elderly face"], "a photo of a young person"),
    "young": ("a photo of a young person", ["a photo of an old person", "an elderly face"]),
    "hair": {"black": "a photo of a person with black hair", "blond": ["blond hair", "blonde hair"],
             "red": "a photo of a person with red hair"},
    "glasses": ["a person wearing glasses", "a person without glasses"],
}


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def _write_tokenizer_files(folder: Path) -> None:
    for name in ("vocab.json", "merges.txt"):
        with gzip.open(FIXTURE / f"{name}.gz") as src, open(folder / name, "wb") as dst:
            shutil.copyfileobj(src, dst)


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> Path:
    """A folder with a tiny random CLIPModel (safetensors) and the real CLIP tokenizer files."""
    from transformers import CLIPConfig, CLIPModel

    folder = tmp_path_factory.mktemp("tiny-clip")
    small = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, projection_dim=16)
    config = CLIPConfig(text_config=dict(vocab_size=49408, max_position_embeddings=77, **small),
                        vision_config=dict(image_size=32, patch_size=8, **small), projection_dim=16)
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder)
    _write_tokenizer_files(folder)
    return folder


@pytest.fixture(scope="module")
def judge(tiny_clip):
    return CLIPZeroShotClassifier(ATTRIBUTES, model=tiny_clip, device="cpu")


def _images(n=3, h=40, w=48, seed=0):
    return torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@needs_transformers
def test_fixture_tokenizer_is_clips(tiny_clip):
    from transformers import CLIPTokenizerFast

    tokenizer = CLIPTokenizerFast.from_pretrained(tiny_clip, local_files_only=True)
    assert len(tokenizer) == 49408
    assert tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]  # OpenAI CLIP's ids


@needs_transformers
def test_scores_are_probabilities(judge):
    assert judge.attributes == ("old", "young", "hair=black", "hair=blond", "hair=red", "glasses=0", "glasses=1")
    assert judge.name.startswith(f"clip:{judge.model_name}#")
    scores = judge(_images())
    assert list(scores) == list(judge.attributes)
    assert all(v.shape == (3,) and v.dtype == torch.float32 and v.device.type == "cpu" for v in scores.values())
    assert all(((v >= 0) & (v <= 1)).all() for v in scores.values())
    ones = torch.ones(3)
    assert torch.allclose(scores["old"] + scores["young"], ones, atol=1e-5)  # positive + negative mass
    assert torch.allclose(scores["hair=black"] + scores["hair=blond"] + scores["hair=red"], ones, atol=1e-5)
    assert torch.allclose(scores["glasses=0"] + scores["glasses=1"], ones, atol=1e-5)


@needs_transformers
def test_binary_score_is_positive_softmax_mass(judge):
    images = _images()
    logits = judge.logits(images)  # [N, P] in prompt order: old's 3 prompts first
    assert logits.shape == (3, 3 + 3 + 4 + 2)
    expected = logits[:, :3].softmax(dim=1)[:, :2].sum(dim=1)
    assert torch.allclose(judge(images)["old"], expected, atol=1e-5)


@needs_transformers
def test_deterministic_and_batch_independent(judge, tiny_clip):
    images = _images(5)
    first, second = judge(images), judge(images)
    single = CLIPZeroShotClassifier(ATTRIBUTES, model=tiny_clip, device="cpu", batch_size=1)
    one_by_one = single(images)
    assert single.name == judge.name
    other_prompts = CLIPZeroShotClassifier({"old": ("an old man", "a young man")}, model=tiny_clip, device="cpu")
    assert other_prompts.name != judge.name
    for name in judge.attributes:
        assert torch.equal(first[name], second[name])
        assert torch.allclose(first[name], one_by_one[name], atol=1e-5)


@needs_transformers
def test_any_image_size(judge):
    for h, w in [(16, 16), (64, 48), (33, 100)]:
        assert all(v.shape == (2,) for v in judge(_images(2, h, w)).values())


@needs_transformers
def test_preprocessing_matches_hugging_face():
    try:
        from transformers import CLIPImageProcessorPil as Processor  # transformers >= 5 (no torchvision)
    except ImportError:
        from transformers import CLIPImageProcessor as Processor
    smooth = torch.rand(1, 3, 12, 16, generator=torch.Generator().manual_seed(1))
    image = (torch.nn.functional.interpolate(smooth, size=(96, 128), mode="bilinear") * 255).round().to(torch.uint8)
    processor = Processor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64})
    reference = processor(images=image[0].permute(1, 2, 0).numpy(), return_tensors="np")["pixel_values"]
    reference = torch.as_tensor(reference)
    ours = clip_preprocess(image.float() / 127.5 - 1, 64)
    assert ours.shape == reference.shape == (1, 3, 64, 64)
    byte = 1 / 255 / min(CLIP_STD)  # one uint8 step after normalisation; PIL rounds its resized bytes
    assert (ours - reference).abs().max() < 1.5 * byte and (ours - reference).abs().mean() < 0.5 * byte


@needs_transformers
def test_refuses_a_tiny_tokenizer(tiny_clip, tmp_path):
    (tmp_path / "vocab.json").write_text(json.dumps({"<|startoftext|>": 0, "<|endoftext|>": 1}))
    (tmp_path / "merges.txt").write_text("#version: 0.2\n")
    with pytest.raises(ValueError, match=r"only 2 tokens.*49,408"):
        CLIPZeroShotClassifier(ATTRIBUTES, model=tiny_clip, tokenizer=tmp_path, device="cpu")
    CLIPZeroShotClassifier(ATTRIBUTES, model=tiny_clip, tokenizer=tmp_path, min_vocab_size=2, device="cpu")


@needs_transformers
def test_refuses_a_folder_without_tokenizer_files(tiny_clip, tmp_path):
    # transformers 5 silently builds a 2-token tokenizer from a folder without tokenizer files
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_clip / name, tmp_path / name)
    with pytest.raises((ValueError, FileNotFoundError), match="tokenizer|vocab"):
        CLIPZeroShotClassifier(ATTRIBUTES, model=tmp_path, device="cpu")


@needs_transformers
def test_missing_folder_says_what_to_fetch(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        CLIPZeroShotClassifier(ATTRIBUTES, model=tmp_path / "no-such-model", device="cpu")
    message = str(info.value)
    assert "no-such-model" in message and "hf download openai/clip-vit-base-patch32" in message
    assert "--local-dir" in message and "HF_HUB_OFFLINE" in message


@needs_transformers
def test_missing_hub_model_says_what_to_fetch(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        CLIPZeroShotClassifier(ATTRIBUTES, model="faceedit-tests/no-such-clip", cache_dir=tmp_path, device="cpu")
    message = str(info.value)
    assert "hf download faceedit-tests/no-such-clip" in message and "huggingface-cli download" in message
    assert "models--faceedit-tests--no-such-clip" in message and str(tmp_path) in message
    assert "HF_HUB_OFFLINE" in message


@pytest.mark.parametrize("attributes, error", [
    ({}, "non-empty"),
    ({"age": ("old", "young", "baby")}, "tuple must be"),
    ({"age": ("old", [])}, "non-empty prompt"),
    ({"hair": ["black hair"]}, "at least two"),
    ({"hair": {"black": "black hair"}}, "at least two"),
    ({"hair": {"black": "black hair", "blond": "blond hair"}, "hair=black": ("a", "b")}, "duplicate"),
    ({"age": 3}, "expected"),
])
def test_bad_attributes(attributes, error):
    with pytest.raises(ValueError, match=error):
        CLIPZeroShotClassifier(attributes, model="unused", device="cpu")


def test_missing_transformers_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ImportError, match=r"transformers.*pip install 'faceedit\[clip\]'"):
        CLIPZeroShotClassifier(ATTRIBUTES, device="cpu")
