"""Top-1 and top-5 error (§2), on single images or on crops whose softmax is averaged (§4.1)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..devices import autocast  # noqa: F401  (bf16 where the device has it, else fp16; re-exported)


def topk_errors(scores: torch.Tensor, y: torch.Tensor, ks=(1, 5)) -> dict[int, int]:
    """Number of examples whose label is not among the k highest scores, for each k."""
    top = scores.topk(min(max(ks), scores.shape[1]), dim=1).indices          # (B, kmax)
    hit = top == y[:, None]
    return {k: int((~hit[:, :k].any(1)).sum()) for k in ks}


@torch.no_grad()
def evaluate(model, batches, device: torch.device, precision: str = "fp32",
             channels_last: bool = False, progress: bool = False) -> dict:
    """Mean loss, top-1 and top-5 error over `batches` of (x, y).

    x is (B, C, H, W), or (B, n_crops, C, H, W) for multi-crop testing: then the softmax
    outputs of the crops are averaged per image, as §4.1 describes for the 10 patches.
    """
    model.eval()
    loss_sum, n, wrong = 0.0, 0, {1: 0, 5: 0}
    for x, y in tqdm(batches, desc="eval", leave=False, disable=not progress):
        if not len(y):          # a rank's share of a last batch smaller than the world: nothing to add
            continue
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        crops = x.shape[1] if x.dim() == 5 else 1
        x = x.flatten(0, 1) if x.dim() == 5 else x
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(device, precision):
            logits = model(x).float()
        probs = logits.softmax(1).view(y.shape[0], crops, -1).mean(1)      # (B, classes)
        loss_sum += float(F.nll_loss(probs.clamp_min(1e-12).log(), y, reduction="sum"))
        for k, v in topk_errors(probs, y).items():
            wrong[k] += v
        n += y.shape[0]
    return dict(loss=loss_sum / max(n, 1), top1_err=wrong[1] / max(n, 1),
                top5_err=wrong[5] / max(n, 1), n=n)


def clean_train_error(result, limit: int = 2000) -> dict:
    """Top-1 error of the trained net on (the first `limit` of) its own training images,
    in test mode: no augmentation, no dropout masks. The `train_err` of the history is
    measured on the fly with dropout on and the weights still moving, so it is not the
    number the gap needs."""
    from ..data.loader import MemoryLoader
    src, cfg = result.data.train, result.cfg
    n = min(limit, len(src.labels)) if limit else len(src.labels)
    loader = MemoryLoader(src.images[:n], src.labels[:n], cfg.batch_size, src.image_size,
                          src.mean.flatten().tolist(), src.std.flatten().tolist(), train=False)
    out = evaluate(result.model, loader.batches(0), result.device, cfg.precision, cfg.channels_last)
    return dict(train_clean_top1_err=out["top1_err"], train_clean_loss=out["loss"])


def crop_errors(result) -> dict:
    """§4.1's test: one centre view vs the ten patches (softmax averaged), the same trained
    model on the same images; {"center": evaluate(...), "ten_crop": evaluate(...)}. The loader
    (memory or folder) decides what the ten patches are at its image size."""
    from .probes import eval_loader
    cfg, val = result.cfg, result.data.val
    ten = eval_loader(val)
    ten.ten_crop = True
    return {name: evaluate(result.model, loader.batches(0), result.device, cfg.precision, cfg.channels_last)
            for name, loader in (("center", eval_loader(val)), ("ten_crop", ten))}
