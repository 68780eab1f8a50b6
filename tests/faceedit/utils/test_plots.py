import numpy as np
from PIL import Image

from faceedit.utils.plots import line_plot, save_line_plot, smooth


def test_smooth_is_a_trailing_mean():
    np.testing.assert_allclose(smooth([0, 2, 4, 6], 2), [0, 1, 3, 5])
    np.testing.assert_allclose(smooth([1, 2, 3], 1), [1, 2, 3])


def test_line_plot_draws_each_series_in_its_colour():
    image = line_plot({"a": ([0, 1, 2], [0, 1, 0]), "b": ([0, 1, 2], [1, 0, 1])}, size=(320, 200), title="t")
    assert image.shape == (200, 320, 3) and image.dtype == np.uint8
    for colour in ((31, 119, 180), (214, 39, 40)):
        assert (image == colour).all(axis=2).sum() > 50


def test_degenerate_data_still_plots(tmp_path):
    path = save_line_plot(tmp_path / "p.png", {"flat": ([0], [1.0]), "nan": ([0, 1], [float("nan")] * 2)})
    assert Image.open(path).size == (800, 450)


def test_heatmap_colours_sign_and_size():
    from faceedit.utils.plots import heatmap

    image = heatmap(np.array([[1.0, -1.0]]), ["age"], ["up", "down"], title="t", cell=40)
    assert image.dtype == np.uint8 and image.shape[1] >= 2 * 40
    assert ((image == (255, 0, 0)).all(axis=2)).sum() > 100  # full red for +max
    assert ((image == (0, 0, 255)).all(axis=2)).sum() > 100  # full blue for -max
