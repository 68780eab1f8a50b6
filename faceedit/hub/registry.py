"""Names of pretrained networks faceedit knows, with where to get them.

Official NVIDIA networks are listed with their download URL, resolution, dataset and licence.
Where a SHA-256 is known from independent sources it is pinned and checked; otherwise the
first verified download records its hash beside the file, and later loads check against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from faceedit.errors import ModelNotFoundError

__all__ = ["ModelSpec", "register_model", "get_model_spec", "list_models", "NVIDIA_LICENSE", "ASSETS_DIR"]

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"  # models shipped inside the package

NVIDIA_LICENSE = ("NVIDIA Source Code License (non-commercial research use only); "
                  "https://nvlabs.github.io/stylegan2-ada-pytorch/license.html")
NVIDIA_SG3_LICENSE = ("NVIDIA Source Code License for StyleGAN3 (non-commercial research use only); "
                      "https://github.com/NVlabs/stylegan3/blob/main/LICENSE.txt")
_ADA = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/"
_ADA_TRANSFER = _ADA + "transfer-learning-source-nets/"
_NGC = "https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan2/versions/1/files/"


@dataclass(frozen=True)
class ModelSpec:
    """A registered pretrained network."""

    name: str  # registry name, e.g. 'ffhq-1024'
    url: str  # where the file is downloaded from
    filename: str  # file name in the cache folder
    resolution: int  # output resolution in pixels
    dataset: str  # what it was trained on
    license: str  # licence of the weights
    description: str = ""  # one line for `faceedit models list`
    sha256: Optional[str] = None  # expected SHA-256 of the file, None = recorded on first download
    size: Optional[int] = None  # expected size in bytes, None = unknown
    bundled: Optional[str] = None  # folder under faceedit/assets shipped with the package, None = downloaded
    kind: str = "generator"  # 'generator', or 'perceptual' for loss networks such as LPIPS
    crop_scale: float = 1.0  # side of the model's face crops relative to FFHQ's alignment (1 = FFHQ)
    crop_shift: Tuple[float, float] = (0.0, 0.0)  # crop centre offset from FFHQ's, in crop sides (right, down)

    @property
    def bundled_path(self) -> Optional[Path]:
        """The model folder inside the installed package, None for downloaded models."""
        return ASSETS_DIR / self.bundled if self.bundled else None


_REGISTRY: Dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec, overwrite: bool = False) -> ModelSpec:
    """Add a model to the registry (for a project's own networks, or tests)."""
    if spec.name in _REGISTRY and not overwrite and _REGISTRY[spec.name] != spec:
        raise ValueError(f"a model named {spec.name!r} is already registered; pass overwrite=True to replace it")
    _REGISTRY[spec.name] = spec
    return spec


def unregister_model(name: str) -> None:
    _REGISTRY.pop(name, None)


def get_model_spec(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ModelNotFoundError(f"no model named {name!r} is registered.{hint} `faceedit models list` shows the "
                                 f"registered names; a path to a .pkl file or a saved folder works too") from None


def list_models() -> List[ModelSpec]:
    return sorted(_REGISTRY.values(), key=lambda s: s.name)


def _nvidia(name: str, url: str, resolution: int, dataset: str, description: str, sha256: Optional[str] = None,
            size: Optional[int] = None, license: str = NVIDIA_LICENSE) -> None:
    register_model(ModelSpec(name=name, url=url, filename=name + ".pkl", resolution=resolution, dataset=dataset,
                             license=license, description=description, sha256=sha256, size=size))


# StyleGAN2-ADA (PyTorch) release. Hashes pinned only where several independent public projects
# agree on them (ffhq.pkl, cifar10.pkl).
_nvidia("ffhq-1024", _ADA + "ffhq.pkl", 1024, "FFHQ", "StyleGAN2 config F faces (the standard face model)",
        sha256="a205a346e86a9ddaae702e118097d014b7b8bd719491396a162cca438f2f524c", size=381_624_121)
_nvidia("metfaces-1024", _ADA + "metfaces.pkl", 1024, "MetFaces", "art portraits, ADA transfer from FFHQ")
_nvidia("afhqcat-512", _ADA + "afhqcat.pkl", 512, "AFHQ Cat", "cat faces, ADA")
_nvidia("afhqdog-512", _ADA + "afhqdog.pkl", 512, "AFHQ Dog", "dog faces, ADA")
_nvidia("afhqwild-512", _ADA + "afhqwild.pkl", 512, "AFHQ Wild", "wild animal faces, ADA")
_nvidia("brecahad-512", _ADA + "brecahad.pkl", 512, "BreCaHAD", "histopathology, ADA")
_nvidia("cifar10-32", _ADA + "cifar10.pkl", 32, "CIFAR-10", "class-conditional (c_dim 10)",
        sha256="f8952c74e23da2186d147ad871c48780bd59500ee37c301201081ee8e0cb32f1")
_nvidia("ffhq-512", _ADA_TRANSFER + "ffhq-res512-mirror-stylegan2-noaug.pkl", 512, "FFHQ",
        "FFHQ faces at 512, StyleGAN2 config, no augmentation")
_nvidia("ffhq-256", _ADA_TRANSFER + "ffhq-res256-mirror-paper256-noaug.pkl", 256, "FFHQ",
        "FFHQ faces at 256, paper256 config")
_nvidia("ffhq-1024-noaug", _ADA_TRANSFER + "ffhq-res1024-mirror-stylegan2-noaug.pkl", 1024, "FFHQ",
        "FFHQ faces at 1024 retrained with the ADA code base, no augmentation")
_nvidia("celebahq-256", _ADA_TRANSFER + "celebahq-res256-mirror-paper256-kimg100000-ada-target0.5.pkl", 256,
        "CelebA-HQ", "celebrity faces at 256, ADA")
# StyleGAN2 networks re-released with StyleGAN3 (NGC); FFHQ-U / MetFaces-U are unaligned.
for _data, _res, _dataset, _what in [
    ("ffhq", 1024, "FFHQ", "FFHQ faces"), ("ffhq", 512, "FFHQ", "FFHQ faces at 512"),
    ("ffhq", 256, "FFHQ", "FFHQ faces at 256"), ("ffhqu", 1024, "FFHQ-U", "unaligned FFHQ faces"),
    ("ffhqu", 256, "FFHQ-U", "unaligned FFHQ faces at 256"), ("metfaces", 1024, "MetFaces", "art portraits"),
    ("celebahq", 256, "CelebA-HQ", "celebrity faces"), ("afhqv2", 512, "AFHQv2", "animal faces, all classes"),
]:
    _nvidia(f"ngc-{_data}-{_res}", f"{_NGC}stylegan2-{_data}-{_res}x{_res}.pkl", _res, _dataset,
            f"{_what} (NGC release)", license=NVIDIA_SG3_LICENSE)

# Perceptual loss network used by NVIDIA's projector: VGG16 with LPIPS weights, a TorchScript archive.
# faceedit reads only its tensors (faceedit.loading.torchscript), never its code.
register_model(ModelSpec(
    name="vgg16-lpips", url=_ADA + "metrics/vgg16.pt", filename="vgg16-lpips.pt", resolution=0,
    dataset="ImageNet + BAPPS (LPIPS)", license=NVIDIA_LICENSE + "; VGG16: CC BY 4.0; LPIPS weights: BSD-2-Clause",
    description="perceptual distance (LPIPS-VGG16) for projection, from NVIDIA's StyleGAN2-ADA metrics",
    kind="perceptual"))

# Bundled with the package: trained by this project on its procedural face world (docs/synthfaces.md).
register_model(ModelSpec(
    name="synthfaces-64", url="", filename="", resolution=64, dataset="synthfaces (procedural, ground truth)",
    license="Apache-2.0", bundled="synthfaces-64",
    # synthfaces frames heads wider than FFHQ: measured with dlib's 68 landmarks on 71 renders at 256 px
    # (median scale 1.46, mean centre offset (0.00, -0.03)); see docs/inversion.md.
    crop_scale=1.45, crop_shift=(0.0, -0.03),
    description="bundled default: StyleGAN2 trained on faceedit's procedural faces, runs offline (MODELS.md)"))
