"""A restricted unpickler: pickle data is read as data, never as code.

``pickle`` turns a file into objects by calling whatever callables the file names. This module
resolves every such name through an explicit allow-list of *our own* safe constructors; any
other name raises :class:`~faceedit.errors.UnsafeCheckpointError` at the moment it is read,
before anything it names could run.
"""

from __future__ import annotations

import io
import pickle
from typing import Any, Callable, Mapping, Optional, Tuple

from faceedit.errors import CheckpointFormatError, UnsafeCheckpointError

__all__ = ["RestrictedUnpickler", "restricted_loads"]

GlobalKey = Tuple[str, str]


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose globals come only from ``allowed`` and that refuses persistent ids
    unless a ``persistent_load`` handler is given.

    Args:
        file: binary file positioned at the start of a pickle.
        allowed: maps ``(module, name)`` to the object to use in its place.
        persistent_load: handler for persistent ids (used by torch's storage records).
        what: short description of the data, used in error messages.
    """

    def __init__(
        self,
        file: io.BufferedIOBase,
        allowed: Mapping[GlobalKey, Any],
        persistent_load: Optional[Callable[[Any], Any]] = None,
        what: str = "pickle",
    ):
        super().__init__(file)
        self._allowed = allowed
        self._persistent_handler = persistent_load
        self._what = what

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafeCheckpointError(
                f"{self._what} refers to the global '{module}.{name}', which is not on faceedit's allow-list "
                f"of plain data types; it could run code, so the file was refused before loading it. Only load "
                f"checkpoints from sources you trust, and convert them with `faceedit convert`.") from None

    def persistent_load(self, pid: Any) -> Any:
        if self._persistent_handler is None:
            raise UnsafeCheckpointError(f"{self._what} uses a persistent id ({_short(pid)}), which this format never "
                                        f"contains; refused")
        return self._persistent_handler(pid)


def restricted_loads(data: bytes, allowed: Mapping[GlobalKey, Any], what: str = "pickle") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` and a fixed allow-list."""
    return load_one(io.BytesIO(data), allowed, what=what)


def load_one(file: io.BufferedIOBase, allowed: Mapping[GlobalKey, Any],
             persistent_load: Optional[Callable[[Any], Any]] = None, what: str = "pickle") -> Any:
    """Read one pickle from ``file``, turning the many ways a damaged pickle fails into one error."""
    try:
        return RestrictedUnpickler(file, allowed, persistent_load=persistent_load, what=what).load()
    except (UnsafeCheckpointError, CheckpointFormatError):
        raise
    except RecursionError:
        raise CheckpointFormatError(f"{what} is nested too deeply to be a network checkpoint") from None
    except MemoryError:
        raise CheckpointFormatError(
            f"{what} asks for more memory than is available; it is corrupt or hostile") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            OverflowError, UnicodeDecodeError) as exc:
        raise CheckpointFormatError(f"{what} is corrupt or truncated ({type(exc).__name__}: {exc})") from None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
