"""faceedit in the browser: ``streamlit run streamlit_app.py``.

Upload a photo (or take one, or pick an example or a generated face), see the face that was found and
aligned, move the sliders, and compare the two ways of editing side by side: *instant* (distilled filters,
one forward pass, shown at once) and *exact* (inversion into the generator's latent space, then the edit).

Privacy: photos stay in this browser session's memory. Nothing is written to disk, nothing is cached
across sessions (only the models are shared), and a session's photos are gone when it ends.
"""

from __future__ import annotations

import os

import streamlit as st

from faceedit.app.logic import (
    ALLOW_PATHS_ENV,
    decode_upload,
    faces_message,
    instant_note,
    model_choices,
    outline_face,
    paths_allowed,
    photo_key,
    slider_help,
    user_message,
)
from faceedit.app.shared import SharedEditor
from faceedit.synthfaces.examples import ASTRONAUT, EXAMPLES, example_photo

st.set_page_config(page_title="faceedit", layout="wide")

QUALITY = {"Fast (100 steps)": 100, "Balanced (300 steps)": 300, "Best (1000 steps)": 1000}
SOURCES = ("Upload a photo", "Take a photo", "Example photo", "Generated face")
OTHER_PATH = "Other (path)..."


@st.cache_resource(show_spinner="Loading the model...")
def _shared(name: str) -> SharedEditor:
    """One editor per model, shared by every session; it holds models only, never a user's photo, and sessions do
    not wait on each other's inversions (``SharedEditor`` says which call takes a lock, and why)."""
    from faceedit.editor import FaceEditor

    return SharedEditor(FaceEditor.from_pretrained(name, device="auto"))


def _fail(exc: BaseException) -> None:
    """Show a failure as a sentence (never a traceback) and end this run."""
    st.error(user_message(exc))
    st.stop()


def _pick_model() -> str:
    """The sidebar's model picker: face generators only; a typed path only when the operator allows it."""
    choices = model_choices(os.environ.get("FACEEDIT_APP_MODEL"))
    labels = [c.label for c in choices] + ([OTHER_PATH] if paths_allowed() else [])
    picked = st.sidebar.selectbox("Model", labels, index=0, key="model",
                                  help="Face generators: installed ones first, then registered ones to download.")
    if picked == OTHER_PATH:
        path = st.sidebar.text_input("Path to a StyleGAN2 .pkl or a saved folder", key="path")
        if not path:
            st.info("Give the path of an NVIDIA StyleGAN2 .pkl (read safely, no code runs) or of a folder written "
                    "by `faceedit convert`, on the server.")
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


def _photo(shared: SharedEditor):
    """``(photo uint8 array, its key)`` from the chosen source, or a generated face ``(EncodedFace, None)``."""
    source = st.sidebar.radio("Photo", SOURCES, key="source")
    if source == "Generated face":
        seed = st.sidebar.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed")
        return shared.editor.sample(seed=int(seed)), None
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
    # Decode (and hash) an upload once, not on every slider move; kept in this session's memory only.
    cached = st.session_state.get("decoded")
    if cached is None or cached[0] != upload.file_id:
        try:
            photo = decode_upload(upload.getvalue())
        except Exception as exc:
            _fail(exc)
        cached = st.session_state["decoded"] = (upload.file_id, photo, photo_key(photo))
    return cached[1], cached[2]


def _locate(shared: SharedEditor, photo, key: str, model: str):
    """The face to edit; detection runs once per photo (and model), not on every rerun."""
    cached = st.session_state.get("faces")
    if cached is None or cached[0] != (model, key):
        try:
            faces = shared.locate_all(photo)
        except Exception as exc:
            _fail(exc)
        cached = st.session_state["faces"] = ((model, key), faces)
    faces = cached[1]
    index = 0
    if len(faces) > 1:
        index = int(st.sidebar.number_input(f"Face (of {len(faces)}, 0 = largest)", min_value=0,
                                            max_value=len(faces) - 1, value=0, step=1, key="face"))
        st.info(faces_message(len(faces), index))
    return faces[index], f"{key}#{index}"


def _sliders(shared: SharedEditor):
    """One slider per attribute the model can edit, with what instant mode does with it in its help."""
    editor = shared.editor
    if not editor.attributes:
        st.warning("This model has no directions yet: fit some with `faceedit directions fit` (docs/directions.md).")
        return {}
    filter_edits = editor.filter_edits
    columns = st.columns(min(len(editor.attributes), 5))
    # Streamlit forgets a widget's value after a run that did not draw it (a refused upload, or the moment a new
    # photo replaces the old one); the last values are kept here and come back as the sliders' defaults.
    kept = st.session_state.setdefault("slider_values", {})
    for i, name in enumerate(editor.attributes):
        kept[name] = columns[i % len(columns)].slider(name, -3.0, 3.0, kept.get(name, 0.0), 0.1, key=f"attr_{name}",
                                                      help=slider_help(name, filter_edits))
    return {name: kept[name] for name in editor.attributes}


