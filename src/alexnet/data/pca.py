"""§4.1, the second form of data augmentation: PCA colour noise.

"We perform PCA on the set of RGB pixel values throughout the ImageNet training set. To
each training image, we add multiples of the found principal components, with magnitudes
proportional to the corresponding eigenvalues times a random variable drawn from a
Gaussian with mean zero and standard deviation 0.1":

    I_xy += [p1, p2, p3] [a1 l1, a2 l2, a3 l3]^T,    a_i ~ N(0, 0.1), once per image per epoch

Units: pixel values in [0, 1] (uint8 / 255) throughout, the units in which the widely used
ImageNet eigenvalues [0.2175, 0.0188, 0.0045] (fb.resnet.torch, many PyTorch ports) are
stated, so the noise can be added to images scaled to [0, 1] before normalisation.
"""
from __future__ import annotations

import torch

# The noise itself (one draw per image, added to a batch) is §4.1's lighting in data.augment;
# imported here too, for readers of this page and its older callers.
from .augment import pca_noise_batch, pca_shift  # noqa: F401

# The values most PyTorch/Torch ImageNet recipes copy (fb.resnet.torch's `Lighting`):
# eigenvalues and eigenvectors (columns) of the RGB covariance, pixels in [0, 1].
IMAGENET_EIGVALS = torch.tensor([0.2175, 0.0188, 0.0045])
IMAGENET_EIGVECS = torch.tensor([[-0.5675, 0.7192, 0.4009],
                                 [-0.5808, -0.0045, -0.8140],
                                 [-0.5836, -0.6948, 0.4203]])


def rgb_moments(images: torch.Tensor, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Sum of pixels (3,), sum of outer products (3, 3) and pixel count of uint8 (N, 3, H, W)
    images, in [0, 1] units and float64 (chunked: ImageNet-sized sets don't fit as floats)."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"rgb_pca needs RGB images (N, 3, H, W); got shape {tuple(images.shape)}")
    s1, s2, n = torch.zeros(3, dtype=torch.float64), torch.zeros(3, 3, dtype=torch.float64), 0
    for i in range(0, images.shape[0], chunk):
        x = images[i:i + chunk].to(torch.float64).div_(255)
        x = x.transpose(0, 1).reshape(3, -1)                       # (3, pixels)
        s1 += x.sum(1)
        s2 += x @ x.T
        n += x.shape[1]
    return s1, s2, n


def pca_from_moments(s1: torch.Tensor, s2: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigen-decomposition of the covariance from summed moments; largest eigenvalue first.
    An eigenvector's sign is arbitrary (a_i is symmetric, so the noise doesn't care): each
    is turned to point the way the published ImageNet vector does, so they compare directly."""
    mean = s1 / n
    cov = s2 / n - torch.outer(mean, mean)                         # (3, 3) population covariance
    eigvals, eigvecs = torch.linalg.eigh(cov)                      # ascending
    eigvals, eigvecs = eigvals.flip(0), eigvecs.flip(1)
    signs = torch.where((eigvecs * IMAGENET_EIGVECS.double()).sum(0) < 0, -1.0, 1.0).double()
    return eigvals.clamp_min(0).float(), (eigvecs * signs).float()


def rgb_pca(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(eigvals (3,), eigvecs (3, 3), columns) of the RGB covariance of uint8 (N, 3, H, W)
    images over all their pixels, in [0, 1] units."""
    return pca_from_moments(*rgb_moments(images))


try:  # a per-image transform for torchvision.transforms.v2 pipelines
    from torchvision.transforms import v2 as _v2

    class PCAColorNoise(_v2.Transform):
        """§4.1 colour noise for one float image (3, H, W) in [0, 1], as a v2 transform:
        `v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), PCAColorNoise(l, p)])`.
        Uses torch's global RNG unless given a generator (the DataLoader seeds workers)."""

        _transformed_types = (torch.Tensor,)

        def __init__(self, eigvals=IMAGENET_EIGVALS, eigvecs=IMAGENET_EIGVECS, std: float = 0.1,
                     generator: torch.Generator | None = None):
            super().__init__()
            self.eigvals = torch.as_tensor(eigvals, dtype=torch.float32)
            self.eigvecs = torch.as_tensor(eigvecs, dtype=torch.float32)
            self.std, self.generator = std, generator

        def make_params(self, flat_inputs):
            return {"shift": pca_shift(1, self.eigvals, self.eigvecs, self.std, self.generator)[0]}

        def transform(self, inpt, params):
            if not inpt.is_floating_point():
                raise TypeError("PCAColorNoise needs a float image in [0, 1]: put "
                                "v2.ToDtype(torch.float32, scale=True) before it")
            return inpt + params["shift"].to(inpt.device, inpt.dtype)[:, None, None]
except ImportError:  # pragma: no cover - torchvision is a dependency; keep the batch op usable
    pass
