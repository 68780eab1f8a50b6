import numpy as np
import pytest


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data", reason="needs scikit-image (faceedit[faces])")
    return skimage_data.astronaut()


@pytest.fixture(scope="session")
def detector68():
    pytest.importorskip("dlib", reason="needs dlib-bin (faceedit[faces])")
    from faceedit.alignment.landmarks import LandmarkDetector

    try:
        return LandmarkDetector(points=68)
    except ImportError as exc:
        pytest.skip(str(exc))
