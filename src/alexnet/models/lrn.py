"""Local response normalisation exactly as §3.3 writes it.

    b[i] = a[i] / (k + alpha * sum_{j = max(0, i - n/2)}^{min(N - 1, i + n/2)} a[j]^2) ** beta

with k=2, n=5, alpha=1e-4, beta=0.75. `torch.nn.LocalResponseNorm` divides alpha by n
(it averages the squares rather than summing them), so the same numbers there need
`alpha * n`. The LRN chapter compares the conventions.
"""
import torch
import torch.nn.functional as F
from torch import nn


def local_response_norm(a: torch.Tensor, size: int = 5, alpha: float = 1e-4,
                        beta: float = 0.75, k: float = 2.0, groups: int = 1) -> torch.Tensor:
    """The paper's formula on a (B, C, H, W) tensor; with `groups`, channels are normalised
    within their group only (the two columns of §3.2 each normalise their own 48 maps)."""
    if groups > 1:
        return torch.cat([local_response_norm(part, size, alpha, beta, k)
                          for part in a.chunk(groups, dim=1)], dim=1)
    channels, lo, hi = a.shape[1], size // 2, (size - 1) // 2
    sq = F.pad(a * a, (0, 0, 0, 0, lo, hi))                    # (B, C + size - 1, H, W); zeros clip the ends
    # The window sum as `size` shifted slices: cheap elementwise adds, much faster on a CPU
    # than a pooling op over a 5-D view (the LRN chapter measures it).
    window_sum = sq[:, 0:channels]
    for j in range(1, size):
        window_sum = window_sum + sq[:, j:j + channels]
    return a / (k + alpha * window_sum).pow(beta)


class LocalResponseNorm(nn.Module):
    """§3.3 response normalisation; defaults are the paper's hyper-parameters."""

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
                 groups: int = 1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k, self.groups = size, alpha, beta, k, groups

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return local_response_norm(a, self.size, self.alpha, self.beta, self.k, self.groups)

    def extra_repr(self) -> str:
        return (f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
                + (f", groups={self.groups}" if self.groups > 1 else ""))
