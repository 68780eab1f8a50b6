"""Exceptions raised by faceedit.

Every error a user can trigger derives from :class:`FaceEditError`, so callers (the CLI, the
app) can catch one type and show its message, which always says what went wrong and what to do.
"""

from __future__ import annotations


class FaceEditError(Exception):
    """Base class of every error faceedit raises on purpose."""


class UnsafeCheckpointError(FaceEditError):
    """A checkpoint asked for something that could execute code, and was refused before it ran.

    Raised by the restricted unpickler for a global outside its allow-list, for embedded module
    source that would run code at import, or for a hostile pickle hidden in tensor storage bytes.
    """


class CheckpointFormatError(FaceEditError):
    """A checkpoint is corrupt, truncated, inconsistent or of a kind faceedit cannot build."""


class ModelNotFoundError(FaceEditError):
    """A model name or path does not resolve to anything faceedit can load."""


class ModelDownloadError(FaceEditError):
    """A registered model could not be downloaded or failed its integrity check."""


class ModelMismatchError(FaceEditError):
    """Something made for one generator (a direction, a filter) was used with another."""


class InvalidImageError(FaceEditError):
    """An input is not an image faceedit can read, or is absurdly large or small."""


class NoFaceFoundError(FaceEditError):
    """No face was detected in an image."""


class FaceIndexError(FaceEditError, IndexError):
    """A face number was asked for that the photo does not have (fewer faces were detected)."""
