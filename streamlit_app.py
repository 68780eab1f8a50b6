"""faceedit in the browser: ``streamlit run streamlit_app.py``.

Sample faces from any generator faceedit can load (a registered and downloaded model, an
NVIDIA ``.pkl`` or a converted folder on this machine) with seed and truncation controls.
Photo upload and attribute sliders arrive with the editing pipeline.
"""

from __future__ import annotations

import io
import os

import streamlit as st

from faceedit.errors import FaceEditError

st.set_page_config(page_title="faceedit", layout="wide")


@st.cache_resource(show_spinner="Loading the generator...")
def _load(source: str):
    from faceedit.loading.api import load_generator

    return load_generator(source, device="auto", download=False)


def _model_choices():
    from faceedit.hub import is_cached, list_models

    # Bundled models first: they always work, offline, with nothing to fetch.
    specs = sorted((spec for spec in list_models() if is_cached(spec)), key=lambda spec: (not spec.bundled, spec.name))
    cached = [spec.name for spec in specs]
    default = os.environ.get("FACEEDIT_APP_MODEL")
    return ([default] if default else []) + cached


def _render(G, seeds, psi, class_idx):
    import torch

    from faceedit.utils.images import images_from_tensor, make_grid
    from faceedit.utils.seeds import z_from_seeds

    z = z_from_seeds(seeds, G.z_dim).to(G.device)
    c = None
    if G.c_dim:
        c = torch.zeros(len(seeds), G.c_dim, device=G.device)
        c[:, class_idx] = 1
    with torch.inference_mode():
        img = G(z, c, truncation_psi=psi)
    return make_grid(images_from_tensor(img), cols=min(len(seeds), 4))


def main() -> None:
    st.title("faceedit")
    st.caption("Sample faces from a StyleGAN2 generator, loaded without executing code from the file.")
    choices = _model_choices()
    with st.sidebar:
        picked = st.selectbox("Model", choices + ["Other (path)..."], index=0, key="model")
        source = st.text_input("Path to .pkl or folder", key="path") if picked == "Other (path)..." else picked
        seed = st.number_input("First seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed")
        count = st.slider("Faces", 1, 16, 8, key="count")
        psi = st.slider("Truncation psi", 0.0, 1.0, 0.7, 0.05, key="psi")
    if not source:
        st.info("No model is installed yet. Fetch one with `faceedit models fetch NAME`, or give the path to a "
                "StyleGAN2 .pkl file or a folder from `faceedit convert`.")
        return
    try:
        G = _load(source)
    except FaceEditError as exc:
        st.error(str(exc))
        return
    class_idx = 0
    if G.c_dim:
        class_idx = st.sidebar.number_input("Class", min_value=0, max_value=G.c_dim - 1, value=0, key="class")
    grid = _render(G, list(range(int(seed), int(seed) + count)), psi, class_idx)
    st.image(grid, caption=f"seeds {seed}-{seed + count - 1}, psi {psi:.2f}", width="stretch")
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(grid).save(buffer, format="PNG")
    st.download_button("Download PNG", buffer.getvalue(), file_name="faces.png", mime="image/png")


main()
