"""One model shared by every session of the app, and what each call on it may overlap with.

Every session (browser tab) of the app runs in its own thread, and all of them share one
:class:`SharedEditor` per model (``st.cache_resource``). A long inversion of one user must never hold up
another user's slider: of everything the app calls, only face detection takes a lock (see
:attr:`SharedEditor.detect_lock`); edits, filters, the encoder and the projection run side by side.
"""

from __future__ import annotations

import threading
from typing import Callable, Dict, List, Optional, Tuple

__all__ = ["SharedEditor", "APP_METHODS"]

APP_METHODS = ("encoder", "encoder+w+", "w+")  # inversions the app offers; never 'pti' (see SharedEditor)


class SharedEditor:
    """A ``FaceEditor`` used by many sessions at once, holding no user data.

    Why each call is safe without a lock:

    * ``edit``, ``apply_filters`` and the encoder run networks in eval mode without gradients: they read the
      shared weights and write nothing shared;
    * projection (``w+``, ``encoder+w+``) optimises latents and noise maps of its own; the generator stays in
      eval mode without gradients for its weights (the projector sets exactly that again, which changes nothing).

    The one lock, :attr:`detect_lock`, is for dlib's HOG face detector: it keeps its image pyramid inside the
    detector object, and dlib documents one detector used from two threads at once as unsafe. Detection runs
    once per photo and takes well under a second, and nothing else waits on that lock.

    Pivotal tuning ('pti') is not offered: it swaps tuned weights into the shared generator for the length of a
    call (``torch.func.functional_call``), which another session's edit would then see.

    Args:
        editor: the model's ``FaceEditor`` (from ``FaceEditor.from_pretrained``).
    """

    def __init__(self, editor) -> None:
        self.editor = editor
        self.detect_lock = threading.Lock()

    def locate_all(self, photo) -> List:
        """Every face of a photo, aligned, largest first.

        Args:
            photo: ``uint8 [H, W, 3]``.

        Returns:
            ``[LocatedFace]``.

        Raises:
            NoFaceFoundError: no face in the photo.
        """
        with self.detect_lock:
            return self.editor.locate_all(photo)

    def invert(self, located, method: Optional[str], steps: int,
               progress: Optional[Callable[[float, str], None]] = None):
        """The exact mode's inversion of one located face (no lock: see the class).

        Args:
            located: a ``LocatedFace``.
            method: one of :data:`APP_METHODS`, or None for the model's best.
            steps: projection steps.
            progress: called with (fraction, message) as it runs.

        Returns:
            The ``EncodedFace``.

        Raises:
            ValueError: a method the app does not offer.
        """
        if method is not None and method not in APP_METHODS:
            raise ValueError(f"the app inverts with {', '.join(APP_METHODS)}, not {method!r}")
        return self.editor.encode(located, method=method, steps=steps, progress=progress)

    def edit(self, encoded, sliders: Dict[str, float]):
        """The exact mode's edit (no lock: see the class).

        Args:
            encoded: an ``EncodedFace`` from :meth:`invert` or ``FaceEditor.sample``.
            sliders: attribute -> strength in standard deviations.

        Returns:
            The ``EditResult``.
        """
        return self.editor.edit(encoded, sliders)

    def instant(self, located, sliders: Dict[str, float]) -> Tuple:
        """The instant mode's filters (no lock: see the class).

        Args:
            located: a ``LocatedFace`` or a sampled ``EncodedFace``.
            sliders: attribute -> strength in standard deviations.

        Returns:
            ``faceedit.app.logic.instant_result``'s ``(EditResult or None, plan, attributes without a filter)``.
        """
        from faceedit.app.logic import instant_result

        return instant_result(self.editor, located, sliders)
