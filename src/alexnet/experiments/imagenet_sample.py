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
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ..data.images import load_256
from ..evaluation import probes as vis
from ..evaluation.metrics import crop_errors
from ..models import build_model
from ..stats import pct, summarize
from ..training.loop import NonFiniteLoss, train
from ..harness import presets
from ..harness.declare import Claim, Experiment
from ..harness.runner import Outcome, scratch_dir

VARIANTS = {"paper_init": dict(init="paper"), "kaiming": dict(init="kaiming")}
N_PREDICT, N_QUERIES, K_NEIGHBOURS, THUMB = 8, 4, 6, 64


def class_names(cfg, wnids: list[str]) -> list[str]:
    """Readable class names from classes.tsv (wnid<TAB>name) beside train/, else the wnids."""
    from ..data import data_root
    from ..data.imagenet import dataset_dir
    tsv = dataset_dir(data_root(cfg), cfg.dataset) / "classes.tsv"
    names = {}
    if tsv.exists():
        names = dict(line.split("\t", 1) for line in tsv.read_text().splitlines()[1:] if "\t" in line)
    return [names.get(w, w).strip() for w in wnids]


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
                thumb_order="predictions, then each query followed by its neighbours",
                same_class_neighbours=float(np.mean([n["label"] == q["label"] for q in neighbours
                                                     for n in q["neighbours"]])))
    return info, {"thumbs.jpg": thumbnails(paths)}


def kernels_summary(results: dict, cfg, seed: int, n_classes: int) -> tuple[dict, str]:
    """Colourfulness per column for each trained variant and for its initial weights."""
    out, best, best_err = {}, None, math.inf
    for variant, result in results.items():
        init = vis.conv1_kernels(build_model(cfg.replace(seed=seed, **VARIANTS[variant]), n_classes, 3))
        trained = vis.conv1_kernels(result.model)
        out[variant] = {when: [float(c.mean()) for c in vis.by_column(vis.colourfulness(k))]
                        for when, k in (("trained", trained), ("init", init))}
        err = result.history[-1]["val_top1_err"]
        if err < best_err:
            best, best_err = variant, err
    return out, best


def run(cfg, preset: str, seeds: list[int]) -> Outcome:
    if cfg.dataset not in ("imagenet", "imagenet_sample"):
        raise ValueError("imagenet_sample needs dataset=imagenet_sample or imagenet (an ImageNet-style folder)")
    seed = seeds[0]
    results, metrics = train_variants(cfg, preset, seed)
    if not results:
        raise NonFiniteLoss("every variant diverged; see the log")
    any_result = next(iter(results.values()))
    names = class_names(cfg, any_result.data.classes)
    colour, best = kernels_summary(results, cfg, seed, any_result.data.num_classes)
    chosen = results[best]
    crops = crop_errors(chosen)
    info, files = learned(chosen, names)
    kernels = vis.conv1_kernels(chosen.model)
    buf = io.BytesIO()
    np.save(buf, kernels.astype(np.float16))
    files["conv1.npy"] = buf.getvalue()
    colour_trained = vis.by_column(vis.colourfulness(kernels))
    info["colourfulness"] = [[round(float(v), 4) for v in col] for col in colour_trained]
    files["learned.json"] = (json.dumps(dict(info, variant=best, classes=names), indent=1) + "\n").encode()
    summary = {v: {c: summarize([r.history[-1][c]], [seed]) for c in ("val_top1_err", "val_top5_err", "train_err")}
               for v, r in results.items()}
    for v in VARIANTS:
        summary.setdefault(v, {})["diverged"] = v not in results
        if v in results:
            summary[v]["images_per_s"] = float(np.nanmean([h["images_per_s"] for h in results[v].history]))
    summary.update(chosen=best, crops={k: {m: crops[k][m] for m in ("top1_err", "top5_err", "n")} for k in crops},
                   colourfulness_by_column=colour, classes=names, n_train=len(chosen.data.train.items),
                   n_val=len(chosen.data.val.items), chance_top1_err=1 - 1 / len(names),
                   same_class_neighbours=info["same_class_neighbours"])
    return Outcome(metrics, summary, chosen.data.fingerprint, {v: r.cfg.to_dict() for v, r in results.items()},
                   files)


