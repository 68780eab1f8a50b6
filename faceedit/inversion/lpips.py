"""LPIPS-VGG16 perceptual distance, built from our own layers and NVIDIA's weight file read as data.

NVIDIA's projector uses a TorchScript VGG16 with LPIPS weights (``faceedit models fetch
vgg16-lpips``). Running that file would run its code, so :meth:`LPIPS.from_nvidia` reads only its
tensors (:mod:`faceedit.loading.torchscript`) and places them by shape into this module: the 13
VGG16 convolutions, their biases and LPIPS's five per-channel weights. The distance is LPIPS's
(Zhang et al. 2018): unit-normalise every feature vector at relu1_2, relu2_2, relu3_3, relu4_3 and
relu5_3, weight the squared differences per channel, average over positions, sum over layers.

Without the file, projection runs on pixel + MS-SSIM losses alone (the offline default).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F

from faceedit.errors import CheckpointFormatError

__all__ = ["LPIPS", "VGG16_LAYERS", "load_lpips"]

# (out, in) channels of VGG16's convolutions; 'M' = 2x2 max pooling.
VGG16_LAYERS: Sequence = ((64, 3), (64, 64), "M", (128, 64), (128, 128), "M", (256, 128), (256, 256), (256, 256), "M",
                          (512, 256), (512, 512), (512, 512), "M", (512, 512), (512, 512), (512, 512))
TAPS = (1, 3, 6, 9, 12)  # convolutions whose ReLU outputs LPIPS compares
TAP_CHANNELS = (64, 128, 256, 512, 512)
# LPIPS's input scaling for images in [-1, 1]
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)


class LPIPS(torch.nn.Module):
    """LPIPS distance ``[N]`` between image batches ``[N, 3, H, W]`` in [-1, 1] (0 for identical images)."""

    def __init__(self):
        super().__init__()
        self.convs = torch.nn.ModuleList(torch.nn.Conv2d(i, o, 3, padding=1) for o, i in
                                         (layer for layer in VGG16_LAYERS if layer != "M"))
        self.weights = torch.nn.ParameterList(torch.nn.Parameter(torch.ones(c)) for c in TAP_CHANNELS)
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False)

    def features(self, images: torch.Tensor) -> List[torch.Tensor]:
        """Unit-normalised VGG16 features at the five LPIPS taps, ``[N, C_l, H_l, W_l]`` each."""
        x = (images - self.shift) / self.scale
        out, conv = [], 0
        for layer in VGG16_LAYERS:
            if layer == "M":
                x = F.max_pool2d(x, 2)
                continue
            x = F.relu(self.convs[conv](x))
            if conv in TAPS:
                out.append(x / (x.square().sum(dim=1, keepdim=True).sqrt() + 1e-10))
            conv += 1
        return out

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        total = 0
        for fa, fb, w in zip(self.features(a), self.features(b), self.weights):
            total = total + ((fa - fb).square() * w.view(1, -1, 1, 1)).sum(dim=1).mean(dim=[1, 2])
        return total

    @classmethod
    def from_nvidia(cls, path: Union[str, Path]) -> "LPIPS":
        """Build from NVIDIA's ``vgg16.pt`` (TorchScript), reading its tensors only."""
        from faceedit.loading.torchscript import read_torchscript_tensors

        module = cls()
        module.load_state_dict(_place_by_shape(read_torchscript_tensors(path)), strict=True)
        return module.eval()


def _place_by_shape(tensors: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Map a VGG16+LPIPS tensor set onto :class:`LPIPS`'s names by shape and order."""
    convs = [(o, i) for layer in VGG16_LAYERS if layer != "M" for o, i in [layer]]
    items = list(tensors.items())
    weights = [(k, v) for k, v in items if v.ndim == 4 and tuple(v.shape[2:]) == (3, 3)]
    shapes = [tuple(v.shape[:2]) for _, v in weights]
    if shapes != convs:
        raise CheckpointFormatError(f"not a VGG16 with LPIPS weights: its 3x3 convolutions have shapes "
                                    f"{shapes[:4]}..., expected VGG16's {convs[:4]}...; fetch it with "
                                    f"`faceedit models fetch vgg16-lpips`")
    state: Dict[str, torch.Tensor] = {}
    used = set()
    for index, (name, weight) in enumerate(weights):
        state[f"convs.{index}.weight"] = weight.float()
        used.add(name)
        bias_name = name[: -len("weight")] + "bias" if name.endswith("weight") else None
        if bias_name not in tensors:  # otherwise: the next unused vector of the right length in file order
            position = [k for k, _ in items].index(name)
            bias_name = next((k for k, v in items[position + 1:] if k not in used and v.ndim == 1
                              and v.numel() == weight.shape[0]), None)
        if bias_name is None:
            raise CheckpointFormatError(f"no bias found for the VGG16 convolution {name}")
        state[f"convs.{index}.bias"] = tensors[bias_name].float().reshape(-1)
        used.add(bias_name)
    rest = [(k, v) for k, v in items if k not in used and v.numel() in TAP_CHANNELS and v.numel() > 3]
    lin: List[torch.Tensor] = []
    for channels in TAP_CHANNELS:
        match = next(((k, v) for k, v in rest if v.numel() == channels and k not in used), None)
        if match is None:
            raise CheckpointFormatError(f"no LPIPS weights for the {channels}-channel layer in the file")
        used.add(match[0])
        lin.append(match[1].float().reshape(-1))
    for index, value in enumerate(lin):
        state[f"weights.{index}"] = value
    state["shift"] = torch.tensor(SHIFT).view(1, 3, 1, 1)
    state["scale"] = torch.tensor(SCALE).view(1, 3, 1, 1)
    return state


def load_lpips(device: Union[str, torch.device, None] = None, download: bool = False) -> Optional[LPIPS]:
    """LPIPS from the model cache (``faceedit models fetch vgg16-lpips``), or None when it is not there.

    ``download=True`` fetches it (online machines only).
    """
    from faceedit.hub import fetch_model, get_model_spec, is_cached

    spec = get_model_spec("vgg16-lpips")
    if not is_cached(spec) and not download:
        return None
    return LPIPS.from_nvidia(fetch_model(spec)).to(device or "cpu")
