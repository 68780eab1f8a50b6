"""faceedit in the browser: ``streamlit run streamlit_app.py``.

Upload a photo (or take one, or pick an example or a generated face), see the face that was found and
aligned, move the sliders, and compare the two ways of editing side by side: *instant* (distilled filters,
one forward pass) and *exact* (inversion into the generator's latent space, then the edit).

Privacy: photos stay in this browser session's memory. Nothing is written to disk, nothing is cached
across sessions (only the models are shared), and a session's photos are gone when it ends.
"""

from __future__ import annotations

import os
import threading

import streamlit as st

from faceedit.app.logic import (
    MAX_UPLOAD_PIXELS,
    instant_result,
    model_choices,
    outline_face,
    photo_key,
    user_message,
)
from faceedit.synthfaces.examples import ASTRONAUT, EXAMPLES, example_photo

st.set_page_config(page_title="faceedit", layout="wide")

QUALITY = {"Fast (100 steps)": 100, "Balanced (300 steps)": 300, "Best (1000 steps)": 1000}
SOURCES = ("Upload a photo", "Take a photo", "Example photo", "Generated face")


@st.cache_resource(show_spinner="Loading the model...")
def _editor(name: str):
    """One editor per model, shared by every session (it holds no user data), with a lock: PTI swaps tuned
    weights into the shared generator during a call, so calls must not overlap."""
    from faceedit.editor import FaceEditor

    return FaceEditor.from_pretrained(name, device="auto"), threading.Lock()


def _fail(exc: BaseException) -> None:
    st.error(user_message(exc))
    st.stop()


def _pick_model():
    choices = model_choices(os.environ.get("FACEEDIT_APP_MODEL"))
    labels = [c.label for c in choices] + ["Other (path)..."]
    picked = st.sidebar.selectbox("Model", labels, index=0, key="model")
    if picked == "Other (path)...":
        path = st.sidebar.text_input("Path to a StyleGAN2 .pkl or a saved folder", key="path")
        if not path:
            st.info("Give the path of an NVIDIA StyleGAN2 .pkl (read safely, no code runs) or of a folder written "
                    "by `faceedit convert`.")
            st.stop()
        return path
    choice = choices[labels.index(picked)]
    if not choice.installed:
        st.warning(f"{choice.name} is not downloaded. {choice.fetch_hint}.")
        if st.sidebar.button(f"Download {choice.name} now", key="fetch"):
            from faceedit.hub import fetch_model

            try:
                with st.spinner(f"Downloading {choice.name}..."):
                    fetch_model(choice.name, progress=False)
            except Exception as exc:  # offline, interrupted, wrong hash: say so, keep the app alive
                _fail(exc)
            st.rerun()
        st.stop()
    return choice.name


def _photo(editor):
    """``(photo uint8 array, its key)`` from the chosen source, or a generated face (EncodedFace, None)."""
    source = st.sidebar.radio("Photo", SOURCES, key="source")
    if source == "Generated face":
        seed = st.sidebar.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed")
        return editor.sample(seed=int(seed)), None
    if source == "Example photo":
        label = st.sidebar.selectbox("Example", [label for label, _ in EXAMPLES] + [ASTRONAUT], key="example")
        return example_photo(label), f"example:{label}"
    if source == "Upload a photo":
        upload = st.sidebar.file_uploader("Photo with a face", type=None, key="upload")
    else:
        upload = st.camera_input("Take a photo", key="camera")
    if upload is None:
        st.info("Upload a photo with a face (JPEG, PNG, WebP...), take one with the camera, or pick an example "
                "or a generated face in the sidebar.")
        st.stop()
    # Decode (and hash) an upload once, not on every slider move; kept in this session only.
    cached = st.session_state.get("decoded")
    if cached is None or cached[0] != upload.file_id:
        from faceedit.alignment import load_image

        try:
            photo = load_image(upload.getvalue(), max_pixels=MAX_UPLOAD_PIXELS)
        except Exception as exc:
            _fail(exc)
        cached = st.session_state["decoded"] = (upload.file_id, photo, photo_key(photo))
    return cached[1], cached[2]


