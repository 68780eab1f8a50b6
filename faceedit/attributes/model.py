"""Small CNNs that predict every synthfaces factor from an image, with the project's file format.

A saved classifier is a folder with ``config.json`` (architecture, factor heads, held-out
metrics, provenance) and ``model.safetensors``. Two are bundled: the *labeler*, which the
pipeline may use to build directions, and the *judge*, trained independently (different seed,
data and architecture) and used only to evaluate.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from faceedit.errors import CheckpointFormatError
from faceedit.utils.model_folder import read_model_folder, write_model_folder

__all__ = ["AttributeNet", "HeadSpec", "heads_from_factors", "FORMAT_NAME"]

FORMAT_NAME = "faceedit-attribute-classifier"
FORMAT_VERSION = 1
HeadSpec = Dict[str, Any]  # {'name', 'kind', 'low', 'high', 'classes'}


def heads_from_factors(factors: Optional[Sequence[Any]] = None) -> List[HeadSpec]:
    """Head specs for factor specs (default: every synthfaces factor)."""
    if factors is None:
        from faceedit.synthfaces import FACTORS

        factors = FACTORS
    return [dict(name=f.name, kind=f.kind, low=float(f.low), high=float(f.high), classes=list(f.classes))
            for f in factors]


def _head_width(head: HeadSpec) -> int:
    return len(head["classes"]) if head["kind"] == "categorical" else 1


class _Block(torch.nn.Module):
    """Conv-norm-ReLU, twice, halving the resolution; residual when ``residual``."""

    def __init__(self, in_channels: int, out_channels: int, residual: bool):
        super().__init__()
        self.conv0 = torch.nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.norm0 = torch.nn.BatchNorm2d(out_channels)
        self.conv1 = torch.nn.Conv2d(out_channels, out_channels, 3, stride=2, padding=1, bias=False)
        self.norm1 = torch.nn.BatchNorm2d(out_channels)
        self.skip = torch.nn.Conv2d(in_channels, out_channels, 1, stride=2, bias=False) if residual else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm0(self.conv0(x)))  # [N, C_out, R, R]
        y = self.norm1(self.conv1(y))  # [N, C_out, R/2, R/2]
        if self.skip is not None:
            y = y + self.skip(x)
        return F.relu(y)


class AttributeNet(torch.nn.Module):
    """Image ``[N, 3, H, W]`` in [-1, 1] -> one head per factor.

    Continuous factors are regressed on a [0, 1] scale (mapped back to their range by
    :meth:`predict`), binary factors give a logit, categorical factors give class logits.

    Example:
        >>> net = AttributeNet(heads=[dict(name="age", kind="continuous", low=0.0, high=1.0, classes=[])],
        ...                    widths=(8, 16), feature_dim=16)
        >>> net.predict(torch.zeros(2, 3, 32, 32))["age"].shape
        torch.Size([2])
    """

    def __init__(
        self,
        heads: Sequence[HeadSpec],  # factors to predict: name, kind, low, high, classes
        widths: Sequence[int] = (32, 64, 128, 128),  # channels of the blocks; each halves the resolution
        stem_kernel: int = 3,  # kernel size of the first convolution
        stem_stride: int = 2,  # stride of the first convolution (2 halves the cost of everything after it)
        residual: bool = False,  # residual blocks
        feature_dim: int = 256,  # width of the penultimate features
        input_resolution: int = 64,  # images are resized to this resolution first
    ):
        super().__init__()
        if not heads:
            raise ValueError("an AttributeNet needs at least one head")
        self.heads = [dict(h) for h in heads]
        self.config: Dict[str, Any] = dict(heads=copy.deepcopy(self.heads), widths=list(widths),
                                           stem_kernel=stem_kernel, stem_stride=stem_stride, residual=residual,
                                           feature_dim=feature_dim, input_resolution=input_resolution)
        self.input_resolution = input_resolution
        self.stem = torch.nn.Sequential(
            torch.nn.Conv2d(3, widths[0], stem_kernel, stride=stem_stride, padding=stem_kernel // 2, bias=False),
            torch.nn.BatchNorm2d(widths[0]), torch.nn.ReLU())
        blocks = []
        for cin, cout in zip([widths[0]] + list(widths[:-1]), widths):
            blocks.append(_Block(cin, cout, residual))
        self.blocks = torch.nn.Sequential(*blocks)
        self.features_fc = torch.nn.Linear(widths[-1], feature_dim)
        self.out = torch.nn.Linear(feature_dim, sum(_head_width(h) for h in self.heads))

    @property
    def head_names(self) -> Tuple[str, ...]:
        return tuple(h["name"] for h in self.heads)

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``[N, 3, H, W]`` in [-1, 1] -> the network's dtype and input resolution."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images [N, 3, H, W] in [-1, 1], got shape {tuple(images.shape)}")
        x = images.to(self.out.weight.dtype)
        size = (self.input_resolution, self.input_resolution)
        if tuple(x.shape[-2:]) != size:
            if x.shape[-1] > self.input_resolution:  # shrinking: average, so no detail aliases
                x = F.interpolate(x, size=size, mode="area")
            else:
                x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return x  # [N, 3, input_resolution, input_resolution]

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``[N, feature_dim]`` (used for Fréchet distances)."""
        x = self.blocks(self.stem(self.prepare(images)))  # [N, C, r, r]
        return F.relu(self.features_fc(x.mean(dim=[2, 3])))  # [N, feature_dim]

    def forward(self, images: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Raw head outputs: ``[N]`` for continuous (0-1 scale) and binary (logit), ``[N, K]`` logits."""
        return self.split(self.out(self.features(images)))

    def split(self, outputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        result, start = {}, 0
        for head in self.heads:
            width = _head_width(head)
            chunk = outputs[:, start:start + width]
            result[head["name"]] = chunk if head["kind"] == "categorical" else chunk[:, 0]
            start += width
        return result

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 256) -> Dict[str, torch.Tensor]:
        """Factor estimates in the factors' own units.

        Returns:
            ``{name: [N]}`` values in ``[low, high]`` for continuous factors, ``{name: [N]}``
            probabilities for binary factors, ``{name: [N, K]}`` class probabilities for
            categorical ones.
        """
        was_training = self.training
        self.eval()
        parts: List[Dict[str, torch.Tensor]] = []
        for start in range(0, len(images), batch_size):
            raw = self(images[start:start + batch_size].to(self.out.weight.device))
            parts.append({name: self._to_units(head, raw[name]) for name, head in zip(self.head_names, self.heads)})
        self.train(was_training)
        return {name: torch.cat([p[name] for p in parts]) for name in self.head_names}

    @staticmethod
    def _to_units(head: HeadSpec, raw: torch.Tensor) -> torch.Tensor:
        if head["kind"] == "continuous":
            return head["low"] + raw.clamp(0, 1) * (head["high"] - head["low"])
        if head["kind"] == "binary":
            return torch.sigmoid(raw)
        return torch.softmax(raw, dim=1)

    def loss(self, outputs: Dict[str, torch.Tensor], labels: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Per-head losses: MSE on the 0-1 scale, binary and categorical cross-entropy."""
        losses = {}
        for head in self.heads:
            name, y = head["name"], labels[head["name"]].to(outputs[head["name"]].device)
            if head["kind"] == "continuous":
                target = (y - head["low"]) / (head["high"] - head["low"])
                losses[name] = F.mse_loss(outputs[name], target) * 10  # MSE of 0-1 targets is small beside CE
            elif head["kind"] == "binary":
                losses[name] = F.binary_cross_entropy_with_logits(outputs[name], y)
            else:
                losses[name] = F.cross_entropy(outputs[name], y.long())
        return losses

    # ------------------------------------------------------------------ file format

    def save_pretrained(self, directory: Union[str, Path], metadata: Optional[Mapping[str, Any]] = None) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (atomically, config last)."""
        config = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "model": self.config,
                  "metadata": dict(metadata or {})}
        return write_model_folder(directory, self.state_dict(), config)

    @classmethod
    def from_pretrained(cls, directory: Union[str, Path], device: Union[str, torch.device, None] = None
                        ) -> "AttributeNet":
        """Load a classifier folder strictly (hash-checked); returns it in eval mode."""
        config, state = read_model_folder(directory, FORMAT_NAME, FORMAT_VERSION, "attribute classifier",
                                          "AttributeNet.save_pretrained or `faceedit train-classifier`")
        try:
            net = cls(**config["model"])
            net.load_state_dict(state, strict=True)
        except (TypeError, KeyError, ValueError, RuntimeError) as exc:
            raise CheckpointFormatError(f"{directory}: the weights do not fit the classifier its config describes "
                                        f"({exc}); re-create it with `faceedit train-classifier`") from None
        net.metadata = dict(config.get("metadata", {}))
        return net.to(device or "cpu").eval()
