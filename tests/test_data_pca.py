"""§4.1 PCA colour noise against a direct numpy computation."""
import numpy as np
import pytest
import torch

from alexnet.data.loader import MemoryLoader
from alexnet.data.augment import pca_noise_batch
from alexnet.data.pca import IMAGENET_EIGVALS, IMAGENET_EIGVECS, PCAColorNoise, rgb_pca


def correlated_images(n=40, size=12, seed=0):
    """uint8 RGB images whose channels are correlated (like photos: brightness dominates)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(40, 200, (n, 1, size, size))
    tint = rng.normal(0, 20, (n, 3, size, size)) * np.array([1.0, 0.5, 0.2])[None, :, None, None]
    return np.clip(base + tint, 0, 255).astype(np.uint8)


def numpy_pca(images):
    pixels = images.transpose(0, 2, 3, 1).reshape(-1, 3).astype(np.float64) / 255
    cov = np.cov(pixels, rowvar=False, bias=True)
    vals, vecs = np.linalg.eigh(cov)
    return vals[::-1], vecs[:, ::-1]


def test_rgb_pca_matches_numpy():
    images = correlated_images()
    vals, vecs = rgb_pca(torch.from_numpy(images))
    ref_vals, ref_vecs = numpy_pca(images)
    np.testing.assert_allclose(vals.numpy(), ref_vals, rtol=1e-5, atol=1e-9)
    assert vals[0] > vals[1] > vals[2] > 0
    for i in range(3):  # same axis up to sign
        assert abs(float(np.dot(vecs[:, i].numpy(), ref_vecs[:, i]))) == pytest.approx(1, abs=1e-5)
    # columns are eigenvectors of the covariance: C p = l p
    pixels = images.transpose(0, 2, 3, 1).reshape(-1, 3) / 255
    cov = np.cov(pixels, rowvar=False, bias=True)
    np.testing.assert_allclose(cov @ vecs.numpy(), vecs.numpy() * vals.numpy(), atol=1e-6)


def test_rgb_pca_chunking_does_not_change_the_result():
    images = torch.from_numpy(correlated_images(n=9))
    from alexnet.data.pca import pca_from_moments, rgb_moments
    a = pca_from_moments(*rgb_moments(images, chunk=2))
    b = rgb_pca(images)
    torch.testing.assert_close(a[0], b[0]); torch.testing.assert_close(a[1], b[1])


def test_rgb_pca_rejects_gray():
    with pytest.raises(ValueError, match="RGB"):
        rgb_pca(torch.zeros(2, 1, 4, 4, dtype=torch.uint8))


def test_noise_is_the_papers_formula():
    """Each image moves by sum_i a_i l_i p_i with a ~ N(0, std), drawn from the generator."""
    x = torch.rand(5, 3, 6, 7)
    vals, vecs = IMAGENET_EIGVALS, IMAGENET_EIGVECS
    out = pca_noise_batch(x, vals, vecs, std=0.1, generator=torch.Generator().manual_seed(3))
    alpha = (torch.randn(5, 3, generator=torch.Generator().manual_seed(3)) * 0.1).numpy()
    expected = np.stack([vecs.numpy() @ (alpha[b] * vals.numpy()) for b in range(5)])   # (5, 3)
    shift = (out - x).numpy()
    np.testing.assert_allclose(shift, np.broadcast_to(expected[:, :, None, None], shift.shape), atol=1e-6)


def test_noise_spread_follows_the_eigenvalues():
    """Projected on p_i, the offsets have std 0.1 * l_i (many draws)."""
    vals, vecs = IMAGENET_EIGVALS, IMAGENET_EIGVECS
    shift = pca_noise_batch(torch.zeros(20000, 3, 1, 1), vals, vecs, 0.1,
                            torch.Generator().manual_seed(0))[:, :, 0, 0]
    proj = shift @ vecs                                            # (n, 3) coordinates along p_i
    np.testing.assert_allclose(proj.std(0).numpy(), (0.1 * vals).numpy(), rtol=0.03)


def test_v2_transform_matches_batched_op():
    from torchvision.transforms import v2
    img = torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)
    t = v2.Compose([v2.ToDtype(torch.float32, scale=True),
                    PCAColorNoise(std=0.1, generator=torch.Generator().manual_seed(5))])
    out = t(img)
    ref = pca_noise_batch(img[None].float() / 255, IMAGENET_EIGVALS, IMAGENET_EIGVECS, 0.1,
                          torch.Generator().manual_seed(5))[0]
    torch.testing.assert_close(out, ref)
    with pytest.raises(TypeError, match="float"):
        PCAColorNoise()(img)


def test_memory_loader_applies_pca_noise():
    images = torch.from_numpy(correlated_images(n=8, size=8))
    labels = torch.arange(8)
    common = dict(batch_size=8, image_size=8, mean=[0, 0, 0], std=[1, 1, 1], train=True, pad=0, seed=1)
    plain = MemoryLoader(images, labels, augment="crop_flip", **common)
    noisy = MemoryLoader(images, labels, augment="crop_flip_pca", pca=rgb_pca(images), **common)
    (xa, _), (xb, _) = next(plain.batches(0)), next(noisy.batches(0))
    diff = xb - xa                                                 # same flips (same generator order)
    assert diff.abs().max() > 0
    # one RGB offset per image: constant over pixels
    torch.testing.assert_close(diff, diff[:, :, :1, :1].expand_as(diff))
