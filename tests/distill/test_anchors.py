import json

import numpy as np
import pytest
import torch

from directions.io import Direction
from distill.anchors import anchor_fingerprint, anchor_images
from distill.dataset import PairSpec, make_dataset, read_pairs, render_pairs
from faceedit.errors import InvalidImageError, ModelMismatchError
from faceedit.inversion.encoder import LatentEncoder
from faceedit.synthfaces import render_batch
from faceedit.utils.images import images_from_tensor, save_png
from tests.conftest import tiny_generator

SPEC = PairSpec(direction="red", num_seeds=6, shard_seeds=3, alpha_min=1.0, alpha_max=2.0, anchor="synthfaces")


def _setup():
    G = tiny_generator(seed=0)
    vector = np.random.RandomState(1).randn(G.w_dim)
    direction = Direction(vector=vector / np.linalg.norm(vector), attribute="red", generator_name="tiny",
                          generator_fingerprint=G.fingerprint(), projection_std=2.0)
    encoder = LatentEncoder(G.img_resolution, G.num_ws, G.w_dim, channel_base=256, channel_max=16)
    with torch.no_grad():  # the last layer starts at zero; perturb it so each anchor gets its own latent
        encoder.out.weight.normal_(0, 0.05)
    return G, direction, encoder.eval()


def test_synthfaces_anchors_are_deterministic_per_seed_and_not_the_plain_renders():
    both = anchor_images("synthfaces", [3, 5], 32)
    assert both.shape == (2, 3, 32, 32) and both.min() >= -1 and both.max() <= 1
    torch.testing.assert_close(anchor_images("synthfaces", [5], 32)[0], both[1])  # not tied to the batch
    plain, _ = render_batch(1, seed=5, resolution=32)
    assert not torch.equal(plain[0], both[1])  # tagged seeds: never the renders benchmarks draw from plain seeds


def test_folder_anchors_cycle_in_name_order_and_are_resized(tmp_path):
    from PIL import Image

    save_png(np.full((24, 24, 3), 200, np.uint8), tmp_path / "b.png")
    save_png(np.full((24, 24, 3), 10, np.uint8), tmp_path / "a.png")
    Image.fromarray(np.full((24, 24, 3), 100, np.uint8)).save(tmp_path / "c.jpg")
    (tmp_path / "notes.txt").write_text("not an image name: ignored")
    images = anchor_images(str(tmp_path), [0, 1, 2, 3], 16)  # a, b, c, a
    assert images.shape == (4, 3, 16, 16)
    means = images_from_tensor(images).reshape(4, -1).mean(axis=1)
    np.testing.assert_allclose(means, [10, 200, 100, 10], atol=2)
    first = anchor_fingerprint(str(tmp_path))
    (tmp_path / "d.png").write_bytes(b"garbage")
    assert anchor_fingerprint(str(tmp_path)) != first  # a changed folder is noticed
    with pytest.raises(InvalidImageError):
        anchor_images(str(tmp_path), [3], 16)  # d.png is the fourth file
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        anchor_images(str(tmp_path / "empty"), [0], 16)


def test_anchored_pairs_add_the_teachers_change_to_the_anchor():
    G, d, encoder = _setup()
    seeds = [0, 1, 2]
    a, b, alphas = render_pairs(G, d, SPEC, seeds, encoder)
    anchors = anchor_images("synthfaces", seeds, G.img_resolution)
    torch.testing.assert_close(a, anchors)  # A is the picture itself, not the generator's reconstruction
    plain = PairSpec(direction="red", num_seeds=6, alpha_min=1.0, alpha_max=2.0)
    _, _, plain_alphas = render_pairs(G, d, plain, seeds)
    np.testing.assert_array_equal(alphas, plain_alphas)  # the same seed draws the same strength
    from directions.edit import apply_direction
    from distill.dataset import _seed_draws
    from faceedit.inversion.encoder import encode_images

    with torch.no_grad():
        ws = encode_images(encoder, anchors)
        assert not torch.allclose(ws[0], ws[1])
        noise = _seed_draws(G, seeds, SPEC)[2]  # the pair's own noise maps
        edited = apply_direction(ws, d.vector, torch.from_numpy(alphas).float(), None, 2.0)
        change = G.synthesis(edited, noise_mode="const", noise=noise) - G.synthesis(ws, noise_mode="const", noise=noise)
    assert change.abs().mean() > 0.01
    torch.testing.assert_close(b, (anchors + change).clamp(-1, 1))
    zero = PairSpec(direction="red", num_seeds=2, alpha_min=0.0, alpha_max=0.0, anchor="synthfaces")
    a0, b0, _ = render_pairs(G, d, zero, [0, 1], encoder)
    torch.testing.assert_close(a0, b0)  # no edit, no change: the reconstruction error cancels


