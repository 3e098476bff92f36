"""Warm-up: d2l's Fashion-MNIST AlexNet trained with our package, the paper's recipe (§5)
beside Dive into Deep Learning's.

d2l's chapter "Deep Convolutional Neural Networks (AlexNet)" trains `alexnet_d2l` (one
input channel, conv1 11x11/4 padding 1, no LRN, one column) on Fashion-MNIST resized to
224x224 with plain SGD at lr 0.01, batch 128, Xavier init, 10 epochs. The `cpu` preset keeps
that network and batch but feeds it 96x96 images, where conv1 still fits (96 -> 22 -> pool
10 -> 4 -> 1) and a training image costs ~0.8 GFLOP instead of ~5.6 GFLOP at 224 (measured
with `alexnet.models.layer_table`): on a 2-core CPU that is the difference between minutes
and hours. The `paper` preset is d2l's full setting at 224.

Variants (the same data, input size, batch, dropout and schedule):
    paper:        §5: SGD momentum 0.9, weight decay 5e-4, weights N(0, 0.01), biases 1 in
                  conv2/4/5 and fc6/7
    paper_xavier: §5's optimiser (momentum 0.9, weight decay 5e-4) with d2l's Xavier init;
                  without LRN the paper's N(0, 0.01) start can sit at chance for a long time,
                  and this isolates the optimiser from the initialisation
    d2l:          d2l's `train_ch6`: plain SGD (no momentum, no weight decay), Xavier-uniform
These three use a constant learning rate of 0.01 (d2l's; three epochs are too few for §5's
divide-by-ten-on-plateau to act) and no augmentation (d2l uses none). A fourth is named apart:
    modern:       a modern recipe (`alexnet.recipes.MODERN_FASHION`): AlexNet's shape at
                  Fashion-MNIST's own 28x28 (`alexnet_small`), one cycle of warm-up then
                  cosine per step, Nesterov momentum, label smoothing, the fused kernels; at the
                  `cpu` preset all 60,000 images for 4 epochs. It is timed by the wall clock
                  against issue 13's target: 0.90 test accuracy in 10 minutes on 2 cores.
"""
from __future__ import annotations

import math

import torch

from ..evaluation.metrics import autocast
from ..recipes import MODERN_FASHION, MODERN_FASHION_CPU, WARMUP_RECIPES
from ..harness import presets
from ..harness.declare import Experiment
from ..harness.runner import Outcome, final_summary, run_variants

# the variants: §5's optimiser and init, d2l's, and the modern recipe (its own data sizes at `cpu`)
RECIPES = dict(WARMUP_RECIPES, modern=MODERN_FASHION)
TARGET_ACCURACY = 0.90   # issue 4; d2l's published run reaches ~0.885 at 224 after 10 epochs
TARGET_MINUTES = 10      # issue 13: on 2 CPU cores, by the wall clock, all 10,000 test images
D2L_PUBLISHED = 0.885    # d2l's chapter: test accuracy after 10 epochs at 224x224 on a GPU


@torch.no_grad()
def confusion_matrix(model, batches, num_classes: int, device, precision="fp32",
                     channels_last=False) -> list[list[int]]:
    """counts[true][predicted] over `batches` (rows: the true class)."""
    model.eval()
    counts = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for x, y in batches:
        x = x.to(device)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(device, precision):
            pred = model(x).argmax(1).cpu()
        counts += torch.bincount(y * num_classes + pred, minlength=num_classes ** 2).view(num_classes, -1)
    return counts.tolist()


def variants_for(preset: str) -> dict:
    """RECIPES, with the modern one on all training images for 4 epochs at the `cpu` preset."""
    return dict(RECIPES, modern=MODERN_FASHION_CPU) if preset == "cpu" else RECIPES


def run(cfg, preset, seeds) -> Outcome:
    confusions, classes = {}, []

    def on_result(variant, seed, result):
        c = result.cfg
        confusions[variant] = confusion_matrix(result.model, result.data.val.batches(0),
                                               result.data.num_classes, result.device,
                                               c.precision, c.channels_last)
        classes[:] = result.data.classes
        return {}

    metrics, fingerprint, configs = run_variants("warmup", preset, cfg, variants_for(preset), seeds,
                                                 on_result=on_result)
    metrics["train_acc"] = 1 - metrics["train_err"]
    metrics["test_acc"] = 1 - metrics["val_top1_err"]
    summary = final_summary(metrics, ("test_acc", "train_acc", "val_loss", "train_loss", "images_per_s"))
    for variant in summary:
        rows = metrics[metrics.variant == variant]
        summary[variant]["seconds"] = float(rows.seconds.sum())             # training epochs only
        summary[variant]["wall_seconds"] = float(rows.wall_seconds.sum())   # start to end, per seed summed
        summary[variant]["confusion"] = confusions[variant]
    best = max(summary, key=lambda v: summary[v]["test_acc"]["mean"])
    summary["best"] = dict(variant=best, test_acc=summary[best]["test_acc"]["mean"],
                           target=TARGET_ACCURACY,
                           met=summary[best]["test_acc"]["mean"] >= TARGET_ACCURACY)
    summary["target"] = target(summary, len(seeds), cfg.val_limit)
    summary["classes"] = classes
    summary["setting"] = dict(image_size=cfg.image_size, epochs=cfg.epochs,
                              train_images=cfg.train_limit or 60000, test_images=cfg.val_limit or 10000,
                              batch_size=cfg.batch_size, precision=cfg.precision,
                              channels_last=cfg.channels_last)
    return Outcome(metrics, summary, fingerprint, configs)


