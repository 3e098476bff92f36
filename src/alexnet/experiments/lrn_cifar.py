"""§3.3: "On the CIFAR-10 dataset, a four-layer CNN achieved a 13% test error rate without
normalization and 11% with normalization" — with cuda-convnet's own networks.

The pair is cuda-convnet's `layers-conv-local-13pct.cfg` and `layers-conv-local-11pct.cfg`
(`alexnet.models.cuda_convnet`, which cites the configs): variants "13pct" (no normalisation)
and "11pct" (two cross-map normalisation layers, size 9; the config also widens local3).
cuda-convnet's recipe: epsW 0.001, momentum 0.9, its per-layer weight decay, batch 128, 24x24
random crops and flips, ~520 epochs (layer-params-conv-local-11pct.cfg's methodology: ~350 epochs
on batches 1-4, ~150 more on 1-5, then 10 epochs each at epsW / 10 and / 100), tested with
`--multiview-test=1`: the softmax averaged over 10 views (4 corner and the centre 24x24 crops and
their mirror images). We record the centre-crop test error every epoch (curves, and the gap at
equal epochs) and, at the end, the 10-view test error the 11% was measured with.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import stats
from ..config import Config
from ..evaluation.metrics import autocast
from ..harness import presets
from ..harness.declare import Claim, Experiment, Regime, values
from ..harness.runner import Outcome
from ..harness.runner import final_summary, run_variants

PAPER = {"13pct": 0.13, "11pct": 0.11}                      # §3.3: test error without / with LRN

# cuda-convnet's layer-params: lr = epsW (biases 2x inside the model), momentum = momW, weight
VARIANTS = {"13pct": dict(lrn=False), "11pct": dict(lrn=True)}
CROP, BORDER = 24, 4                                        # 24x24 crops of 32x32 images


def views(x: torch.Tensor):
    """cuda-convnet's 10 test views of a (B, C, 32, 32) batch, each re-centred so the model's
    centre crop takes it: the 4 corner crops and the centre one, and their mirror images."""
    for oy, ox in ((0, 0), (0, 2 * BORDER), (BORDER, BORDER), (2 * BORDER, 0), (2 * BORDER, 2 * BORDER)):
        crop = x[..., oy:oy + CROP, ox:ox + CROP]
        for v in (crop, crop.flip(-1)):
            yield F.pad(v, (BORDER,) * 4)                    # (B, C, 32, 32), the view in the centre


@torch.no_grad()
def multiview_error(model, loader, cfg: Config, device: torch.device) -> float:
    """Top-1 test error of the softmax averaged over the 10 views (`--multiview-test=1`)."""
    model.eval()
    wrong = n = 0
    for x, y in loader.batches(0):
        probs = 0
        for v in views(x.to(device)):
            if cfg.channels_last:
                v = v.contiguous(memory_format=torch.channels_last)
            with autocast(device, cfg.precision):
                probs = probs + model(v).float().softmax(1)
        wrong += int((probs.argmax(1).cpu() != y).sum())
        n += len(y)
    return wrong / n


def _multiview(variant, seed, result) -> dict:
    return dict(val_top1_err_multiview=multiview_error(result.model, result.data.val, result.cfg,
                                                       result.device))


def gap_by_epoch(metrics) -> list[dict]:
    """Per epoch: the test error of 13pct minus 11pct, per seed and summarized."""
    wide = metrics.pivot_table(index=["epoch", "seed"], columns="variant", values="val_top1_err")
    out = []
    for epoch, rows in (wide["13pct"] - wide["11pct"]).groupby(level="epoch"):
        out.append(dict(epoch=int(epoch), **stats.summarize(rows)))
    return out


def plateaued(metrics, points: float = 0.005) -> dict:
    """Per variant and seed: whether the last three epochs' test errors lie within `points`."""
    out = {}
    for (variant, seed), rows in metrics.sort_values("epoch").groupby(["variant", "seed"]):
        last = rows["val_top1_err"].tail(3)
        out[f"{variant}/seed{seed}"] = bool(len(last) == 3 and last.max() - last.min() <= points)
    return out


def run(cfg: Config, preset: str, seeds: list[int]) -> Outcome:
    metrics, fingerprint, configs = run_variants("lrn_cifar", preset, cfg, VARIANTS, seeds,
                                                 on_result=_multiview)
    return Outcome(metrics, summarize_metrics(metrics, cfg), fingerprint, configs)


def summarize_metrics(metrics, cfg) -> dict:
    """The summary from the metrics alone (`alexnet run ... --resummarize` re-derives it)."""
    summary = final_summary(metrics, ("val_top1_err", "val_top1_err_multiview", "train_err"))
    for column in ("val_top1_err", "val_top1_err_multiview"):   # paired by seed: 13pct - 11pct
        summary[f"gap_{column}"] = stats.paired(summary["13pct"][column], summary["11pct"][column])
    summary["gap_by_epoch"] = gap_by_epoch(metrics)
    summary["plateaued"] = plateaued(metrics)
    summary["paper"] = dict(PAPER, gap=PAPER["13pct"] - PAPER["11pct"])
    summary["budget"] = dict(epochs=cfg.epochs, train_images=cfg.train_limit or 50_000,
                             test_images=cfg.val_limit or 10_000, cuda_convnet_epochs=520)
    return summary


def facts(record) -> dict[str, str]:
    """The strings the LRN chapter quotes from a record: the budget, each network's centre-crop
    and 10-view test error, and the gap 13pct - 11pct at the end and per epoch (mean over seeds)."""
    s, budget = record.summary, record.summary["budget"]
    gaps = [g["mean"] for g in s["gap_by_epoch"]]
    return dict(epochs=str(budget["epochs"]), epochs_theirs=str(budget["cuda_convnet_epochs"]),
                images=f"{budget['train_images']:,}", seeds=str(s["13pct"]["val_top1_err"]["n"]),
                centre_13=stats.pm(s["13pct"]["val_top1_err"], unit="%"),
                centre_11=stats.pm(s["11pct"]["val_top1_err"], unit="%"),
                multi_13=stats.pm(s["13pct"]["val_top1_err_multiview"], unit="%"),
                multi_11=stats.pm(s["11pct"]["val_top1_err_multiview"], unit="%"),
                gap_centre=stats.pm(s["gap_val_top1_err"], digits=2, unit=" points"),
                gap_epochs=f"{100 * min(gaps):+.1f} to {100 * max(gaps):+.1f} points",
                ahead=f"{sum(g > 0 for g in gaps)} of {len(gaps)}")


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
EXPERIMENT = Experiment(
    title="LRN on CIFAR-10 with cuda-convnet's own 13% / 11% networks", section="§3.3",
    presets=dict(
        smoke=dict(presets.CCN, dataset="synthetic", train_limit=64, val_limit=32, batch_size=16, epochs=2,
                   lr=0.01),
        cpu=presets.CCN_LONG, long=presets.CCN_LONG,
        paper=dict(presets.CCN, precision="fp32", epochs=520, schedule="step", step_every=500)),  # 500 at 0.001, 20 at 0.0001
    seeds={"smoke": [0], "cpu": [0, 1], "long": [0, 1], "paper": [0, 1]}, variants=VARIANTS,
    claims=(Claim("lrn_cifar_13_11", "LRN on CIFAR-10: 13% → 11% (§3.3), cuda-convnet's own pair", "13% → 11%",
                  "lrn", values("gap_val_top1_err_multiview"), PAPER["13pct"] - PAPER["11pct"],
                  regime=Regime()),))
