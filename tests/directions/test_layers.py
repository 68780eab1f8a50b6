import numpy as np
import pytest
import torch

from directions.io import Direction
from directions.layers import choose_layers, with_chosen_layers


class _RowGenerator:
    """A stand-in generator: rows 2-3 of W+ set the face's brightness, row 0 the background's."""

    z_dim, w_dim, num_ws, img_resolution, device = 2, 2, 4, 16, torch.device("cpu")

    def mapping(self, z, c, truncation_psi=1.0):
        return z.unsqueeze(1).repeat(1, self.num_ws, 1) * truncation_psi  # [N, 4, 2]

    def synthesis(self, ws, noise_mode="const"):
        face = ws[:, 2:, 0].sum(dim=1).view(-1, 1, 1, 1) * 0.1  # [N, 1, 1, 1]
        background = ws[:, 0, 0].view(-1, 1, 1, 1) * 0.1
        images = background.expand(-1, 3, 16, 16).clone()  # [N, 3, 16, 16]
        images[:, :, 4:12, 5:11] = face.expand(-1, 3, 8, 6)
        return images


def _brightness(images):
    return {"bright": images[:, :, 4:12, 5:11].mean(dim=(1, 2, 3))}


def _direction():
    return Direction(vector=np.array([1.0, 0.0]), attribute="bright", generator_name="rows",
                     generator_fingerprint="x", projection_std=1.0)


def test_the_latest_first_row_that_keeps_the_change_is_chosen():
    choice = choose_layers(_RowGenerator(), _direction(), _brightness, keep=0.9, n=8, progress=False)
    assert choice.layers == (2, 4)  # rows 2-3 carry all of it; from row 3 on only half is left
    np.testing.assert_allclose(choice.target_change, [0.4, 0.4, 0.4, 0.2], atol=1e-6)
    assert choice.outside_change[0] > 0.1 and np.all(choice.outside_change[1:] < 1e-6)  # row 0 moved the background
    assert choose_layers(_RowGenerator(), _direction(), _brightness, keep=0.4, n=8, progress=False).layers == (3, 4)


def test_directions_get_their_rows_and_the_measurements():
    chosen = with_chosen_layers(_RowGenerator(), {"bright": _direction()}, _brightness, n=8, progress=False)
    assert chosen["bright"].layers == (2, 4)
    assert chosen["bright"].extra["layer_choice"]["layers"] == [2, 4]


def test_a_direction_that_does_not_move_its_attribute_is_refused():
    backwards = _direction()
    backwards.vector = np.array([-1.0, 0.0])
    with pytest.raises(ValueError, match="does not raise bright"):
        choose_layers(_RowGenerator(), backwards, _brightness, n=8, progress=False)
    with pytest.raises(ValueError, match="keep"):
        choose_layers(_RowGenerator(), _direction(), _brightness, keep=1.5, progress=False)


def test_the_unit_grows_by_the_share_the_chosen_rows_lost():
    G = _RowGenerator()
    chosen = with_chosen_layers(G, {"bright": _direction()}, _brightness, keep=0.4, n=8, progress=False)["bright"]
    assert chosen.layers == (3, 4) and chosen.layer_gain == pytest.approx(2.0)  # row 3 alone keeps half
    assert chosen.unit == pytest.approx(2.0) and chosen.extra["layer_choice"]["gain"] == pytest.approx(2.0)
    from directions.edit import apply_direction

    ws = G.mapping(torch.zeros(1, 2), None)
    all_rows = _brightness(G.synthesis(apply_direction(ws, _direction().vector, 1.0, None, 1.0)))["bright"]
    late_rows = _brightness(G.synthesis(apply_direction(ws, chosen.vector, 1.0, chosen.layers, chosen.unit)))["bright"]
    torch.testing.assert_close(late_rows, all_rows)  # a unit moves the attribute as much as before
    plain = with_chosen_layers(G, {"bright": _direction()}, _brightness, keep=0.4, match_strength=False, n=8,
                               progress=False)["bright"]
    assert plain.layer_gain == 1.0 and plain.unit == 1.0


class _WobblyGenerator(_RowGenerator):
    """Rows 1-3 brighten the face steadily, but row 3 moved without row 2 also makes it wobble."""

    def synthesis(self, ws, noise_mode="const"):
        wobble = 0.4 * torch.sin(4 * (ws[:, 3, 0] - ws[:, 2, 0]))  # [N]; constant while rows 2 and 3 move together
        face = (ws[:, 1:, 0].sum(dim=1) * 0.1 + wobble).view(-1, 1, 1, 1)  # [N, 1, 1, 1]
        return face.expand(-1, 3, 16, 16).clone()


def test_steady_alphas_choose_the_rows_whose_edit_rises_at_every_step():
    G = _WobblyGenerator()
    options = dict(keep=0.05, n=16, alpha=0.5, progress=False)
    plain = choose_layers(G, _direction(), _brightness, **options)
    assert plain.layers == (3, 4)  # the latest row that keeps 5 % of the change
    choice = choose_layers(G, _direction(), _brightness, steady_alphas=(-3, -2, -1, 0, 1, 2, 3), **options)
    assert choice.steadiness[3] < 0.5  # row 3 alone wobbles
    np.testing.assert_array_equal(choice.steadiness[:3], [1.0, 1.0, 1.0])
    assert choice.layers == (2, 4)  # the latest of the steady rows (ties go to the later row)
    assert choice.to_dict()["steadiness"][2] == 1.0


def test_steadiness_is_measured_only_for_rows_that_keep_the_change():
    choice = choose_layers(_RowGenerator(), _direction(), _brightness, keep=0.9, n=8,
                           steady_alphas=(-1, 0, 1), progress=False)
    assert choice.layers == (2, 4) and np.isnan(choice.steadiness[3])  # row 3 alone keeps half: no candidate
    assert choice.to_dict()["steadiness"][3] is None
