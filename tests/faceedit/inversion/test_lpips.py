import io
import pickle
import zipfile

import pytest
import torch
import torch.nn.functional as F

from faceedit.errors import CheckpointFormatError, UnsafeCheckpointError
from faceedit.inversion.lpips import LPIPS, TAP_CHANNELS, VGG16_LAYERS
from faceedit.loading.torchscript import read_torchscript_tensors

# The tests write TorchScript archives the way NVIDIA did; torch marks torch.jit as deprecated.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class NvidiaStyleVGG(torch.nn.Module):
    """A stand-in with NVIDIA's interface and VGG16+LPIPS tensors (random), saved with torch.jit."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        convs = [torch.nn.Conv2d(i, o, 3, padding=1) for layer in VGG16_LAYERS if layer != "M" for o, i in [layer]]
        self.layers = torch.nn.ModuleList(convs)
        self.lin0 = torch.nn.Parameter(torch.rand(1, TAP_CHANNELS[0], 1, 1))
        self.lin1 = torch.nn.Parameter(torch.rand(1, TAP_CHANNELS[1], 1, 1))
        self.lin2 = torch.nn.Parameter(torch.rand(1, TAP_CHANNELS[2], 1, 1))
        self.lin3 = torch.nn.Parameter(torch.rand(1, TAP_CHANNELS[3], 1, 1))
        self.lin4 = torch.nn.Parameter(torch.rand(1, TAP_CHANNELS[4], 1, 1))

    def forward(self, x: torch.Tensor, resize_images: bool = False, return_lpips: bool = True) -> torch.Tensor:
        return x


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    path = tmp_path_factory.mktemp("vgg") / "vgg16.pt"
    torch.jit.save(torch.jit.script(NvidiaStyleVGG()), str(path))
    return path


def _reference_lpips(module: NvidiaStyleVGG, a, b):
    """LPIPS written out directly from the stand-in's own tensors."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
    lins = [module.lin0, module.lin1, module.lin2, module.lin3, module.lin4]

    def feats(x):
        x, out, i = (x - shift) / scale, [], 0
        for layer in VGG16_LAYERS:
            if layer == "M":
                x = F.max_pool2d(x, 2)
                continue
            x = F.relu(module.layers[i](x))
            if i in (1, 3, 6, 9, 12):
                out.append(x / (x.norm(dim=1, keepdim=True) + 1e-10))
            i += 1
        return out

    return sum(((fa - fb) ** 2 * w).sum(1).mean((1, 2)) for fa, fb, w in zip(feats(a), feats(b), lins))


def test_tensors_are_read_without_running_the_archive(archive):
    tensors = read_torchscript_tensors(archive)
    scripted = torch.jit.load(str(archive))  # reference only: the test's own file
    reference = dict(scripted.state_dict())
    assert tensors.keys() == reference.keys()
    assert all(torch.equal(tensors[k], reference[k]) for k in reference)


def test_lpips_from_the_archive_matches_the_formula(archive):
    lpips = LPIPS.from_nvidia(archive)
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        ours = lpips(a, b)
        theirs = _reference_lpips(NvidiaStyleVGG(), a, b)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-6)
    assert torch.allclose(lpips(a, a), torch.zeros(2)) and torch.allclose(lpips(a, b), lpips(b, a))


def test_other_archives_are_refused(tmp_path):
    class Small(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x)

    torch.jit.save(torch.jit.script(Small()), str(tmp_path / "small.pt"))
    with pytest.raises(CheckpointFormatError, match="not a VGG16"):
        LPIPS.from_nvidia(tmp_path / "small.pt")
    with pytest.raises(CheckpointFormatError, match="not a TorchScript archive"):
        read_torchscript_tensors(b"not a zip at all")


def test_code_in_data_pkl_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo pwned",))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("evil/data.pkl", pickle.dumps(Evil(), protocol=2))
    with pytest.raises(UnsafeCheckpointError, match="os.system|posix.system"):
        read_torchscript_tensors(buffer.getvalue())


def test_load_lpips_finds_a_fetched_archive_in_the_cache(archive):
    import shutil

    from faceedit.hub import cached_model_path, get_model_spec
    from faceedit.hub.download import _verify_and_install
    from faceedit.inversion.lpips import load_lpips

    assert load_lpips() is None  # offline and not fetched: projection stands on pixel + MS-SSIM losses
    spec = get_model_spec("vgg16-lpips")
    part = cached_model_path(spec).with_name("vgg16.part")
    part.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(archive, part)
    _verify_and_install(spec, part, cached_model_path(spec))  # what `faceedit models fetch` does after the download
    lpips = load_lpips()
    assert isinstance(lpips, LPIPS)
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    assert lpips(a, a).abs().max() < 1e-6 and (lpips(a, b) > 0).all() and lpips(a, b).shape == (2,)


def test_a_download_that_is_not_an_lpips_archive_is_refused_and_deleted(tmp_path):
    from faceedit.errors import ModelDownloadError
    from faceedit.hub import cached_model_path, get_model_spec
    from faceedit.hub.download import _verify_and_install

    spec = get_model_spec("vgg16-lpips")
    part = tmp_path / "vgg16.part"
    part.write_bytes(b"<html>a login page, not the archive</html>")
    with pytest.raises(ModelDownloadError, match="not a usable LPIPS archive"):
        _verify_and_install(spec, part, cached_model_path(spec))
    assert not part.exists() and not cached_model_path(spec).exists()