def test_anchored_pairs_take_latents_found_another_way():
    G, d, encoder = _setup()
    seeds = [0, 1]
    from faceedit.inversion.encoder import encode_images

    with torch.no_grad():
        ws = encode_images(encoder, anchor_images("synthfaces", seeds, G.img_resolution))  # [2, num_ws, w_dim]
    a, b, alphas = render_pairs(G, d, SPEC, seeds, encoder)
    a2, b2, alphas2 = render_pairs(G, d, SPEC, seeds, anchor_latents=ws)  # no encoder needed
    torch.testing.assert_close(b2, b)
    np.testing.assert_array_equal(alphas2, alphas)
    _, b3, _ = render_pairs(G, d, SPEC, seeds, anchor_latents=ws + 0.5)  # the change around other latents
    torch.testing.assert_close(a2, a)
    assert not torch.allclose(b3, b)
    with pytest.raises(ValueError, match="give one per pair"):
        render_pairs(G, d, SPEC, seeds, anchor_latents=ws[:1])
    plain = PairSpec(direction="red", num_seeds=2)
    with pytest.raises(ValueError, match="anchor_latents are for anchored pairs"):
        render_pairs(G, d, plain, seeds, anchor_latents=ws)


def test_anchored_dataset_records_anchors_resumes_and_refuses_other_encoders(tmp_path):
    G, d, encoder = _setup()
    with pytest.raises(ValueError, match="train-encoder"):
        make_dataset(tmp_path / "none", G, d, SPEC, progress=False)
    summary = make_dataset(tmp_path / "one", G, d, SPEC, encoder=encoder, progress=False)
    assert summary["pairs"] == 6
    header = json.loads((tmp_path / "one" / "dataset.json").read_text())
    assert header["spec"]["anchor"] == "synthfaces" and header["anchors"]["anchor"] == "synthfaces"
    first = {p.name: p.read_bytes() for p in (tmp_path / "one").glob("shard-*")}
    (tmp_path / "one" / "shard-000001.json").unlink()  # as if killed before the last shard was marked done
    make_dataset(tmp_path / "one", G, d, SPEC, encoder=encoder, progress=False)
    assert {p.name: p.read_bytes() for p in (tmp_path / "one").glob("shard-*")} == first
    a, _, _ = next(read_pairs(tmp_path / "one"))
    np.testing.assert_array_equal(a, images_from_tensor(anchor_images("synthfaces", [0], G.img_resolution))[0])
    other = LatentEncoder(G.img_resolution, G.num_ws, G.w_dim, channel_base=256, channel_max=16)
    with pytest.raises(ValueError, match="other settings, generator, direction or anchors"):
        make_dataset(tmp_path / "one", G, d, SPEC, encoder=other, progress=False)
    other.metadata = {"generator": "0" * 64}
    with pytest.raises(ModelMismatchError, match="other generator weights"):
        make_dataset(tmp_path / "two", G, d, SPEC, encoder=other, progress=False)


def test_datasets_of_older_versions_resume(tmp_path):
    G, d, _ = _setup()
    plain = PairSpec(direction="red", num_seeds=4, shard_seeds=2)
    make_dataset(tmp_path, G, d, plain, progress=False)
    path = tmp_path / "dataset.json"
    header = json.loads(path.read_text())
    assert header["direction_unit"] == 2.0 and header["spec"]["anchor"] is None
    del header["direction_unit"], header["spec"]["anchor"]  # as written before anchors and layer gains
    path.write_text(json.dumps(header))
    (tmp_path / "shard-000001.json").unlink()
    assert make_dataset(tmp_path, G, d, plain, progress=False)["shards"] == 1
