"""Distilled filters: a trained Pix2PixHD generator that edits an aligned face in one forward pass.

    older = Filter.load("older")                  # bundled for synthfaces-64, or a folder
    edited = older(photo)                          # whole photo: align, filter, paste back
    edited_crop = older.apply_crop(aligned_crop)   # an aligned crop at the filter's resolution
    stronger = older(photo, strength=1.2)          # 1.2 times the distilled change (0 = none)
    older.default_strength                         # what a call without strength applies (1 unless calibrated)
    older.export_onnx("older.onnx")                # runs with onnxruntime, same outputs

A filter is a folder: ``config.json`` (architecture, resolution, default strength, what it was distilled from)
+ ``model.safetensors``. ``faceedit filters calibrate`` (:mod:`distill.calibrate`) sets the default strength so
that the filter changes pictures it was not distilled on as much as its teacher changes its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import numpy as np
import torch

from distill.networks import build_generator

__all__ = ["Filter", "FILTER_FORMAT", "BUNDLED_FILTERS_DIR", "MAX_STRENGTH", "bundled_filters", "check_strength",
           "apply_in_batches"]

FILTER_FORMAT = "faceedit-filter"
FILTER_VERSION = 1
BUNDLED_FILTERS_DIR = Path(__file__).resolve().parent / "assets"  # MODEL/NAME/ folders


def bundled_filters(model: str = "synthfaces-64") -> List[str]:
    """Names of the filters bundled for ``model``."""
    folder = BUNDLED_FILTERS_DIR / model
    return sorted(p.name for p in folder.iterdir() if (p / "config.json").is_file()) if folder.is_dir() else []


MAX_STRENGTH = 3.0  # past this an extrapolated change is mostly artefacts


def check_strength(strength: float) -> float:
    """``strength`` as a float, or a ValueError that says which values a filter takes."""
    value = float(strength)
    if not 0.0 <= value <= MAX_STRENGTH:  # also refuses NaN
        raise ValueError(f"filter strength {strength!r} is outside 0-{MAX_STRENGTH:g} (1 = the distilled change, 0 = "
                         f"none); to edit the other way use the opposite filter (older / younger, feminine / "
                         f"masculine)")
    return value


class Filter:
    """A distilled image-to-image edit at a fixed resolution."""

    def __init__(
        self,
        network: torch.nn.Module,  # GlobalGenerator or LocalEnhancer
        resolution: int,  # side of the aligned crops it works on
        architecture: Dict[str, Any],  # build_generator arguments (kind + sizes), saved with the weights
        metadata: Optional[Dict[str, Any]] = None,  # provenance: teacher model, direction, dataset, training,
        #   calibration
        default_strength: float = 1.0,  # what a call without a strength applies (1 = as distilled)
    ):
        self.network = network.eval()
        self.resolution = int(resolution)
        self.architecture = dict(architecture)
        self.metadata = dict(metadata or {})
        self.default_strength = check_strength(default_strength)
        self.stored_dtype = torch.float32  # the dtype save_pretrained writes by default (a loaded filter: its file's)
        self._aligner = None

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    def to(self, device: Union[str, torch.device]) -> "Filter":
        self.network.to(device)
        return self

    # ------------------------------------------------------------------ applying

    @torch.no_grad()
    def apply_tensor(self, images: torch.Tensor, strength: Optional[float] = None) -> torch.Tensor:
        """Edit aligned crops.

        Args:
            images: crops in [-1, 1].
            strength: how much of the filter's change to apply: ``images + strength * (filter(images) - images)``.
                1 = as distilled, 0 = none; above 1 extrapolates the change (its artefacts grow with it).
                None = :attr:`default_strength`.

        Shape:
            ``[N, 3, R, R]`` -> ``[N, 3, R, R]``.
        """
        if images.ndim != 4 or tuple(images.shape[1:]) != (3, self.resolution, self.resolution):
            raise ValueError(f"this filter works on [N, 3, {self.resolution}, {self.resolution}] crops, got "
                             f"{tuple(images.shape)}")
        strength = self._strength(strength)
        x = images.to(self.device).float()
        edited = self.network(x)  # [N, 3, R, R]
        if strength == 1.0:
            return edited
        return (x + strength * (edited - x)).clamp(-1, 1)

    def apply_crop(self, crop: np.ndarray, strength: Optional[float] = None) -> np.ndarray:
        """An aligned crop ``uint8 [R, R, 3]`` -> the edited crop (``strength`` as in :meth:`apply_tensor`)."""
        from faceedit.utils.images import images_from_tensor, tensor_from_images

        edited = self.apply_tensor(tensor_from_images(np.asarray(crop, dtype=np.uint8)), strength=strength)
        return images_from_tensor(edited)[0]

    def apply_photo(self, photo, every_face: bool = False, aligner=None, strength: Optional[float] = None,
                    paste_change: bool = True) -> np.ndarray:
        """A whole photo (anything :func:`faceedit.alignment.load_image` reads): align the largest face (or every
        face), filter it, paste it back. Returns ``uint8 [H, W, 3]``; ``strength`` as in :meth:`apply_tensor`.

        ``paste_change`` adds only the filter's change to the photo, which keeps the photo's own detail where
        the filter works at a lower resolution than the face has (as ``FaceEditor.paste_change``); False
        pastes the filtered crop itself.

        ``aligner`` crops faces as the teacher generator's training faces were framed
        (``FaceAligner.for_model(name)``); None = the framing of the model recorded in the filter's metadata
        (FFHQ's when it is not a registered model).

        Raises:
            NoFaceFoundError / InvalidImageError: from the alignment.
        """
        from faceedit.alignment import FaceAligner, load_image, paste_back

        if aligner is None:
            if self._aligner is None:
                self._aligner = FaceAligner.for_model(self.metadata.get("teacher") or "", output_size=self.resolution)
            aligner = self._aligner
        strength = self._strength(strength)  # before the alignment's work
        image = load_image(photo)
        faces = aligner.align_all(image, limit=None if every_face else 1)
        for face in faces:
            image = paste_back(image, face, self.apply_crop(face.image, strength=strength),
                               reference=face.image if paste_change else None)
        return image

    def __call__(self, image, strength: Optional[float] = None) -> np.ndarray:
        """An aligned crop (a square array at the filter's resolution) or a whole photo (anything else);
        ``strength`` as in :meth:`apply_tensor`."""
        array = image if isinstance(image, np.ndarray) else None
        if array is not None and array.shape == (self.resolution, self.resolution, 3):
            return self.apply_crop(array, strength=strength)
        return self.apply_photo(image, strength=strength)

    def _strength(self, strength: Optional[float]) -> float:
        return self.default_strength if strength is None else check_strength(strength)

    # ------------------------------------------------------------------ files

    def save_pretrained(self, directory: Union[str, Path], dtype: Optional[torch.dtype] = None) -> Path:
        """Write ``config.json`` + ``model.safetensors``; ``dtype`` float16 halves the size (loading casts back);
        None = :attr:`stored_dtype` (float32, or the dtype of the file the filter was loaded from)."""
        dtype = dtype or self.stored_dtype
        from faceedit.utils.model_folder import write_model_folder

        config = {"format": FILTER_FORMAT, "format_version": FILTER_VERSION, "resolution": self.resolution,
                  "default_strength": self.default_strength, "architecture": self.architecture,
                  "metadata": self.metadata}
        tensors = {k: v.to(dtype) if v.is_floating_point() else v for k, v in self.network.state_dict().items()}
        return write_model_folder(directory, tensors, config)

    @classmethod
    def from_pretrained(cls, directory: Union[str, Path], device: Union[str, torch.device, None] = None) -> "Filter":
        from faceedit.utils.model_folder import read_model_folder

        config, state = read_model_folder(directory, FILTER_FORMAT, FILTER_VERSION, "filter",
                                          "train one with `faceedit distill train`")
        network = build_generator(**config["architecture"])
        network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=True)
        # folders written before calibration existed have no default strength: theirs is the distilled change
        flt = cls(network, config["resolution"], config["architecture"], config.get("metadata"),
                  config.get("default_strength", 1.0))
        flt.stored_dtype = next((v.dtype for v in state.values() if v.is_floating_point()), torch.float32)
        return flt.to(device or "cpu")

    @classmethod
    def load(cls, name_or_path: Union[str, Path], model: str = "synthfaces-64",
             device: Union[str, torch.device, None] = None) -> "Filter":
        """A filter folder, or the name of a filter bundled for ``model`` (``'older'``, ``'younger'``, ...)."""
        path = Path(name_or_path)
        if (path / "config.json").is_file():
            return cls.from_pretrained(path, device)
        bundled = BUNDLED_FILTERS_DIR / model / str(name_or_path)
        if (bundled / "config.json").is_file():
            return cls.from_pretrained(bundled, device)
        from faceedit.errors import ModelNotFoundError

        have = ", ".join(bundled_filters(model)) or "none"
        raise ModelNotFoundError(f"no filter {str(name_or_path)!r}: not a filter folder, and not one of the filters "
                                 f"bundled for {model} ({have}); train one with `faceedit distill train`")

    def export_onnx(self, path: Union[str, Path], batch_size: Optional[int] = None,
                    strength: Optional[float] = None) -> Path:
        """Write an ONNX model (input ``images [N, 3, R, R]`` in [-1, 1], output ``edited``); needs ``onnx``.

        ``batch_size=None`` exports a dynamic batch dimension. ``strength`` is built into the model, as
        :meth:`apply_tensor` applies it; None = :attr:`default_strength`.
        """
        strength = self._strength(strength)
        try:
            import onnx  # noqa: F401  (torch's exporter needs it)
        except ImportError as exc:
            raise ImportError("ONNX export needs onnx and onnxscript: pip install 'faceedit[onnx]'") from exc
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        example = torch.zeros(batch_size or 1, 3, self.resolution, self.resolution, device=self.device)
        dynamic = None if batch_size else ({0: torch.export.Dim("batch", max=1024)},)
        tmp = path.with_name(path.name + ".tmp")
        module = self.network.eval() if strength == 1.0 else _WithStrength(self.network, strength).eval()
        torch.onnx.export(module, (example,), str(tmp), input_names=["images"], output_names=["edited"],
                          dynamic_shapes=dynamic, dynamo=True, external_data=False)
        tmp.replace(path)
        return path


class _WithStrength(torch.nn.Module):
    """A filter network with its strength applied, as :meth:`Filter.apply_tensor` does (for ONNX export)."""

    def __init__(self, network: torch.nn.Module, strength: float):
        super().__init__()
        self.network = network
        self.strength = float(strength)

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # [N, 3, R, R] -> [N, 3, R, R]
        return (images + self.strength * (self.network(images) - images)).clamp(-1, 1)


def apply_in_batches(flt: Filter, images: torch.Tensor, strength: Optional[float] = None,
                     batch: int = 32) -> torch.Tensor:
    """:meth:`Filter.apply_tensor` over ``images [N, 3, R, R]`` a batch at a time (the memory of one batch)."""
    return torch.cat([flt.apply_tensor(images[i:i + batch], strength) for i in range(0, len(images), batch)])
