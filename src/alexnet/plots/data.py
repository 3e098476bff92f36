"""Figures of the data chapters (§2, §4.1): images, preprocessing steps, crops, colour noise,
class balance, pipeline throughput and the augmentation ablation."""
from __future__ import annotations

import numpy as np
import torch

from . import CYCLE, caption, figure


def to_hwc(img) -> np.ndarray:
    """(C, H, W) uint8 or float in [0, 1] -> (H, W, C) float in [0, 1] for imshow."""
    t = torch.as_tensor(img)
    t = t.float() / 255 if t.dtype == torch.uint8 else t.float()
    t = t.clamp(0, 1)
    return t.permute(1, 2, 0).numpy() if t.shape[0] == 3 else t[0].numpy()


def show(ax, img, title: str = "", cmap=None) -> None:
    ax.imshow(to_hwc(img), cmap=cmap or ("gray" if torch.as_tensor(img).shape[0] == 1 else None))
    ax.set_title(title, fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
    ax.grid(False)


def image_grid(images, titles=None, ncols: int = 8, size: float = 1.1):
    """A grid of (C, H, W) images with optional titles."""
    n = len(images)
    nrows = (n + ncols - 1) // ncols
    fig, axes = figure(ncols, nrows, width=size * ncols, height=size * nrows * 1.15, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, img in enumerate(images):
        show(axes.flat[i], img, titles[i] if titles else "")
    fig.tight_layout(pad=0.3)
    return fig


def steps_figure(steps: list[tuple[str, object]]):
    """One row of (title, image) panels at their true relative sizes (§2's preprocessing)."""
    widths = [torch.as_tensor(img).shape[-1] for _, img in steps]
    fig, axes = figure(len(steps), 1, width=2.6 * len(steps), height=2.8,
                       gridspec_kw=dict(width_ratios=widths))
    for ax, (title, img) in zip(axes, steps):
        show(ax, img, title)
        h, w = torch.as_tensor(img).shape[-2:]
        ax.set_xlabel(f"{w}×{h}", fontsize=8)
    fig.tight_layout()
    return fig


def crops_figure(img256, boxes, size: int, title: str):
    """The 256x256 image with crop rectangles (top, left, flip), and the crops themselves."""
    from matplotlib.patches import Rectangle
    n = len(boxes)
    fig, axes = figure(n + 1, 1, width=1.45 * (n + 1) + 1.3, height=2.0,
                       gridspec_kw=dict(width_ratios=[2] + [1] * n))
    show(axes[0], img256, title)
    for k, (top, left, flip) in enumerate(boxes):
        color = CYCLE[k % len(CYCLE)]
        axes[0].add_patch(Rectangle((left, top), size, size, fill=False, lw=1.2, color=color,
                                    ls="--" if flip else "-"))
        crop = torch.as_tensor(img256)[:, top:top + size, left:left + size]
        show(axes[k + 1], crop.flip(-1) if flip else crop, ("flipped " if flip else "") + f"({top}, {left})")
        for spine in axes[k + 1].spines.values():
            spine.set_visible(True), spine.set_color(color)
    fig.tight_layout(pad=0.4)
    return fig


def class_balance(counts: dict[str, list[int]], names: dict[str, list[str]]):
    """Bar charts of images per class, one panel per dataset/split."""
    fig, axes = figure(len(counts), 1, width=3.4 * len(counts), height=2.9, squeeze=False)
    for ax, (key, values) in zip(axes.flat, counts.items()):
        ax.bar(range(len(values)), values, color=CYCLE[0])
        ax.set_xticks(range(len(values)), names[key], rotation=70, fontsize=7)
        ax.set_title(key, fontsize=9)
    axes.flat[0].set_ylabel("images")
    fig.tight_layout()
    return fig


def bench_figure(table, record=None):
    """images/s per pipeline, one panel per family on its own linear axis (the families differ
    a hundredfold, the pipelines within one only a few times), ours blue beside the usual
    recipe, each bar labelled with its rate."""
    from textwrap import fill
    fams = list(dict.fromkeys(table.family))
    sizes = [int((table.family == f).sum()) for f in fams]
    fig, axes = figure(1, len(fams), width=7.2, height=0.9 + 0.34 * sum(sizes) + 0.45 * len(fams), squeeze=False,
                       gridspec_kw=dict(height_ratios=sizes))
    for ax, fam in zip(axes.flat, fams):
        rows = table[table.family == fam]
        ours = rows.pipeline.str.startswith("ours")
        labels = [fill(f"{p.split(': ', 1)[-1]}, {w} worker{'' if w == 1 else 's'}", 40)
                  for p, w in zip(rows.pipeline, rows.workers)]
        ax.barh(range(len(rows)), rows.images_per_s, color=[CYCLE[0] if o else CYCLE[3] for o in ours], height=0.7)
        for i, v in enumerate(rows.images_per_s):
            ax.text(v, i, f" {v:,.0f}", va="center", fontsize=7.5)
        ax.set_yticks(range(len(rows)), labels, fontsize=7.5)
        ax.set_xlim(0, 1.18 * rows.images_per_s.max())
        ax.set_title(FAMILIES.get(fam, fam), fontsize=9, loc="left")
        ax.grid(axis="y", visible=False)
        ax.invert_yaxis()
    axes.flat[-1].set_xlabel("images per second (blue: ours; orange: the usual recipe)")
    fig.tight_layout()
    caption(fig, record)
    return fig


FAMILIES = {"imagenet_jpeg": "ImageNet sample: JPEG folders, 224×224 crops",
            "fashion_mnist": "Fashion-MNIST resized to 224×224", "cifar10": "CIFAR-10: 32×32, crops and flips"}


# --- The dataset chapter (§2): what it draws and quotes, with or without the data present ---
DATASETS = {"the 10-class ImageNet sample (`imagenet-sample/`)": "imagenet-sample/natural",
            "Fashion-MNIST (`FashionMNIST/raw/`)": "FashionMNIST/raw",
            "CIFAR-10 (`cifar-10-batches-py/`)": "cifar-10-batches-py"}


def missing_note(root) -> str:
    """'' when the chapter's datasets are under `root`; else a note naming the missing ones."""
    missing = [name for name, folder in DATASETS.items() if not (root / folder).is_dir()]
    if not missing:
        return ""
    return (f"**Data not found:** {', '.join(missing)} is not under the data root (`$ALEXNET_DATA`, else the "
            "repository's `data/`). `make data` lays out the offline copies or downloads the sets "
            "(see *How to run*); the figures "
            "that need the images are left out and the numbers come from the committed record.")


def natural_steps(folder, wnids):
    """§2's two steps on full-resolution photos, one row each: the photo, its shorter side
    rescaled to 256, and the central 256x256 crop, panels at their true relative sizes (None
    without the photos)."""
    from ..data.images import center_crop, decode, list_images, resize_short_side
    if not folder.is_dir():
        return None
    fig, ax = figure(width=7.8, height=2.7 * len(wnids))
    ax.remove()
    for row, wnid in zip(fig.subfigures(len(wnids), 1), wnids):
        path = list_images(folder / wnid)[0]
        photo = decode(path)                                        # uint8 (3, H, W), RGB
        short = resize_short_side(photo, 256)
        steps = [(path.stem.split("_", 1)[1].replace("_", " "), photo), ("shorter side → 256", short),
                 ("central 256×256", center_crop(short, 256))]
        axes = row.subplots(1, 3, gridspec_kw=dict(width_ratios=[img.shape[-1] for _, img in steps]))
        for ax, (title, img) in zip(axes, steps):
            show(ax, img, title)
            ax.set_xlabel(f"{img.shape[-1]}×{img.shape[-2]}", fontsize=8)
    return fig


def class_grids(*datasets, size: float = 0.78):
    """One training image of each class of each dataset, a row of ten per dataset (None when
    none is loaded)."""
    loaded = [d for d in datasets if d is not None]
    if not loaded:
        return None
    images, titles = [], []
    for data in loaded:
        labels = data.train.labels.numpy()
        images += [data.train.images[int(np.flatnonzero(labels == c)[0])] for c in range(len(data.classes))]
        titles += [c[:12] for c in data.classes]
    fig = image_grid(images, titles, ncols=10, size=size)
    fig.set_figheight(fig.get_figheight() * 1.25)                   # room for each row's titles
    fig.tight_layout(pad=0.3)
    return fig


def natural_sizes(folder) -> str:
    """The full-resolution photos' sizes, measured: 'N photos, 169 to 640 pixels wide and ...'."""
    from ..data.images import decode, list_images
    if not folder.is_dir():
        return "(not measured: the sample's photos are missing)"
    shapes = [decode(path).shape[1:] for sub in sorted(folder.iterdir()) if sub.is_dir() for path in list_images(sub)]
    heights, widths = zip(*shapes)
    return (f"the sample's {len(shapes)} full-resolution photos measure {min(widths)} to {max(widths)} pixels "
            f"across and {min(heights)} to {max(heights)} down")


def mean_image_figure(data):
    """The training set's mean image, as is and with its contrast x4, and one training image
    before and after subtracting it (None without the data)."""
    if data is None:
        return None
    mean = data.train.mean                                          # (3, 256, 256) in [0, 1]
    photo = data.train.images[0]
    return steps_figure([("mean image", mean), ("mean image, contrast ×4", (mean - mean.mean()) * 4 + 0.5),
                         ("a training image", photo), ("minus the mean (+0.5)", photo.float() / 255 - mean + 0.5)])


def top_and_bottom(data) -> str:
    """The mean image's brightness in its top and bottom quarters."""
    if data is None:
        return "(not computed: the sample is missing)"
    rows = data.train.mean.mean(0).mean(1)                          # brightness per row
    quarter = len(rows) // 4
    return f"{rows[:quarter].mean():.2f} in the top quarter against {rows[-quarter:].mean():.2f} in the bottom one"


def class_grid(data, names: dict | None = None, pick: int = 0, ncols: int = 10, size: float = 0.95):
    """The `pick`-th training image of each class, titled by its class (`names`: class folder ->
    name); None without the data."""
    if data is None:
        return None
    labels = data.train.labels.numpy()
    picks = [int(np.flatnonzero(labels == c)[pick]) for c in range(len(data.classes))]
    titles = [names[c] for c in data.classes] if names else data.classes
    return image_grid([data.train.images[i] for i in picks], titles, ncols=ncols, size=size)


def balance_figure(inet, names: dict, **small):
    """Images per class of the sample's train and val splits and of each small training set."""
    counts, labels = {}, {}
    if inet is not None:
        for split in ("train", "val"):
            counts[f"ImageNet sample, {split}"] = np.bincount(getattr(inet, split).labels, minlength=10).tolist()
            labels[f"ImageNet sample, {split}"] = [names[w][:12] for w in inet.classes]
    for name, data in small.items():
        if data is not None:
            counts[f"{name}, train"] = np.bincount(data.train.labels, minlength=10).tolist()
            labels[f"{name}, train"] = [c[:12] for c in data.classes]
    return class_balance(counts, labels) if counts else None


def release_note(data, caught) -> tuple[str, str]:
    """Whether a CIFAR-10 copy is the original release, and the loader's checksum warning
    (quoted without the machine's path)."""
    if data is None:
        return "not loaded here", "nothing (not loaded)"
    note = ("the original release" if data.fingerprint["original_release"]
            else "not the original release (reassembled; see its fingerprint)")
    said = [str(w.message).split(": ", 1)[-1] for w in caught if "CIFAR-10" in str(w.message)]
    return note, f"“{said[0]}”" if said else "nothing (the files match)"


def bench_speedups(record) -> dict[str, str]:
    """Each speed-up of the bench_data record as '2.0× (target 1.3×: met)'."""
    out = {}
    for key, s in record.summary["speedups"].items():
        target = "" if s["target"] is None else f" (target {s['target']}×: {'met' if s['met'] else 'missed'})"
        out[key] = f"{s['ratio']:.1f}×{target}"
    return out
