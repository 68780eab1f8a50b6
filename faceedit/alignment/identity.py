"""Identity similarity of two face images with dlib's face descriptor (ResNet, 128-d).

dlib's model (``dlib_face_recognition_resnet_model_v1.dat`` from ``face-recognition-models``) maps
a face chip to a 128-d vector; two photos of one person are usually closer than 0.6 (dlib's
threshold, 99.38 % on LFW). :func:`identity_distance` finds the face and its landmarks in each
image (upscaling small crops first), then compares the descriptors.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from faceedit.alignment.landmarks import INSTALL_HINT, LandmarkDetector, _package_dirs

__all__ = ["FaceDescriptor", "identity_distance", "SAME_PERSON_THRESHOLD"]

SAME_PERSON_THRESHOLD = 0.6  # dlib's threshold on the descriptor distance
MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"


class FaceDescriptor:
    """dlib's 128-d face descriptor of the largest face in an image."""

    def __init__(self, min_side: int = 256):  # smaller images are upscaled to this before detection
        import dlib

        path = next((d / "models" / MODEL_FILE for d in _package_dirs("face_recognition_models")
                     if (d / "models" / MODEL_FILE).is_file()), None)
        if path is None:
            raise ImportError(f"dlib's face descriptor comes with 'face-recognition-models': {INSTALL_HINT}")
        self._model = dlib.face_recognition_model_v1(str(path))
        self._landmarks = LandmarkDetector(points=5 if _has_5_point() else None, upsample=1)
        self._dlib = dlib
        self.min_side = min_side

    def __call__(self, image: np.ndarray) -> Optional[np.ndarray]:
        """``[128]`` descriptor of the largest face in ``uint8 [H, W, 3]``, or None when no face is found."""
        from PIL import Image

        rgb = np.asarray(image, dtype=np.uint8)
        if min(rgb.shape[:2]) < self.min_side:
            factor = self.min_side / min(rgb.shape[:2])
            size = (round(rgb.shape[1] * factor), round(rgb.shape[0] * factor))
            rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.BICUBIC))
        faces = self._landmarks(rgb)
        if not faces:
            return None
        face = faces[0]
        box = self._dlib.rectangle(*[int(v) for v in face.box])
        shape = self._dlib.full_object_detection(box, [self._dlib.point(int(x), int(y)) for x, y in face.points])
        chip = self._dlib.get_face_chip(rgb, shape, size=150, padding=0.25)
        return np.array(self._model.compute_face_descriptor(chip))


def _has_5_point() -> bool:
    try:
        from faceedit.alignment.landmarks import landmark_model_path

        landmark_model_path(5)
        return True
    except ImportError:
        return False


def identity_distance(a: np.ndarray, b: np.ndarray, descriptor: Optional[FaceDescriptor] = None) -> float:
    """Descriptor distance between the largest faces of two images (below 0.6: the same person).

    Returns NaN when either image shows no detectable face.
    """
    descriptor = descriptor or FaceDescriptor()
    da, db = descriptor(a), descriptor(b)
    if da is None or db is None:
        return float("nan")
    return float(np.linalg.norm(da - db))