def _locate(editor, lock, photo, key: str, model: str):
    """The face to edit; detection runs once per photo (and model), not on every rerun."""
    cached = st.session_state.get("faces")
    if cached is None or cached[0] != (model, key):
        try:
            with lock:
                faces = editor.locate_all(photo)
        except Exception as exc:
            _fail(exc)
        cached = st.session_state["faces"] = ((model, key), faces)
    faces = cached[1]
    index = 0
    if len(faces) > 1:
        index = int(st.sidebar.number_input(f"Face (of {len(faces)}, 0 = largest)", min_value=0,
                                            max_value=len(faces) - 1, value=0, step=1, key="face"))
        st.info(f"{len(faces)} faces found; editing face {index} (0 is the largest). Pick another in the sidebar.")
    return faces[index], f"{key}#{index}"


def _sliders(editor):
    if not editor.attributes:
        st.warning("This model has no directions yet: fit some with `faceedit directions fit` (docs/directions.md).")
        return {}
    columns = st.columns(min(len(editor.attributes), 5))
    return {name: columns[i % len(columns)].slider(name, -3.0, 3.0, 0.0, 0.1, key=f"attr_{name}",
                                                   help=f"{name} strength, in standard deviations")
            for i, name in enumerate(editor.attributes)}


def _exact(editor, lock, located, face_key: str, model: str):
    """The inverted face, computed once per (model, photo, face, quality) and kept in this session only."""
    methods = dict(QUALITY)
    if editor.encoder is not None:
        methods = {"Instant (encoder)": 0, **methods}
    quality = st.sidebar.selectbox("Exact mode quality", list(methods), key="quality",
                                   index=list(methods).index("Balanced (300 steps)"))
    steps = methods[quality]
    method = "encoder" if steps == 0 else None
    key = (model, face_key, quality)
    store = st.session_state.setdefault("inversions", {})
    if key not in store:
        bar = st.progress(0.0, text="Inverting the face...")
        shown = [-1]

        def report(fraction: float, message: str) -> None:
            if int(fraction * 100) != shown[0]:
                shown[0] = int(fraction * 100)
                bar.progress(fraction, text=f"Inverting the face: {message}")

        try:
            with lock:
                encoded = editor.encode(located, method=method, steps=max(steps, 1), progress=report)
        except Exception as exc:
            _fail(exc)
        bar.empty()
        store.clear()  # one photo at a time: keep memory small
        store[key] = encoded
    return store[key]


def _show_result(column, title: str, result, filename: str) -> None:
    from faceedit.utils.images import encode_image

    column.subheader(title)
    column.image([result.before, result.aligned], caption=["before", "after"], width=160)
    column.image(result.photo, caption="edited photo", width="stretch")
    column.download_button(f"Download ({title.lower()})", encode_image(result.photo, "PNG"), file_name=filename,
                           mime="image/png", key=f"download_{filename}")


def main() -> None:
    st.title("faceedit")
    st.caption("Edit a face's age, gender and more in the latent space of a StyleGAN2 generator: in the open, "
               "on your own machine. Photos stay in this session's memory and are never stored.")
    model = _pick_model()
    try:
        editor, lock = _editor(model)
    except Exception as exc:
        _fail(exc)
    photo, key = _photo(editor)
    generated = key is None
    located, face_key = (photo, None) if generated else _locate(editor, lock, photo, key, model)

    left, right = st.columns([2, 1])
    shown = located.photo if located.face is None else outline_face(located.photo, located.face.quad)
    left.image(shown, caption="your photo (the square is the face being edited)" if located.face is not None
               else "generated face", width="stretch")
    right.image(located.aligned, caption=f"aligned face, {editor.resolution} px", width=200)

    st.subheader("Edit")
    sliders = _sliders(editor)
    exact_column, instant_column = st.columns(2)
    encoded = located if generated else _exact(editor, lock, located, face_key, model)
    with lock:
        exact = editor.edit(encoded, sliders)
    _show_result(exact_column, "Exact", exact, "faceedit-exact.png")
    if encoded.inversion.method != "sample":
        exact_column.caption(f"{encoded.inversion.method} inversion in {encoded.inversion.seconds:.1f} s")

    if not editor.filters:
        instant_column.subheader("Instant")
        instant_column.info(f"No distilled filters are bundled for {editor.model_name} yet; train one with "
                            f"`faceedit distill train` (docs/distill.md) for one-pass edits.")
        return
    with lock:
        instant, missing = instant_result(editor, located, sliders)
    if instant is None:
        instant_column.subheader("Instant")
        instant_column.info("Move a slider: the instant mode runs the distilled filter for that attribute.")
    else:
        _show_result(instant_column, "Instant", instant, "faceedit-instant.png")
    if missing:
        instant_column.caption(f"no filter for: {', '.join(missing)} (instant mode leaves them unchanged)")


main()
