"""§5's update rule as an optimizer, to set beside `torch.optim.SGD`.

The paper (§5) writes, for a weight w with learning rate ε:

    v ← 0.9·v − 0.0005·ε·w − ε·∂L/∂w
    w ← w + v

PyTorch's SGD (momentum m, weight decay λ, dampening 0) keeps a buffer b in *gradient*
units and multiplies by the learning rate afterwards:

    b ← m·b + (∂L/∂w + λ·w)
    w ← w − ε·b

With a constant ε the two are the same recursion (v = −ε·b, by induction), so they give
identical weights. They part when ε changes: the paper's velocity v was accumulated with
the old ε and keeps moving at the old speed for a while, whereas PyTorch's buffer is
rescaled at once (the whole history is multiplied by the new ε). Dividing ε by 10 under
PyTorch equals dividing the paper's v by 10 at the same moment (`rescale_velocity`).

`make_optimizer` is what training uses: `optimizer=paper` (the `paper` preset) is `PaperSGD`,
`optimizer=sgd` (the `smoke` and `cpu` presets, whose records were made with it) is
`torch.optim.SGD`. Both decay the weights only, not the biases.
"""
from __future__ import annotations

import torch


def make_optimizer(model: torch.nn.Module, cfg) -> torch.optim.Optimizer:
    """§5: momentum 0.9, weight decay 5e-4 on the weights (the paper's rule decays w; biases
    are left alone, as in cuda-convnet's layer parameters), under the rule `cfg.optimizer` names."""
    weights = [p for p in model.parameters() if p.dim() > 1]
    biases = [p for p in model.parameters() if p.dim() <= 1]
    groups = [dict(params=weights, weight_decay=cfg.weight_decay), dict(params=biases, weight_decay=0.0)]
    if cfg.optimizer == "sgd":
        return torch_sgd(groups, cfg.fused, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
    if cfg.nesterov:
        raise ValueError("nesterov=true is a torch.optim.SGD option; use optimizer=sgd with it")
    return PaperSGD(groups, lr=cfg.lr, momentum=cfg.momentum)


def torch_sgd(groups, fused: bool = False, **kw) -> torch.optim.SGD:
    """torch.optim.SGD; `fused` (fused=true) uses its fused kernel, one pass over each tensor
    for decay, momentum and update: ~4x faster than the per-tensor loop on a CPU and equal to
    it up to rounding (it fuses multiply-adds; tested to 1e-15 in float64), falling back to
    the loop where this torch or device has none. Off by default: the committed records were
    made with the loop, and rerunning them must give the same bits."""
    if fused:
        try:
            return torch.optim.SGD(groups, fused=True, **kw)
        except (RuntimeError, TypeError, ValueError):
            pass
    return torch.optim.SGD(groups, **kw)


class PaperSGD(torch.optim.Optimizer):
    """v ← momentum·v − weight_decay·lr·w − lr·g;  w ← w + v   (§5, per parameter)."""

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 5e-4):
        if lr <= 0 or not 0 <= momentum < 1 or weight_decay < 0:
            raise ValueError(f"PaperSGD needs lr > 0, 0 <= momentum < 1, weight_decay >= 0; "
                             f"got lr={lr}, momentum={momentum}, weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, m, wd = group["lr"], group["momentum"], group["weight_decay"]
            for w in group["params"]:
                if w.grad is None:
                    continue
                v = self.state[w].setdefault("velocity", torch.zeros_like(w))
                v.mul_(m).add_(w, alpha=-wd * lr).add_(w.grad, alpha=-lr)   # §5, first line
                w.add_(v)                                                   # §5, second line
        return loss

    def rescale_velocity(self, factor: float) -> None:
        """Multiply every v by `factor`: what PyTorch's convention does implicitly when the
        learning rate is multiplied by `factor`."""
        for group in self.param_groups:
            for w in group["params"]:
                if "velocity" in self.state[w]:
                    self.state[w]["velocity"].mul_(factor)


def torch_sgd_like_paper(params, lr: float = 0.01, momentum: float = 0.9,
                         weight_decay: float = 5e-4) -> torch.optim.SGD:
    """The torch.optim.SGD settings that reproduce `PaperSGD` at constant lr: the same lr,
    momentum and weight decay, no dampening, no Nesterov."""
    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                           dampening=0.0, nesterov=False)


def compare_on_quadratic(steps: int = 60, lr: float = 0.05, drop_at: int | None = 20,
                         curvature: float = 1.0, w0: float = 5.0):
    """Both rules minimising L(w) = curvature·w²/2 from w0, the lr ÷10 at step `drop_at`.

    Returns a DataFrame (step, lr, paper, torch, paper_rescaled): the weight after each
    step; `paper_rescaled` also divides v by 10 at the drop, and equals `torch`."""
    import pandas as pd
    ws = {k: torch.tensor([w0], dtype=torch.float64, requires_grad=True)
          for k in ("paper", "torch", "paper_rescaled")}
    opts = {"paper": PaperSGD([ws["paper"]], lr), "torch": torch_sgd_like_paper([ws["torch"]], lr),
            "paper_rescaled": PaperSGD([ws["paper_rescaled"]], lr)}
    rows = []
    for step in range(steps):
        now = lr / 10 if drop_at is not None and step >= drop_at else lr
        for name, opt in opts.items():
            if step == drop_at and name == "paper_rescaled":
                opt.rescale_velocity(0.1)
            for g in opt.param_groups:
                g["lr"] = now
            opt.zero_grad()
            (0.5 * curvature * ws[name] ** 2).sum().backward()
            opt.step()
        rows.append(dict(step=step + 1, lr=now, **{k: w.item() for k, w in ws.items()}))
    return pd.DataFrame(rows)
