"""Sessions share one model; a long inversion must not hold up another session's edits."""

import threading
import time

import numpy as np
import pytest

from faceedit.app.shared import APP_METHODS, SharedEditor


@pytest.fixture(scope="module")
def shared():
    from faceedit.editor import FaceEditor

    return SharedEditor(FaceEditor.from_pretrained("synthfaces-64", device="cpu", use_lpips=False))


def test_edits_filters_and_detection_do_not_wait_for_another_sessions_inversion(shared):
    from faceedit.synthfaces.examples import example_photo

    face = shared.editor.sample(seed=1)
    photo = example_photo("young woman")
    started, release = threading.Event(), threading.Event()

    def slow_progress(fraction: float, message: str) -> None:  # one user's long inversion, parked mid-way
        if "projection" in message and not started.is_set():
            started.set()
            release.wait(timeout=120)

    inversion = threading.Thread(target=shared.invert, args=(face, "w+", 5), kwargs={"progress": slow_progress})
    inversion.start()
    try:
        assert started.wait(timeout=60), "the inversion did not start"
        results = {}

        def other_session() -> None:
            results["instant"] = shared.instant(face, {"age": 2.0, "gender": -1.0})
            results["exact"] = shared.edit(face, {"age": 2.0})
            results["faces"] = shared.locate_all(photo)

        other = threading.Thread(target=other_session)
        begin = time.monotonic()
        other.start()
        other.join(timeout=60)
        assert not other.is_alive(), "another session's edits waited for the inversion"
        assert inversion.is_alive()  # still parked: the edits really ran during it
        instant, plan, missing = results["instant"]
        assert [name for name, _ in plan] == ["older", "feminine"] and not missing
        assert not np.array_equal(instant.aligned, face.aligned)
        assert not np.array_equal(results["exact"].aligned, face.aligned)
        assert len(results["faces"]) == 1
        assert time.monotonic() - begin < 60
    finally:
        release.set()
        inversion.join(timeout=120)


def test_the_app_never_runs_pivotal_tuning_on_the_shared_generator(shared):
    assert "pti" not in APP_METHODS
    with pytest.raises(ValueError, match="not 'pti'"):
        shared.invert(shared.editor.sample(seed=0), "pti", 5)
