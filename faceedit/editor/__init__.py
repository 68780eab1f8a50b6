"""The one front door for editing faces: :class:`FaceEditor` over a generator and everything made for it.

    from faceedit import FaceEditor

    editor = FaceEditor.from_pretrained("synthfaces-64")   # generator, directions, encoder, filters
    face = editor.encode("photo.jpg")                       # align + invert
    result = editor.edit(face, age=+1.5, gender=-0.5)       # EditResult: .aligned, .photo, .latent
    older = editor.apply_filter("photo.jpg", "older")       # distilled filter: one forward pass

Names are imported lazily.
"""

from __future__ import annotations

from faceedit.utils.lazy import lazy_attributes

_LAZY = {
    "FaceEditor": "faceedit.editor.pipeline",
    "EncodedFace": "faceedit.editor.results",
    "EditResult": "faceedit.editor.results",
    "choose_directions": "faceedit.editor.attributes",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
