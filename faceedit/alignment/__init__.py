"""Face alignment: read any photo, find faces and landmarks, crop exactly like FFHQ, paste edits back.

    from faceedit.alignment import FaceAligner, load_image, paste_back

    aligner = FaceAligner(output_size=64)
    face = aligner.align("photo.jpg")                                  # largest face, FFHQ crop
    photo = paste_back(load_image("photo.jpg"), face, edited_crop)     # edited crop back in place

Names are imported lazily: dlib and scipy load only when alignment runs.
"""

from __future__ import annotations

from faceedit.utils.lazy import lazy_attributes

_LAZY = {
    "FaceAligner": "faceedit.alignment.api",
    "align_faces": "faceedit.alignment.api",
    "AlignedFace": "faceedit.alignment.ffhq",
    "align_face": "faceedit.alignment.ffhq",
    "ffhq_quad": "faceedit.alignment.ffhq",
    "paste_back": "faceedit.alignment.ffhq",
    "load_image": "faceedit.alignment.io",
    "FaceLandmarks": "faceedit.alignment.landmarks",
    "LandmarkDetector": "faceedit.alignment.landmarks",
    "landmark_model_path": "faceedit.alignment.landmarks",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_attributes("faceedit.alignment", _LAZY, globals())