def facts(record) -> dict[str, str]:
    """What the Results and Learned chapters quote: the crops' errors, each variant's final error,
    the paper init's losses, and Figures 3-4's colourfulness, top-5 hits and fc7 neighbours."""
    s, m = record.summary, record.metrics
    out = {f"{crop}_{k}": pct(s["crops"][crop][f"{k}_err"])
           for crop in ("center", "ten_crop") for k in ("top1", "top5")}
    out.update(chosen=s["chosen"].replace("_", " "), n_val=f"{s['n_val']:,}", n_train=f"{s['n_train']:,}",
               epochs=str(int(m.epoch.max())), chance=pct(s["chance_top1_err"], 0),
               point_per_image=f"{100 / s['crops']['center']['n']:.2f}",
               same_class=pct(s["same_class_neighbours"], 0))
    for v in VARIANTS:
        out[f"{v}_top1"] = "diverged" if s[v]["diverged"] else pct(s[v]["val_top1_err"]["mean"])
    paper = m[m.variant == "paper_init"].sort_values("epoch")
    if len(paper) and "train_loss" in paper:
        out.update(paper_init_first_loss=f"{paper.train_loss.iloc[0]:.2f}",
                   paper_init_last_val_loss=f"{paper.val_loss.iloc[-1]:.3f}")
    return out | _learned_facts(record)


def _learned_facts(record) -> dict[str, str]:
    """Figures 3 and 4 in numbers, from `learned.json`: mean colourfulness per column (and the
    standard error of their difference), how far it moved from init, top-1/top-5 hits."""
    info = json.loads((record.path / "learned.json").read_text())
    one, two = (np.array(c) for c in info["colourfulness"])
    colour = record.summary["colourfulness_by_column"][info["variant"]]
    hits = [(p["label"] == p["top5"][0], p["label"] in p["top5"]) for p in info["predictions"]]
    return dict(col1=f"{one.mean():.3f}", col2=f"{two.mean():.3f}", col_gap=f"{two.mean() - one.mean():+.3f}",
                col_se=f"{np.sqrt(one.var(ddof=1) / len(one) + two.var(ddof=1) / len(two)):.3f}",
                col_moved=f"{max(abs(a - b) for a, b in zip(colour['trained'], colour['init'])):.3f}",
                pred_top1=f"{sum(h for h, _ in hits)} of {len(hits)}",
                pred_top5=f"{sum(h for _, h in hits)} of {len(hits)}")


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
def _colour_split(summary: dict) -> list[float]:
    """Colourfulness of column 2's conv1 kernels minus column 1's (Fig. 3: GPU 2 colour)."""
    chosen = summary.get("chosen")
    col = summary.get("colourfulness_by_column", {}).get(chosen, {}).get("trained")
    return [col[1] - col[0]] if col else []


def _neighbours(summary: dict) -> list[float]:
    """Share of fc7 neighbours of the same class, above chance (1 / classes)."""
    share = summary.get("same_class_neighbours")
    return [share - (1 - summary["chance_top1_err"])] if share is not None else []


EXPERIMENT = Experiment(
    title="Full-size AlexNet on the 10-class ImageNet sample", section="§6, §6.1",
    # cpu: <= 12 minutes: the full net trains at 10-40 images/s here (bf16, channels_last; 4.4
    # GFLOP per training image; the range is other jobs sharing the cores), so 5 epochs of 1,000
    # images per variant, then 10-crop and the fc7 feature bank. Batch 32 rather than 128:
    # 1,000 images would give only 7 steps an epoch. Smoke at 128 pixels: 3x cheaper.
    presets=dict(
        smoke=dict(presets.IMAGENET_SAMPLE, image_size=128, epochs=1, batch_size=8, train_limit=0, val_limit=0),
        cpu=dict(presets.IMAGENET_SAMPLE, epochs=5, batch_size=32, lr=0.01, schedule="plateau", patience=2),
        paper=dict(presets.IMAGENET_SAMPLE, precision="bf16", channels_last=True)),
    seeds=presets.ONE, variants=VARIANTS,
    claims=(Claim("colour_split", "conv1 splits by column: colour-agnostic vs colour-specific (Fig. 3)",
                  "qualitative", "learned", _colour_split, unit="plain"),
            Claim("neighbours", "fc7 neighbours share the query's class (Fig. 4)", "qualitative", "learned",
                  _neighbours)))
