"""One call from a user's photo to FFHQ-aligned face crops: :class:`FaceAligner` and :func:`align_faces`."""

from __future__ import annotations

from typing import List, Optional, Tuple

from faceedit.alignment.ffhq import AlignedFace, align_face
from faceedit.alignment.io import MAX_PIXELS, ImageSource, load_image
from faceedit.alignment.landmarks import FaceLandmarks, LandmarkDetector
from faceedit.errors import NoFaceFoundError

__all__ = ["FaceAligner", "align_faces"]


class FaceAligner:
    """Detect faces, find landmarks and crop them as FFHQ was made.

    Example::

        aligner = FaceAligner(output_size=G.img_resolution)
        face = aligner.align("photo.jpg")          # the largest face
        face.image                                 # uint8 [S, S, 3], ready for inversion
        photo = load_image("photo.jpg")
        result = paste_back(photo, face, edited)   # edited crop back into the photo
    """

    def __init__(
        self,
        output_size: int = 1024,  # side of the aligned crops; use the generator's resolution
        points: Optional[int] = None,  # landmark model: 68, 5, or None = 68 when installed, else 5
        upsample: int = 1,  # detector upsampling passes (more finds smaller faces, slower)
        transform_size: Optional[int] = None,  # FFHQ's intermediate size; None = 4 x output_size
        max_pixels: int = MAX_PIXELS,  # refuse larger photos
        crop_scale: float = 1.0,  # crop side relative to FFHQ's; use the generator's (ModelSpec.crop_scale)
        crop_shift: Tuple[float, float] = (0.0, 0.0),  # crop centre offset from FFHQ's, in crop sides
    ):
        if output_size < 8:
            raise ValueError(f"output_size must be at least 8 pixels, got {output_size}")
        self.output_size = int(output_size)
        self.transform_size = transform_size
        self.max_pixels = max_pixels
        self.crop_scale = float(crop_scale)
        self.crop_shift = (float(crop_shift[0]), float(crop_shift[1]))
        self.detector = LandmarkDetector(points=points, upsample=upsample)

    @classmethod
    def for_model(cls, model: str, output_size: Optional[int] = None, **kwargs) -> "FaceAligner":
        """An aligner framed like a registered model's training faces (``ModelSpec.crop_scale/crop_shift``).

        ``output_size`` defaults to the model's resolution; an unregistered name or a path gets FFHQ's framing
        (and needs ``output_size``).
        """
        from faceedit.errors import ModelNotFoundError
        from faceedit.hub.registry import get_model_spec

        try:
            spec = get_model_spec(str(model))
        except ModelNotFoundError:
            spec = None
        if output_size is None:
            if spec is None or not spec.resolution:
                raise ValueError(f"{model!r} is not a registered model; pass output_size (the generator's resolution)")
            output_size = spec.resolution
        if spec is not None:
            kwargs.setdefault("crop_scale", spec.crop_scale)
            kwargs.setdefault("crop_shift", spec.crop_shift)
        return cls(output_size=output_size, **kwargs)

    def detect(self, image: ImageSource) -> List[FaceLandmarks]:
        """Every face in the photo, largest first (possibly none)."""
        return self.detector(load_image(image, self.max_pixels))

    def align(self, image: ImageSource) -> AlignedFace:
        """The largest face, aligned.

        Raises:
            NoFaceFoundError: no face was found.
            InvalidImageError: the input is not a usable image.
        """
        return self.align_all(image, limit=1)[0]

    def align_all(self, image: ImageSource, limit: Optional[int] = None) -> List[AlignedFace]:
        """Every face (largest first, at most ``limit``), aligned.

        Raises:
            NoFaceFoundError: no face was found.
        """
        photo = load_image(image, self.max_pixels)
        faces = self.detector(photo)
        if not faces:
            raise NoFaceFoundError(f"no face found in the {photo.shape[1]} x {photo.shape[0]} image; use a photo "
                                   f"where a face is clearly visible, upright and at least about 40 pixels wide")
        return [align_face(photo, face.points, self.output_size, self.transform_size, scale=self.crop_scale,
                           shift=self.crop_shift) for face in faces[:limit]]

    __call__ = align


def align_faces(image: ImageSource, output_size: int = 1024, points: Optional[int] = None) -> List[AlignedFace]:
    """Function form of :meth:`FaceAligner.align_all`: every face in ``image``, aligned, largest first."""
    return FaceAligner(output_size=output_size, points=points).align_all(image)
