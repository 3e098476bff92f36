"""§6 and §6.1 at CPU scale: the full-size AlexNet trained end to end on the ImageNet sample.

The paper's own network (`alexnet_paper`, two columns, LRN, overlapping pools, dropout,
§4.1 crops + flips + PCA colour noise, §2 mean-image subtraction) with a 10-way fc8, on the
workplace's 10-class sample of ILSVRC-2012 (1,000 training and 400 validation images).
Two initialisations: §5's N(0, 0.01) with biases 1, and Kaiming's. The better of the two
final models is then measured for the book, so that no chapter needs the checkpoint:

- centre-crop vs 10-crop top-1/top-5 error on the validation images (§4.1, §6);
- `conv1.npy`: the 96 conv1 kernels (float16), and their colourfulness per column (§6.1);
- `learned.json` + `thumbs.jpg`: top-5 predictions for eight validation images, and the
  six nearest training images in fc7 space for four validation queries (Figure 4).
"""
from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ..data.images import load_256
from ..config import Config
from ..data.ilsvrc import EXPECTED
from ..data.imagenet import class_names
from ..evaluation import probes as vis
from ..evaluation.metrics import crop_errors
from ..models import build_model
from ..stats import pct
from ..training.loop import NonFiniteLoss, train
from ..harness import presets
from ..harness.declare import Claim, Experiment, Regime
from ..harness.runner import Outcome, final_summary, scratch_dir

VARIANTS = {"paper_init": dict(init="paper"), "kaiming": dict(init="kaiming")}
N_PREDICT, N_QUERIES, K_NEIGHBOURS, THUMB = 8, 4, 6, 64


def train_variants(cfg, preset, seed, log=print):
    results, frames = {}, []
    for variant, changes in VARIANTS.items():
        vcfg = cfg.replace(seed=seed, **changes)
        log(f"[imagenet_sample/{preset}] {variant}")
        try:
            results[variant] = train(vcfg, out_dir=scratch_dir("imagenet_sample", preset, variant, seed), log=log)
            frames.append(pd.DataFrame(results[variant].history).assign(variant=variant, seed=seed))
        except NonFiniteLoss as err:           # a finding, not a crash: record it and go on
            log(f"{variant} diverged: {err}")
            frames.append(pd.DataFrame([dict(epoch=0, diverged=str(err))]).assign(variant=variant, seed=seed))
    metrics = pd.concat(frames, ignore_index=True)
    first = ["variant", "seed", "epoch"]
    return results, metrics[first + [c for c in metrics.columns if c not in first]]


def evenly_spaced(n_items: int, k: int, offset: float = 0.0) -> list[int]:
    return [min(n_items - 1, math.floor((i + offset) * n_items / k)) for i in range(k)]


