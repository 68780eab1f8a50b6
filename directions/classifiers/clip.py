"""Zero-shot attribute scores from CLIP (``transformers``' ``CLIPModel``), offline only.

An attribute is a set of text prompts; an image's score is the probability mass CLIP puts on some of them
under a softmax over all of that attribute's prompts (logits = ``logit_scale * cosine``):

    from directions.classifiers.clip import CLIPZeroShotClassifier
    judge = CLIPZeroShotClassifier({
        "old": (["a photo of an old person"], ["a photo of a young person"]),   # P(positive prompts)
        "hair": {"black": "a photo of a person with black hair",                # 'hair=black', 'hair=blond'
                 "blond": "a photo of a person with blond hair"},
        "glasses": ["a photo of a person wearing glasses", "a photo of a person"],  # 'glasses=0', 'glasses=1'
    }, model="openai/clip-vit-base-patch32")
    scores = judge(images)  # {'old': [N], 'hair=black': [N], 'hair=blond': [N], 'glasses=0': [N], 'glasses=1': [N]}

Weights come from a local folder or the Hugging Face cache with ``local_files_only=True``: nothing is ever
downloaded (see :func:`missing_weights_message`). Images are preprocessed in torch, without torchvision.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from directions.classifiers.base import AttributeClassifier

__all__ = ["CLIPZeroShotClassifier", "clip_preprocess", "fetch_instructions", "missing_weights_message", "CLIP_MEAN",
           "CLIP_STD"]

INSTALL_HINT = "pip install 'faceedit[clip]'  (or: pip install transformers)"
DEFAULT_MODEL = "openai/clip-vit-base-patch32"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP's RGB normalisation
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
CLIP_VOCAB_SIZE = 49408  # tokens of OpenAI CLIP's BPE tokenizer

Prompts = Union[str, Sequence[str]]
AttributeSpec = Union[Tuple[Prompts, Prompts], Sequence[str], Mapping[str, Prompts]]
Group = Tuple[List[str], List[Tuple[str, List[int]]]]  # an attribute's prompts, [(score name, its prompts' indices)]


def clip_preprocess(
    images: torch.Tensor,  # generator output in [-1, 1]
    size: int,  # the model's input side (vision_config.image_size)
    mean: Sequence[float] = CLIP_MEAN,  # RGB mean of the [0, 1] pixels
    std: Sequence[float] = CLIP_STD,  # RGB std of the [0, 1] pixels
) -> torch.Tensor:
    """CLIP's image preprocessing in torch: shorter side to ``size`` (bicubic, antialiased), center crop, normalise.

    Follows Hugging Face's ``CLIPImageProcessor`` (resize ``shortest_edge``, ``center_crop``, rescale,
    normalise) on the pixels ``clamp((x + 1) / 2, 0, 1)``: NVIDIA's uint8 image ``clamp(x * 127.5 + 128)``
    (truncated) is these pixels times 255, rounded, so they match a saved PNG without its quantisation.

    Args:
        images: images in [-1, 1], any device and float dtype.
        size: output side in pixels.
        mean: per-channel mean subtracted from [0, 1] pixels.
        std: per-channel standard deviation they are divided by.

    Returns:
        Normalised float32 pixels on the images' device.

    Shape:
        ``[N, 3, H, W]`` -> ``[N, 3, size, size]``.
    """
    x = ((images.float() + 1) / 2).clamp(0, 1)
    h, w = x.shape[-2:]
    if h <= w:
        new_h, new_w = size, int(size * w / h)
    else:
        new_h, new_w = int(size * h / w), size
    if (new_h, new_w) != (h, w):
        x = F.interpolate(x, size=(new_h, new_w), mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    x = x[..., top:top + size, left:left + size]
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - m) / s


def _hub_cache(cache_dir: Union[str, os.PathLike, None]) -> str:
    if cache_dir is not None:
        return str(cache_dir)
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except Exception:  # pragma: no cover - huggingface_hub always comes with transformers
        return os.path.expanduser("~/.cache/huggingface/hub")


def fetch_instructions(
    model: Union[str, os.PathLike],  # the folder or hub id to fetch
    cache_dir: Union[str, os.PathLike, None] = None,  # the HF cache that was searched, None = the default
) -> str:
    """How to get a CLIP checkpoint onto this machine: the download command, the cache folder to copy, HF_HUB_OFFLINE.

    Returns:
        Multi-line instructions.
    """
    text = str(model)
    is_id = not _looks_like_path(model)
    repo = text if is_id else DEFAULT_MODEL
    cache = _hub_cache(cache_dir)
    include = '--include "*.json" "*.txt" "model.safetensors"'
    lines = ["faceedit loads CLIP with local_files_only=True and never downloads. On a machine with internet run"]
    if is_id:
        folder = f"models--{repo.replace('/', '--')}"
        lines += [f"    hf download {repo} {include}",
                  f"(huggingface_hub < 0.34: huggingface-cli download {repo} {include})",
                  f"and copy {folder} from that machine's Hugging Face cache to {cache}",
                  "(the cache is HF_HUB_CACHE, or HF_HOME/hub), or run it with --local-dir FOLDER and pass "
                  "model=FOLDER."]
    else:
        lines += [f"    hf download {repo} {include} --local-dir {text}",
                  f"(or use any CLIP checkpoint saved with save_pretrained: config.json, model.safetensors and the "
                  f"tokenizer's vocab.json + merges.txt or tokenizer.json) and copy that folder to {text}."]
    lines.append("Set HF_HUB_OFFLINE=1 so that Hugging Face libraries never try the network.")
    return "\n".join(lines)


def missing_weights_message(
    model: Union[str, os.PathLike],  # the folder or hub id that could not be loaded
    reason: str = "",  # what the loader said, shown first
    cache_dir: Union[str, os.PathLike, None] = None,  # the HF cache that was searched, None = the default
    what: str = "CLIP weights",  # what is missing, e.g. 'CLIP tokenizer files'
) -> str:
    """The error text when CLIP weights are not on this machine: what failed, then :func:`fetch_instructions`.

    Returns:
        A multi-line message.
    """
    headline = f"{what} {str(model)!r} are not available on this machine" + (f" ({reason})" if reason else "")
    return headline + ".\n" + fetch_instructions(model, cache_dir)


def _looks_like_path(model: Union[str, os.PathLike]) -> bool:
    text = str(model)
    return isinstance(model, os.PathLike) or text.startswith((".", "~", "/")) or text.count("/") > 1 or "\\" in text


def _features(out) -> torch.Tensor:
    """``get_*_features`` returns a tensor in transformers 4 and a pooled output object in 5."""
    return out if isinstance(out, torch.Tensor) else out.pooler_output


class CLIPZeroShotClassifier(AttributeClassifier):
    """Zero-shot scores of text-defined attributes with a CLIP model.

    Each attribute is one of:

    * a pair ``(positive, negative)`` of prompts or prompt lists (a **tuple**): one score, the softmax
      probability mass of the positive prompts among all of the attribute's prompts;
    * a **list** of class prompts: one probability per class, named ``'name=0'``, ``'name=1'``, ...;
    * a **dict** ``{class: prompt or prompts}``: one probability per class, named ``'name=class'``.

    The probabilities of an attribute's classes (or of positive + negative) sum to one. Prompts are encoded
    once, at construction. :attr:`name` is ``'clip:<model>#<digest of the prompts>'``.

    Shape:
        images ``[N, 3, H, W]`` in [-1, 1], any size -> ``{score name: [N]}`` float32 on the CPU.
    """

    def __init__(
        self,
        attributes: Mapping[str, AttributeSpec],  # score name -> (pos, neg) tuple | [class prompts] | {class: prompts}
        model: Union[str, os.PathLike] = DEFAULT_MODEL,  # a local folder, or a hub id already in the HF cache
        tokenizer: Union[str, os.PathLike, None] = None,  # folder or hub id of the tokenizer, None = same as model
        min_vocab_size: int = 10_000,  # refuse smaller tokenizers (a broken load gives ~3 tokens; CLIP has 49,408)
        cache_dir: Union[str, os.PathLike, None] = None,  # Hugging Face cache to search, None = HF_HUB_CACHE
        revision: Optional[str] = None,  # hub revision in the cache, None = 'main'
        safetensors_only: bool = True,  # refuse pickle-based pytorch_model.bin checkpoints
        mean: Sequence[float] = CLIP_MEAN,  # image normalisation mean, [0, 1] RGB
        std: Sequence[float] = CLIP_STD,  # image normalisation std
        device: Union[str, torch.device, None] = None,  # None = CUDA, else MPS, else CPU
        batch_size: int = 64,  # images per forward pass
    ):
        groups = self._parse_attributes(attributes)
        try:
            from transformers import CLIPModel, CLIPTokenizerFast
        except ImportError as exc:
            raise ImportError(f"CLIPZeroShotClassifier needs transformers: {INSTALL_HINT}") from exc
        super().__init__(device, batch_size)
        self.model_name = str(model)
        digest = hashlib.sha1(json.dumps([[p, [(n, i) for n, i in o]] for p, o in groups]).encode()).hexdigest()[:8]
        self.name = f"clip:{model}#{digest}"  # recorded in direction files; the digest identifies the prompts
        self.mean, self.std = tuple(mean), tuple(std)
        load = dict(local_files_only=True, cache_dir=cache_dir, revision=revision)

        self.model = self._load(CLIPModel, model, use_safetensors=True if safetensors_only else None, **load)
        self.model = self.model.float().eval().requires_grad_(False).to(self.device)
        source = tokenizer if tokenizer is not None else model
        self.tokenizer = self._load(CLIPTokenizerFast, source, **load)
        n_tokens = len(self.tokenizer)
        if n_tokens < min_vocab_size:
            raise ValueError(
                f"the tokenizer loaded from {str(source)!r} has only {n_tokens} tokens (OpenAI CLIP's has "
                f"{CLIP_VOCAB_SIZE:,}; min_vocab_size={min_vocab_size:,}): its vocab.json + merges.txt or "
                f"tokenizer.json are missing or broken, e.g. after a failed or partial download, and transformers "
                f"fell back to a near-empty tokenizer. Fetch the tokenizer files again.\n"
                + fetch_instructions(source, cache_dir)
                + "\nor lower min_vocab_size for a model whose vocabulary really is that small.")
        text_vocab = self.model.config.text_config.vocab_size
        if n_tokens > text_vocab:
            raise ValueError(f"the tokenizer from {str(source)!r} has {n_tokens} tokens but the model's text encoder "
                             f"only {text_vocab}: they do not belong together")
        self.image_size = int(self.model.config.vision_config.image_size)

        prompts = [p for group in groups for p in group[0]]
        self.text_features = self._encode_text(prompts)  # [P, D] unit vectors
        self.logit_scale = float(self.model.logit_scale.exp())
        self._groups = []  # (prompt indices of the group, [(score name, positions within the group)])
        start = 0
        for group_prompts, outputs in groups:
            self._groups.append((list(range(start, start + len(group_prompts))), outputs))
            start += len(group_prompts)
        self.attributes = tuple(name for _, outputs in groups for name, _ in outputs)

    # -- construction helpers ------------------------------------------------------------------------
    @staticmethod
    def _parse_attributes(attributes: Mapping[str, AttributeSpec]) -> List[Group]:
        """-> [(prompts of the attribute, [(score name, indices of its prompts)])]."""

        def prompt_list(value, where: str) -> List[str]:
            items = [value] if isinstance(value, str) else list(value)
            if not items or not all(isinstance(p, str) and p.strip() for p in items):
                raise ValueError(f"{where}: expected a non-empty prompt or list of non-empty prompts, got {value!r}")
            return items

        if not isinstance(attributes, Mapping) or not attributes:
            raise ValueError("attributes must be a non-empty dict {name: (positive, negative) | [prompts] | "
                             "{class: prompts}}")
        groups = []
        for name, spec in attributes.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"attribute names must be non-empty strings, got {name!r}")
            if isinstance(spec, tuple):
                if len(spec) != 2:
                    raise ValueError(f"attribute {name!r}: a tuple must be (positive prompts, negative prompts), "
                                     f"got {len(spec)} items; use a list for classes")
                pos, neg = prompt_list(spec[0], f"{name!r} positive"), prompt_list(spec[1], f"{name!r} negative")
                groups.append((pos + neg, [(name, list(range(len(pos))))]))
            elif isinstance(spec, Mapping):
                prompts, outputs = [], []
                for cls, value in spec.items():
                    items = prompt_list(value, f"{name!r} class {cls!r}")
                    outputs.append((f"{name}={cls}", list(range(len(prompts), len(prompts) + len(items)))))
                    prompts += items
                if len(outputs) < 2:
                    raise ValueError(f"attribute {name!r}: give at least two classes")
                groups.append((prompts, outputs))
            elif isinstance(spec, Sequence) and not isinstance(spec, str):
                prompts = prompt_list(spec, f"attribute {name!r}")
                if len(prompts) < 2:
                    raise ValueError(f"attribute {name!r}: give at least two class prompts")
                groups.append((prompts, [(f"{name}={i}", [i]) for i in range(len(prompts))]))
            else:
                raise ValueError(f"attribute {name!r}: expected a (positive, negative) tuple, a list of class prompts "
                                 f"or a {{class: prompts}} dict, got {type(spec).__name__}")
        names = [n for _, outputs in groups for n, _ in outputs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate score names {duplicates}")
        return groups

    @staticmethod
    def _load(cls, source: Union[str, os.PathLike], **kwargs):
        cache_dir = kwargs.get("cache_dir")
        what = "CLIP weights" if "Model" in cls.__name__ else "CLIP tokenizer files"
        if not Path(str(source)).expanduser().is_dir() and _looks_like_path(source):
            raise FileNotFoundError(missing_weights_message(source, "no such folder", cache_dir, what))
        where = str(Path(str(source)).expanduser()) if Path(str(source)).expanduser().is_dir() else str(source)
        try:
            return cls.from_pretrained(where, **kwargs)
        except (OSError, ValueError, TypeError) as exc:  # missing files (transformers 4: TypeError for a tokenizer)
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            message = missing_weights_message(source, f"{cls.__name__}: {reason}", cache_dir, what)
            raise FileNotFoundError(message) from exc

    @torch.no_grad()
    def _encode_text(self, prompts: Sequence[str]) -> torch.Tensor:
        max_length = int(self.model.config.text_config.max_position_embeddings)
        tokens = self.tokenizer(list(prompts), padding=True, truncation=True, max_length=max_length,
                                return_tensors="pt")
        features = _features(self.model.get_text_features(input_ids=tokens["input_ids"].to(self.device),
                                                          attention_mask=tokens["attention_mask"].to(self.device)))
        return F.normalize(features.float(), dim=-1)

    # -- scoring -------------------------------------------------------------------------------------
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """``logit_scale * cosine`` between each image and every prompt, in the order the prompts were given.

        Args:
            images: images in [-1, 1] on :attr:`device`.

        Returns:
            float32 logits on :attr:`device`.

        Shape:
            ``[N, 3, H, W]`` -> ``[N, P]`` (P = all prompts of all attributes).
        """
        pixels = clip_preprocess(images, self.image_size, self.mean, self.std)
        features = F.normalize(_features(self.model.get_image_features(pixel_values=pixels)).float(), dim=-1)
        return self.logit_scale * features @ self.text_features.T

    def _scores(self, images: torch.Tensor) -> Dict[str, torch.Tensor]:
        logits = self.logits(images)
        scores = {}
        for indices, outputs in self._groups:
            probs = logits[:, indices].softmax(dim=1)  # [N, prompts of the attribute]
            for name, positions in outputs:
                scores[name] = probs[:, positions].sum(dim=1)
        return scores
