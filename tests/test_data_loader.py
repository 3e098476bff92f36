"""The one loader interface (`alexnet.data.loader.Loader`) and the augmentations written once."""
import torch

from alexnet.data.augment import flip_draws, random_offsets
from alexnet.data.folders import FolderLoader
from alexnet.data.loader import Loader, MemoryLoader
from alexnet.data.scale import ScaleLoader
from alexnet.data.stats import stats_of


def loaders():
    gen = torch.Generator().manual_seed(0)
    small = torch.randint(0, 256, (8, 3, 32, 32), generator=gen, dtype=torch.uint8)
    big = torch.randint(0, 256, (4, 3, 256, 256), generator=gen, dtype=torch.uint8)
    labels = torch.arange(8) % 2
    return [
        MemoryLoader(small, labels, 4, 32, [0.5] * 3, [0.25] * 3, train=True, augment="crop_flip"),
        FolderLoader([("f", 0)] * 4, stats_of([big]), batch_size=2, image_size=224, train=True,
                     augment="crop_flip", images=big),
        ScaleLoader(small, labels, 4, 32, (37, 73), [0.5] * 3, [0.25] * 3),
    ]


def test_every_loader_is_a_loader_and_replays_its_batches():
    from alexnet.parallel import ShardedLoader
    for loader in loaders():
        assert isinstance(loader, Loader) and isinstance(ShardedLoader(loader, 0, 2), Loader)
        first = list(loader.batches(1))
        assert len(first) == len(loader) == 2
        again = list(loader.batches(1, start=1))                 # resume at step 1: the same batch
        assert torch.equal(first[1][0], again[0][0]) and torch.equal(first[1][1], again[0][1])
    assert not isinstance(object(), Loader)


def test_crop_and_flip_draws_are_shared():
    """The folder loader's crops/flips are the draws `random_offsets` and `flip_draws` make,
    in that order: rows, columns, flips."""
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    oy, ox = random_offsets(6, 256, 256, 224, g1)
    flips = flip_draws(6, g1)
    assert torch.equal(oy, torch.randint(0, 33, (6,), generator=g2))
    assert torch.equal(ox, torch.randint(0, 33, (6,), generator=g2))
    assert torch.equal(flips, torch.rand(6, generator=g2) < 0.5)


def test_matmul_enlargement_equals_torch_bilinear():
    """Against torch's bilinear in float64: ours within 3e-7 (float32 rounding); torch's own
    float32 kernel is up to ~3e-6 off at 28 -> 96, computing its scale in float32."""
    import torch.nn.functional as F

    from alexnet.data.loader import resize
    torch.manual_seed(0)
    for shape, size in (((5, 1, 28, 28), 224), ((5, 1, 28, 28), 96), ((3, 3, 32, 32), 227), ((2, 3, 20, 30), 64)):
        x = torch.rand(shape)
        want = F.interpolate(x.double(), size=(size, size), mode="bilinear", align_corners=False)
        got = resize(x, size)
        assert got.shape == want.shape and got.dtype == torch.float32
        torch.testing.assert_close(got.double(), want, rtol=0, atol=3e-7)
    x = torch.rand(2, 3, 64, 64)                      # shrinking: torch's, with antialias
    torch.testing.assert_close(resize(x, 32), F.interpolate(x, size=(32, 32), mode="bilinear",
                                                            align_corners=False, antialias=True))


def test_ten_views_of_a_memory_loader_are_torchvisions_ten_crops_of_the_padded_image():
    """The CIFAR form of §4.1's ten patches: torchvision's ten_crop (a second implementation)
    of the image zero-padded by 4, i.e. the image and its corner translations, each reflected."""
    import torchvision.transforms.v2.functional as TF
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8, generator=gen)
    mean, std = [0.4, 0.5, 0.6], [0.2, 0.25, 0.3]
    ten = MemoryLoader(images, torch.arange(5), 5, 32, mean, std, train=False, ten_crop=True)
    x, _ = next(ten.batches(0))
    assert x.shape == (5, 10, 3, 32, 32)
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4)).float() / 255
    ref = torch.stack(TF.ten_crop(padded, [32, 32]), dim=1)                  # (5, 10, 3, 32, 32)
    norm = (ref - torch.tensor(mean).view(1, 1, 3, 1, 1)) / torch.tensor(std).view(1, 1, 3, 1, 1)
    torch.testing.assert_close(x, norm)
    centre = MemoryLoader(images, torch.arange(5), 5, 32, mean, std, train=False)
    torch.testing.assert_close(x[:, 4], next(centre.batches(0))[0])          # view 4: the image itself
    # a training loader never makes ten views
    assert not MemoryLoader(images, torch.arange(5), 5, 32, mean, std, train=True, ten_crop=True).ten_crop