def thumbnails(paths: list[str]) -> bytes:
    """One JPEG sprite of THUMBxTHUMB tiles, in `paths` order, 8 tiles per row."""
    from PIL import Image
    raw = torch.stack([load_256(p) for p in paths]).float()                 # (N, 3, 256, 256)
    small = F.interpolate(raw, size=(THUMB, THUMB), mode="bilinear", antialias=True).round().clamp(0, 255)
    rows = -(-len(paths) // 8)
    sheet = torch.zeros(3, rows * THUMB, 8 * THUMB)
    for i, t in enumerate(small):
        r, c = divmod(i, 8)
        sheet[:, r * THUMB:(r + 1) * THUMB, c * THUMB:(c + 1) * THUMB] = t
    buf = io.BytesIO()
    Image.fromarray(sheet.permute(1, 2, 0).byte().numpy()).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def learned(result, names: list[str]) -> tuple[dict, dict[str, bytes]]:
    """Figure 4's material from the trained model: top-5 for eight validation images, fc7
    neighbours among the training images for four queries; paths relative to the dataset."""
    from ..data import data_root
    from ..data.imagenet import dataset_dir
    base = dataset_dir(data_root(result.cfg), result.cfg.dataset)
    model, dev, val, train_items = result.model, result.device, result.data.val, result.data.train.items
    rel = lambda p: str(Path(p).relative_to(base))                         # noqa: E731
    centre = lambda paths: val.eval_transform(torch.stack([load_256(p) for p in paths])).to(dev)  # noqa: E731
    pick = [val.items[i] for i in evenly_spaced(len(val.items), N_PREDICT, 0.5)]
    idx, prob = vis.top5(model, centre([p for p, _ in pick]))
    predictions = [dict(path=rel(p), label=names[y], top5=[names[j] for j in i], probs=[round(float(q), 4) for q in pr])
                   for (p, y), i, pr in zip(pick, idx, prob)]
    queries = [val.items[i] for i in evenly_spaced(len(val.items), N_QUERIES, 0.25)]
    bank = vis.features_of(model, result.data.train, dev)                   # (N_train, 4096)
    qf = vis.fc7_features(model, centre([p for p, _ in queries])).cpu()
    nn_idx, nn_dist = vis.nearest(qf, bank, K_NEIGHBOURS)
    neighbours = [dict(path=rel(p), label=names[y],
                       neighbours=[dict(path=rel(train_items[j][0]), label=names[train_items[j][1]],
                                        distance=round(float(d), 3)) for j, d in zip(row, dist)])
                  for (p, y), row, dist in zip(queries, nn_idx, nn_dist)]
    # Thumbnails in this order: predictions, then per query the query and its neighbours.
    paths = [p for p, _ in pick] + [p for (q, _), row in zip(queries, nn_idx)
                                    for p in [q] + [train_items[j][0] for j in row]]
    info = dict(predictions=predictions, neighbours=neighbours, thumb_size=THUMB, thumbs_per_row=8,
                thumb_order="predictions, then each query followed by its neighbours")
    return info, {"thumbs.jpg": thumbnails(paths)}


def same_class_share(result, k: int = K_NEIGHBOURS) -> float:
    """Figure 4 as a number: over every validation image, the share of its k nearest training
    images in fc7 space (centre crops, Euclidean) that have its class."""
    model, dev, data = result.model, result.device, result.data
    bank = vis.features_of(model, data.train, dev)                          # (N_train, 4096)
    queries = vis.features_of(model, data.val, dev)                         # (N_val, 4096)
    idx, _ = vis.nearest(queries, bank, k)                                  # (N_val, k)
    train_y = np.array([y for _, y in data.train.items])
    val_y = np.array([y for _, y in data.val.items])
    return float((train_y[idx] == val_y[:, None]).mean())


def measure(result, cfg, seed: int, variant: str) -> dict[str, float]:
    """What §6 and §6.1 ask of one trained net, as columns of its last epoch row: centre vs ten
    crops (top-1, top-5), each column's mean conv1 colourfulness trained and at init (the same
    seed rebuilds the initial weights), and the fc7 neighbours' same-class share."""
    out = {f"{view}_{k}_err": m[f"{k}_err"] for view, m in crop_errors(result).items() for k in ("top1", "top5")}
    init = build_model(cfg.replace(seed=seed, **VARIANTS[variant]), result.data.num_classes, 3)
    out.update(vis.column_colour(result.model, init))
    out["same_class_neighbours"] = same_class_share(result)
    return out


def figures(result, names: list[str], variant: str, seed: int) -> dict[str, bytes]:
    """The files the Learned chapter draws, from one trained net: its conv1 kernels (float16),
    eight predictions and four queries' neighbours (`learned.json`), their thumbnails."""
    info, files = learned(result, names)
    kernels = vis.conv1_kernels(result.model)
    buf = io.BytesIO()
    np.save(buf, kernels.astype(np.float16))
    files["conv1.npy"] = buf.getvalue()
    info["colourfulness"] = [[round(float(v), 4) for v in col] for col in vis.by_column(vis.colourfulness(kernels))]
    files["learned.json"] = (json.dumps(dict(info, variant=variant, seed=seed, classes=names), indent=1) + "\n").encode()
    return files


def run(cfg, preset: str, seeds: list[int]) -> Outcome:
    """Per seed: both variants trained and measured (`measure`); the figures' files come from
    the better variant of the batch's first seed (a record grown later keeps its files)."""
    if cfg.dataset not in ("imagenet", "imagenet_sample"):
        raise ValueError("imagenet_sample needs dataset=imagenet_sample or imagenet (an ImageNet-style folder)")
    frames, files, about, configs = [], {}, {}, {}
    for seed in seeds:
        results, metrics = train_variants(cfg, preset, seed)
        if not results:
            raise NonFiniteLoss(f"every variant diverged with seed {seed}; see the log")
        for variant, result in results.items():
            last = metrics.index[metrics.variant == variant][-1]
            for key, value in measure(result, cfg, seed, variant).items():
                metrics.loc[last, key] = value
            configs[variant] = result.cfg.replace(seed=cfg.seed).to_dict()
        frames.append(metrics)
        if not files:
            any_result = next(iter(results.values()))
            names = class_names(cfg, any_result.data.classes)
            best = min(results, key=lambda v: results[v].history[-1]["val_top1_err"])
            files = figures(results[best], names, best, seed)
            about = dict(classes=names, n_train=len(any_result.data.train.items),
                         n_val=len(any_result.data.val.items), chance_top1_err=1 - 1 / len(names))
    metrics = pd.concat(frames, ignore_index=True)
    return Outcome(metrics, dict(about, **summarize_metrics(metrics, cfg)), any_result.data.fingerprint,
                   configs, files)


COLUMNS = ("val_top1_err", "val_top5_err", "train_err", "center_top1_err", "center_top5_err",
           "ten_crop_top1_err", "ten_crop_top5_err", *vis.COLOUR_COLUMNS, "same_class_neighbours")


def summarize_metrics(metrics, cfg) -> dict:
    """The summary from the metrics alone (records grow by seed): per variant, each measured
    column over seeds (keyed by seed), the seeds it diverged with, and `chosen`: the variant
    with the lower mean final validation error (the one the claims read)."""
    trained = metrics[metrics["diverged"].isna()] if "diverged" in metrics else metrics
    summary = final_summary(trained, COLUMNS)
    for v in VARIANTS:
        rows = metrics[metrics.variant == v]
        bad = rows[rows["diverged"].notna()].seed if "diverged" in rows else []
        summary.setdefault(v, {})["diverged_seeds"] = sorted(int(x) for x in bad)
    ok = [v for v in VARIANTS if "val_top1_err" in summary[v]]
    summary["chosen"] = min(ok, key=lambda v: summary[v]["val_top1_err"]["mean"]) if ok else None
    return summary


NAMES = {"paper_init": "§5's init", "kaiming": "Kaiming's init"}     # the variants, for a reader


def crops_table(record) -> pd.DataFrame:
    """The chosen variant's centre-crop and ten-crop errors (%), mean over seeds."""
    s = record.summary[record.summary["chosen"]]
    return pd.DataFrame({f"{k} error (%)": [100 * s[f"{view}_{k.replace('-', '')}_err"]["mean"]
                                            for view in ("center", "ten_crop")] for k in ("top-1", "top-5")},
                        index=["centre crop", "10 crops (§4.1)"]).round(2).rename_axis(
                            NAMES[record.summary["chosen"]])


def colour_table(record) -> pd.DataFrame:
    """Mean conv1 colourfulness per column, trained and at initialisation, per variant (mean over seeds)."""
    s = record.summary
    return pd.DataFrame({(NAMES[v], when): {f"column {c}": s[v][f"col{c}{suffix}"]["mean"] for c in (1, 2)}
                         for v in VARIANTS if "col1" in s[v] for when, suffix in (("trained", ""), ("init", "_init"))}
                        ).T.round(3)


def facts(record) -> dict[str, str]:
    """What the Results and Learned chapters quote: the chosen variant's crop errors, each
    variant's final error, the paper init's losses, Figures 3-4 in numbers; means over seeds."""
    s, m = record.summary, record.metrics
    chosen = s["chosen"]
    out = {f"{crop}_{k}": pct(s[chosen][f"{crop}_{k}_err"]["mean"])
           for crop in ("center", "ten_crop") for k in ("top1", "top5")}
    out.update(chosen=NAMES[chosen], n_val=f"{s['n_val']:,}", n_train=f"{s['n_train']:,}",
               epochs=str(int(m.epoch.max())), chance=pct(s["chance_top1_err"], 0),
               point_per_image=f"{100 / s['n_val']:.2f}", nets=_nets(s[chosen]["val_top1_err"]["n"]),
               same_class=pct(s[chosen]["same_class_neighbours"]["mean"], 0))
    rate = float(m[m.variant == chosen].images_per_s.median())      # this record's own loop, one thread
    out.update(rate=f"{rate:.0f}", moved_gate=str(vis.MOVED), paper_cpu_hours=f"{Config().epochs * EXPECTED['train'] / rate / 3600:,.0f}")
    for v in VARIANTS:
        out[f"{v}_top1"] = pct(s[v]["val_top1_err"]["mean"]) if "val_top1_err" in s[v] else "diverged"
    paper = m[(m.variant == "paper_init") & (m.seed == m.seed.min())].sort_values("epoch")
    if len(paper) and "train_loss" in paper:
        out.update(paper_init_first_loss=f"{paper.train_loss.iloc[0]:.2f}",
                   paper_init_last_val_loss=f"{paper.val_loss.iloc[-1]:.3f}")
    return out | _learned_facts(record)


def _nets(n: int) -> str:
    return "one trained network" if n == 1 else f"{n} trained networks, one per seed"


def _learned_facts(record) -> dict[str, str]:
    """Figures 3 and 4 in numbers: mean colourfulness per column over seeds, how far it moved
    from init, the columns' gap beyond random halves, and the figure's net's top-1/top-5 hits."""
    info = json.loads((record.path / "learned.json").read_text())
    s = record.summary[record.summary["chosen"]]
    hits = [(p["label"] == p["top5"][0], p["label"] in p["top5"]) for p in info["predictions"]]
    return dict(col1=f"{s['col1']['mean']:.3f}", col2=f"{s['col2']['mean']:.3f}",
                col_moved=f"{vis.colour_moved(s):.3f}", **vis.split_facts(s),
                pred_top1=f"{sum(h for h, _ in hits)} of {len(hits)}",
                pred_top5=f"{sum(h for _, h in hits)} of {len(hits)}")


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
def _chosen(column: str) -> Callable:
    """The chosen variant's per-seed values of `column` (missing in a record made before it)."""
    return lambda summary: summary.get(summary.get("chosen"), {}).get(column, {}).get("values", [])


def _conv1_learned(summary: dict) -> tuple[bool, str]:
    """`colour_split`'s gate, on the chosen variant."""
    return vis.conv1_learned(summary.get(summary.get("chosen"), {}))


def _neighbours(summary: dict) -> list[float]:
    """Share of fc7 neighbours of the query's class, above chance (1 / classes), per seed."""
    return [v - (1 - summary["chance_top1_err"]) for v in _chosen("same_class_neighbours")(summary)]


EXPERIMENT = Experiment(
    title="Full-size AlexNet on the 10-class ImageNet sample", section="§6, §6.1",
    # cpu: <= 12 minutes: the full net trains at 10-40 images/s here (bf16, channels_last; 4.4
    # GFLOP per training image; the range is other jobs sharing the cores), so 5 epochs of 1,000
    # images per variant, then 10-crop and the fc7 feature bank. Batch 32 rather than 128:
    # 1,000 images would give only 7 steps an epoch. Smoke at 128 pixels: 3x cheaper.
    presets=dict(
        smoke=dict(presets.IMAGENET_SAMPLE, image_size=128, epochs=1, batch_size=8, train_limit=0, val_limit=0),
        cpu=dict(presets.IMAGENET_SAMPLE, epochs=5, batch_size=32, lr=0.01, schedule="plateau", patience=2),
        # long (issue 25): Figures 3 and 4 as numbers need seeds: three, each twice cpu's epochs
        long=dict(presets.IMAGENET_SAMPLE, epochs=10, batch_size=32, lr=0.01, schedule="plateau", patience=2),
        paper=dict(presets.IMAGENET_SAMPLE, precision="bf16", channels_last=True)),
    seeds=dict(presets.ONE, long=[0, 1, 2]), variants=VARIANTS,
    claims=(Claim("colour_split", "conv1 splits by column: colour-agnostic vs colour-specific (Fig. 3)",
                  "qualitative", "learned", _chosen("col_split"), unit="plain",
                  regime=Regime(converged=False, learned=_conv1_learned)),
            Claim("neighbours", "fc7 neighbours share the query's class (Fig. 4)", "qualitative", "learned",
                  _neighbours)))