def target(summary: dict, n_seeds: int, val_limit: int) -> dict:
    """Issue 13's target: the variants whose mean test accuracy on all test images reaches
    TARGET_ACCURACY within TARGET_MINUTES of wall clock per run; d2l's published figure beside."""
    variants = [v for v in summary if v not in ("best",)]
    met = [v for v in variants if summary[v]["test_acc"]["mean"] >= TARGET_ACCURACY and val_limit == 0
           and summary[v]["wall_seconds"] / n_seeds <= 60 * TARGET_MINUTES]
    return dict(accuracy=TARGET_ACCURACY, minutes=TARGET_MINUTES, met_by=met, met=bool(met),
                d2l_published=D2L_PUBLISHED)


def facts(record) -> dict[str, str]:
    """What the warm-up chapter quotes ({glue:text}`warmup_<key>`): the `cpu` setting, each
    variant's final numbers (`<variant>_acc`, `_train_acc`, `_loss`, `_speed`, `_minutes`,
    `_wall`), the best against TARGET_ACCURACY and of §5's and d2l's recipes, issue 13's target, and
    why `paper` is stuck where its loss is ln 10."""
    s, variants = record.summary, record.config.get("variants", {})
    setting, best, target = s["setting"], s["best"], s["target"]
    out = dict(size=str(setting["image_size"]), epochs=str(setting["epochs"]), batch=str(setting["batch_size"]),
               train=f"{setting['train_images']:,}", test=f"{setting['test_images']:,}",
               best=best["variant"], best_acc=f"{best['test_acc']:.3f}",
               best_meets="meets" if best["met"] else "falls short of", target_acc=f"{target['accuracy']:.2f}",
               target_minutes=str(target["minutes"]), d2l_published=f"{target['d2l_published']:.3f}",
               met_by=", ".join(target["met_by"]) or "no recipe",
               modern_epochs=str(variants.get("modern", {}).get("epochs", setting["epochs"])), line=record.line())
    for v in (v for v in RECIPES if v in s):
        r = s[v]
        out.update({f"{v}_acc": f"{r['test_acc']['mean']:.3f}", f"{v}_train_acc": f"{r['train_acc']['mean']:.3f}",
                    f"{v}_loss": f"{r['train_loss']['mean']:.3f}", f"{v}_speed": f"{r['images_per_s']['mean']:.0f}",
                    f"{v}_minutes": f"{r['seconds'] / 60:.1f}",
                    f"{v}_wall": f"{r.get('wall_seconds', math.nan) / 60:.1f}"})
    loss = s["paper"]["train_loss"]["mean"]
    out["paper_stuck"] = (f"With the paper's N(0, 0.01) start the network is still at chance: its last training "
                          f"loss, {loss:.3f}, is ln 10 = {math.log(10):.3f}, a uniform guess over ten classes. "
                          "Without LRN, and with these few steps, the tiny weights and the biases of 1 give every "
                          "image nearly the same output.") if abs(loss - math.log(10)) < 0.01 else ""
    out["best_of_three"] = max(WARMUP_RECIPES, key=lambda v: s[v]["test_acc"]["mean"] if v in s else -1)
    return out


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
EXPERIMENT = Experiment(
    title="Warm-up: AlexNet on Fashion-MNIST, the paper's recipe vs d2l's", section="§5 (d2l: Deep Convolutional Neural Networks)",
    # d2l's Fashion-MNIST setting (`alexnet.recipes`); smoke: synthetic images at the smallest
    # input alexnet_d2l accepts comfortably; paper: d2l's chapter exactly (224, 60,000, 10 epochs).
    presets=dict(smoke=dict(presets.D2L_FASHION, dataset="synthetic", image_size=96, epochs=2, batch_size=16,
                            train_limit=64, val_limit=32),
                 cpu=presets.D2L_FASHION_CPU,
                 paper=dict(presets.D2L_FASHION, image_size=224, epochs=10, precision="bf16", channels_last=True)),
    seeds=presets.ONE)
