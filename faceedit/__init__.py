"""faceedit: latent-space face editing with StyleGAN2, in the open.

The main entry points::

    editor = faceedit.FaceEditor.from_pretrained("synthfaces-64")   # bundled, offline
    result = editor.edit(editor.encode("photo.jpg"), age=+1.5)     # result.photo: the edited photo

    import faceedit
    G = faceedit.load_generator("path/to/ffhq.pkl")      # NVIDIA pickle, read safely
    ws = G.mapping(z, None, truncation_psi=0.7)           # [N, num_ws, w_dim]
    img = G.synthesis(ws)                                 # [N, 3, H, W], about [-1, 1]

Heavy submodules are imported on first use, so ``import faceedit`` stays light.
"""

from __future__ import annotations

from faceedit.errors import (
    CheckpointFormatError,
    FaceEditError,
    FaceIndexError,
    InvalidImageError,
    ModelDownloadError,
    ModelMismatchError,
    ModelNotFoundError,
    NoFaceFoundError,
    UnsafeCheckpointError,
)
from faceedit.utils.lazy import lazy_attributes

__version__ = "0.1.0"

_LAZY = {
    "load_generator": "faceedit.loading.api",
    "Generator": "faceedit.networks.generator",
    "images_from_tensor": "faceedit.utils.images",
    "FaceEditor": "faceedit.editor.pipeline",
    "EncodedFace": "faceedit.editor.results",
    "EditResult": "faceedit.editor.results",
}

__all__ = ["__version__", "FaceEditError", "UnsafeCheckpointError", "CheckpointFormatError", "ModelNotFoundError",
           "ModelMismatchError", "ModelDownloadError", "InvalidImageError", "NoFaceFoundError", "FaceIndexError",
           *_LAZY]


__getattr__, __dir__ = lazy_attributes("faceedit", _LAZY, globals())