def _instant(shared: SharedEditor, located, sliders, column) -> None:
    """The instant column: the distilled filters on the aligned face, before any inversion runs."""
    editor = shared.editor
    if not editor.filters:
        column.subheader("Instant")
        column.info(f"No distilled filters are bundled for {editor.model_name} yet; train one with "
                    f"`faceedit distill train` (docs/train-a-filter.md) for one-pass edits.")
        return
    try:
        instant, plan, missing = shared.instant(located, sliders)
    except Exception as exc:
        _fail(exc)
    if instant is None:
        column.subheader("Instant")
        served = [a for a in editor.attributes if any(attr == a for attr, _ in editor.filter_edits.values())]
        column.info(f"Move the {' or '.join(served) or 'matching'} slider: instant mode runs the distilled filter "
                    f"for it ({', '.join(sorted(editor.filters))}).")
    else:
        _show_result(column, "Instant", instant, "faceedit-instant.png")
        column.caption(instant_note(editor.filter_edits, plan))
    if missing:
        column.warning(f"Instant mode has no filter for {', '.join(missing)}: only the exact result shows "
                       f"{'that edit' if len(missing) == 1 else 'those edits'}.")


def _quality(shared: SharedEditor) -> str:
    """The exact mode's quality setting, in the sidebar from the start (so it can be chosen before uploading)."""
    methods = _methods(shared)
    return st.sidebar.selectbox("Exact mode quality", list(methods), key="quality",
                                index=list(methods).index("Balanced (300 steps)"))


def _methods(shared: SharedEditor):
    """``{quality label: projection steps}``; 0 steps is the encoder alone (when the model has one)."""
    if shared.editor.encoder is None:
        return dict(QUALITY)
    return {"Instant (encoder)": 0, **QUALITY}


def _exact(shared: SharedEditor, located, face_key: str, model: str, quality: str, column):
    """The inverted face, computed once per (model, photo, face, quality) and kept in this session only."""
    steps = _methods(shared)[quality]
    method = "encoder" if steps == 0 else None
    key = (model, face_key, quality)
    store = st.session_state.setdefault("inversions", {})
    if key not in store:
        bar = column.progress(0.0, text="Inverting the face...")
        shown = [-1]

        def report(fraction: float, message: str) -> None:
            if int(fraction * 100) != shown[0]:
                shown[0] = int(fraction * 100)
                bar.progress(fraction, text=f"Inverting the face: {message}")

        try:
            encoded = shared.invert(located, method=method, steps=max(steps, 1), progress=report)
        except Exception as exc:
            _fail(exc)
        bar.empty()
        store.clear()  # one photo at a time: keep memory small
        store[key] = encoded
    return store[key]


def _show_result(column, title: str, result, filename: str) -> None:
    """Before/after crops, the edited photo and its download button, captioned with the mode's name."""
    from faceedit.utils.images import encode_image

    mode = title.lower()
    column.subheader(title)
    column.image([result.before, result.aligned], caption=[f"{mode}: before", f"{mode}: after"], width=160)
    column.image(result.photo, caption=f"{mode}: edited photo", width="stretch")
    column.download_button(f"Download ({mode})", encode_image(result.photo, "PNG"), file_name=filename,
                           mime="image/png", key=f"download_{mode}")


def main() -> None:
    st.title("faceedit")
    st.caption("Edit a face's age, gender and more in the latent space of a StyleGAN2 generator: in the open, "
               "on your own machine. Photos stay in this session's memory and are never stored.")
    model = _pick_model()
    if not paths_allowed():
        st.sidebar.caption(f"Only the listed models can be loaded here (the server's operator can allow a path "
                           f"with {ALLOW_PATHS_ENV}=1).")
    try:
        shared = _shared(model)
    except Exception as exc:
        _fail(exc)
    quality = _quality(shared)
    photo, key = _photo(shared)
    generated = key is None
    located, face_key = (photo, None) if generated else _locate(shared, photo, key, model)

    left, right = st.columns([2, 1])
    shown = located.photo if located.face is None else outline_face(located.photo, located.face.quad)
    left.image(shown, caption="your photo (the square is the face being edited)" if located.face is not None
               else "generated face", width="stretch")
    right.image(located.aligned, caption=f"aligned face, {shared.editor.resolution} px", width=200)

    st.subheader("Edit")
    sliders = _sliders(shared)
    instant_column, exact_column = st.columns(2)
    _instant(shared, located, sliders, instant_column)  # first: it needs no inversion, so it shows at once
    encoded = located if generated else _exact(shared, located, face_key, model, quality, exact_column)
    try:
        exact = shared.edit(encoded, sliders)
    except Exception as exc:
        _fail(exc)
    _show_result(exact_column, "Exact", exact, "faceedit-exact.png")
    if encoded.inversion.method != "sample":
        exact_column.caption(f"{encoded.inversion.method} inversion in {encoded.inversion.seconds:.1f} s")


main()
