"""One typed config whose defaults are the paper (§5), named presets, `key=value` overrides.

    cfg = resolve("cpu", ["lr=0.02", "--epochs=3"])   # preset, then overrides, type-checked

Every experiment starts from `Config()` (the paper), applies a base preset (`smoke`, `cpu`,
`paper`), then the experiment's own preset, then the reader's overrides. On CUDA, `paper`
then picks workers, precision and channels_last for the machine (`devices.cuda_speed`),
those the experiment or the reader did not set. Each key's meaning is its field's metadata
(`setting(default, meaning)`), which `alexnet train --help` prints: it cannot drift.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from dataclasses import dataclass, field, fields
from difflib import get_close_matches

PRESETS = ("smoke", "cpu", "long", "regime", "paper")


class ConfigError(ValueError):
    """A bad key or value; the message says what would have been valid."""


def setting(default, meaning: str):
    """A Config field: its default and its one-line meaning (what `--help` prints)."""
    return field(default=default, metadata=dict(meaning=meaning))


@dataclass
class Config:
    # --- what to train ---------------------------------------------------------------
    model: str = setting("alexnet_paper", "a name in alexnet.models.MODELS")
    dataset: str = setting("imagenet", "what to train on: imagenet is ILSVRC-2012, imagenet_sample 10 of its classes, synthetic random images")
    image_size: int = setting(227, "§3.5 says 224x224x3; 227 is what makes conv1 (11x11, stride 4) give 55x55")
    num_classes: int = setting(0, "0: take it from the dataset")
    # --- §5 Details of learning ------------------------------------------------------
    epochs: int = setting(90, "§5: \"roughly 90 cycles through the training set\"")
    batch_size: int = setting(128, "§5: images per SGD step")
    lr: float = setting(0.01, "§5: initial learning rate 0.01")
    momentum: float = setting(0.9, "§5: SGD momentum")
    weight_decay: float = setting(5e-4, "§5: 0.0005, \"not merely a regularizer\"")
    nesterov: bool = setting(False, "Nesterov momentum (torch.optim.SGD's form); §5's momentum is the plain kind")
    optimizer: str = setting("paper", "paper: §5's update rule (PaperSGD); sgd: torch.optim.SGD (equal at a constant lr)")
    schedule: str = setting("plateau", "plateau: §5, ÷10 when val error stops improving; step, cosine, constant; warmup_cosine: per step")
    warmup_epochs: float = setting(0.0, "warmup_cosine: linear rise from 0 over this many epochs, then cosine to 0")
    label_smoothing: float = setting(0.0, "cross-entropy against (1 - e) one-hot + e/classes (0: the paper's plain loss)")
    lr_drops: int = setting(3, "§5: \"reduced three times prior to termination\"")
    patience: int = setting(2, "epochs without val improvement before a plateau drop")
    stop_after_drops: bool = setting(False, "plateau: end the run once its lr_drops are done and the error stops improving (§5: \"prior to termination\")")
    step_every: int = setting(30, "step schedule: ÷10 every this many epochs (torchvision's recipe)")
    init: str = setting("paper", "weight init. paper: §5, N(0, 0.01), biases 1/0; xavier: Glorot; torch: torch's own; vgg: N(0, 0.01), zero biases")
    # --- architecture switches (the ablations) -----------------------------------------
    activation: str = setting("relu", "the nonlinearity: relu (§3.1) or the saturating tanh it replaced")
    lrn: bool = setting(True, "§3.3: local response normalisation after conv1 and conv2")
    pool: str = setting("overlap", "max pooling. overlap: z=3, s=2 (§3.4); plain: z=s=2")
    dropout: float = setting(0.5, "§4.2, in fc6 and fc7")
    dropout_style: str = setting("vanilla", "vanilla: §4.2, outputs x0.5 at test; inverted: x2 at training (torch.nn.Dropout); every model with dropout")
    columns: int = setting(2, "§3.2: 2 columns (grouped convs), or 1 column with half the kernels")
    width: float = setting(1.0, "multiplies every conv width (CPU-scale nets)")
    # --- data -------------------------------------------------------------------------
    data: str = setting("", "root; \"\" means $ALEXNET_DATA, else the repository's data/ (from any directory)")
    augment: str = setting("crop_flip", "training augmentation. crop_flip: §4.1's first form; crop_flip_pca: both forms")
    pca_std: float = setting(0.1, "§4.1: alpha ~ N(0, 0.1)")
    train_limit: int = setting(0, "use only the first N training images (0: all)")
    val_limit: int = setting(0, "likewise for validation")
    workers: int = setting(0, "DataLoader worker processes for folder datasets; `paper` on CUDA: from the core count unless set")
    ten_crop: bool = setting(False, "§4.1: evaluate on 10 crops, softmax averaged")
    mean_subtract: str = setting("image", "image: §2, subtract the per-pixel mean image; channel: the per-channel mean")
    pixel_scale: str = setting("std", "std: the centred pixels divided by each channel's std (unit variance); raw: §2's centred raw RGB values, 0-255 units, which §5's N(0, 0.01) init was used with")
    cache_images: int = setting(4000, "folders: hold decoded 256x256 images in RAM (~0.2 MB each) when train+val <= this")
    download: bool = setting(False, "fetch a missing fashion_mnist, cifar10 or imagenet_sample (Imagenette) into the data root; never ImageNet")
    # --- speed ------------------------------------------------------------------------
    device: str = setting("auto", "auto | cpu | cuda | cuda:1 ...")
    precision: str = setting("fp32", "autocast dtype (bf16 also on CPUs with AVX-512 bf16); `paper` on CUDA: bf16 (fp16 + GradScaler before Ampere) unless set")
    channels_last: bool = setting(False, "NHWC memory layout (oneDNN on CPUs, tensor cores on GPUs); `paper` on CUDA: on unless set")
    fused: bool = setting(False, "fused kernels: §3.3's LRN in C++ (built on first use) and fused SGD; off: the records' path (was compile=)")
    torch_compile: bool = setting(False, "torch.compile the model (PyTorch's graph compiler); untested on a GPU so far; slower than eager for training on the book's 2-core CPU")
    threads: int = setting(0, "torch intra-op threads (0: leave torch's default)")
    parallel: str = setting("auto", "several devices. columns: §3.2's split; weird_trick: Krizhevsky 2014; auto: ddp under torchrun")
    # --- bookkeeping ------------------------------------------------------------------
    seed: int = setting(0, "the weights, the batch order, augmentation and dropout masks all derive from it")
    out: str = setting("runs/train", "checkpoints and logs of `alexnet train`")
    max_steps: int = setting(0, "cap steps per epoch (0: a whole epoch); for smoke runs")
    checkpoint_every: int = setting(0, "also checkpoint every N steps within an epoch (0: per epoch)")
    progress: bool = setting(True, "tqdm progress bars")
    keep_checkpoints: int = setting(2, "checkpoint.pt and the one before it (resume falls back to it if the last is corrupt)")
    max_loss_ratio: float = setting(10.0, "stop when the training loss stays above this x its first value (divergence)")
    tensorboard: bool = setting(False, "also write TensorBoard scalars under out/ (pip extra `tensorboard`)")
    log_every: int = setting(50, "steps between TensorBoard training scalars")


    def replace(self, **changes) -> "Config":
        return apply(self, changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


CHOICES = {
    "dataset": ("synthetic", "fashion_mnist", "cifar10", "imagenet", "imagenet_sample"),
    "schedule": ("plateau", "step", "cosine", "constant", "warmup_cosine"),
    "init": ("paper", "kaiming", "xavier", "torch", "vgg"),
    "activation": ("relu", "tanh"), "pool": ("overlap", "plain"), "dropout_style": ("vanilla", "inverted"),
    "columns": (1, 2), "augment": ("none", "crop_flip", "crop_flip_pca"),
    "mean_subtract": ("image", "channel"), "pixel_scale": ("std", "raw"),
    "precision": ("fp32", "bf16", "fp16"),
    "parallel": ("auto", "none", "ddp", "columns", "weird_trick"),
    "optimizer": ("paper", "sgd"),
}

# Allowed ranges (inclusive lo, hi; None: unbounded; "open" ends say < rather than <=), checked
# at parse time so a bad value stops before any data is read or any run directory is made.
RANGES = {
    "image_size": (8, 1024), "num_classes": (0, 100_000), "epochs": (1, 10_000),
    "batch_size": (1, 65_536), "lr": ("open", 0.0, 10.0), "momentum": (0.0, 0.999),
    "weight_decay": (0.0, 1.0), "lr_drops": (0, 20), "patience": (1, 1000), "step_every": (1, 10_000),
    "dropout": (0.0, "open", 1.0), "width": ("open", 0.0, 64.0), "pca_std": (0.0, 10.0),
    "train_limit": (0, None), "val_limit": (0, None), "workers": (0, 256), "cache_images": (0, None),
    "threads": (0, 1024), "seed": (0, 2 ** 63 - 1), "max_steps": (0, None), "checkpoint_every": (0, None),
    "keep_checkpoints": (1, 10), "warmup_epochs": (0.0, 10_000.0), "label_smoothing": (0.0, "open", 1.0), "max_loss_ratio": ("open", 1.0, 1e6), "log_every": (1, None),
}

# What the scales change from the paper's defaults; experiments add their own. The CPU scales
# keep what their records were made with: torch.optim.SGD (equal to §5's rule at a constant rate,
# and these runs rarely drop it) and torch's inverted dropout (experiments on §4.2's own form set
# dropout_style="vanilla"); bf16 and channels_last beyond `smoke`.
_CPU = dict(optimizer="sgd", dropout_style="inverted")
_CPU_FAST = dict(_CPU, precision="bf16", channels_last=True)
BASE_PRESETS: dict[str, dict] = {
    "smoke": dict(_CPU, dataset="synthetic", model="alexnet_small", image_size=32, epochs=2,
                  batch_size=16, train_limit=64, val_limit=32, lr=0.01, progress=False),
    "cpu": dict(_CPU_FAST, threads=0),
    # `long`: the CIFAR-10 proxies of the paper's ImageNet claims at a longer budget (an hour or
    # so per experiment on one thread, so two run side by side); the claims' gate says whether a
    # record reached the paper's regime (`stats.regime`).
    "long": dict(_CPU_FAST, threads=1),
    # `regime`: the same proxies designed for the gate (issue 25): §5's schedule, ÷10 when the
    # test error stops improving, three drops, then stop; grown seed by seed by the campaign.
    "regime": dict(_CPU_FAST, threads=1, schedule="plateau", lr_drops=3, stop_after_drops=True),
    # `paper`: §2 trains "on the (centered) raw RGB values of the pixels", the inputs §5's N(0, 0.01)
    # was used with (cuda-convnet does not scale them, nor does VGG's §2.1).
    "paper": dict(pixel_scale="raw"),
}

FIELD_TYPES = {f.name: f.type for f in fields(Config)}
_TYPES = {"int": int, "float": float, "bool": bool, "str": str}
# Old names still read (records, checkpoints and commands written before the rename): old -> new.
RENAMED = {"compile": "fused"}
# Keys added after records were made -> the value every run before them had (records, checkpoints).
ADDED = {"pixel_scale": "std"}
HELP = "`alexnet train --help` lists every key with its meaning"


def valid_keys() -> list[str]:
    return [f.name for f in fields(Config)]


def unknown_key(key: str) -> ConfigError:
    """One line naming the nearest valid key (or, when none is near, all of them)."""
    near = get_close_matches(key, valid_keys(), n=1, cutoff=0.6)
    hint = f"did you mean {near[0]}?" if near else f"valid keys: {', '.join(valid_keys())}"
    return ConfigError(f"unknown config key {key!r} — {hint} ({HELP})")


def renamed(changes: dict, made: bool = False) -> dict:
    """`changes` with old key names under their new ones (a new name given too wins); `made`: a
    saved config (a record's, a checkpoint's), where a key added since has its old value (ADDED)."""
    out = {k: v for k, v in changes.items() if k not in RENAMED}
    for old, new in RENAMED.items():
        if old in changes:
            out.setdefault(new, changes[old])
    return {**ADDED, **out} if made else out


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")    # how a boolean is written


def _parse_bool(key: str, text: str) -> bool:
    low = text.strip().lower()
    if low in TRUE + FALSE:
        return low in TRUE
    raise ConfigError(f"{key}={text!r}: expected a boolean (true/false, 1/0, yes/no)")


def coerce(key: str, value):
    """Check `value` against the field's type (parsing strings) and its allowed choices."""
    if key not in FIELD_TYPES:
        raise unknown_key(key)
    kind = _TYPES[FIELD_TYPES[key]]
    if isinstance(value, str) and kind is not str:
        try:
            value = _parse_bool(key, value) if kind is bool else kind(value)
        except ValueError as err:
            if isinstance(err, ConfigError):
                raise
            raise ConfigError(f"{key}={value!r}: expected {kind.__name__}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{key}={value!r}: expected {kind.__name__}, got {type(value).__name__}")
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"{key}={value!r}: choose one of {', '.join(map(str, CHOICES[key]))}")
    if key in RANGES:
        check_range(key, value)
    return value


def _bounds(key: str) -> tuple:
    """RANGES[key] as (lo, lo is open, hi or None, hi is open)."""
    spec = RANGES[key]
    open_lo = spec[0] == "open"
    lo, *rest = spec[1:] if open_lo else spec
    open_hi = rest[0] == "open"
    return lo, open_lo, rest[1] if open_hi else rest[0], open_hi


def range_text(key: str) -> str:
    """The allowed range as an inequality: `0.0 < lr <= 10.0`, `0 <= workers <= 256`."""
    lo, open_lo, hi, open_hi = _bounds(key)
    right = "" if hi is None else (f" < {hi}" if open_hi else f" <= {hi}")
    return f"{lo} {'<' if open_lo else '<='} {key}{right}"


def check_range(key: str, value) -> None:
    """ConfigError naming the key, the value and the allowed range when `value` is outside it
    (NaN and infinities are never in range)."""
    lo, open_lo, hi, open_hi = _bounds(key)
    ok = math.isfinite(value) and (value > lo if open_lo else value >= lo)
    if hi is not None:
        ok = ok and (value < hi if open_hi else value <= hi)
    if not ok:
        raise ConfigError(f"{key}={value!r} is out of range: need {range_text(key)}")


def apply(cfg: Config, changes: dict) -> Config:
    """A copy of `cfg` with `changes` applied, each key and value checked (old names read
    as their new ones)."""
    checked = {k: coerce(k, v) for k, v in renamed(changes).items()}
    return dataclasses.replace(cfg, **checked)


def parse_overrides(items: list[str]) -> dict:
    """['--lr=0.1', 'epochs=3'] -> {'lr': '0.1', 'epochs': '3'} (values checked in `apply`);
    an old key name is read as its new one, with a one-line note."""
    out = {}
    for item in items:
        text = item[2:] if item.startswith("--") else item
        if "=" not in text:
            raise ConfigError(f"override {item!r} is not KEY=VALUE ({HELP})")
        key, value = text.split("=", 1)
        key = key.replace("-", "_")
        if key in RENAMED:
            print(f"alexnet: note: {key}= is now {RENAMED[key]}= ({key}= still works)", file=sys.stderr)
        out[RENAMED.get(key, key)] = value
    return out


def resolve(preset: str = "paper", overrides: list[str] | dict | None = None,
            experiment_preset: dict | None = None) -> Config:
    """Config() (the paper) <- base preset <- experiment preset <- overrides; then, for
    `paper` on CUDA, the machine's speed settings for the keys neither of them set."""
    if preset not in BASE_PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    cfg = apply(Config(), BASE_PRESETS[preset])
    cfg = apply(cfg, experiment_preset or {})
    if isinstance(overrides, list):
        overrides = parse_overrides(overrides)
    cfg = apply(cfg, overrides or {})
    if preset == "paper":
        from .devices import cuda_speed
        chosen = set(renamed(experiment_preset or {})) | set(renamed(overrides or {}))
        cfg = apply(cfg, cuda_speed(cfg, chosen))
    return check_together(cfg)


def check_together(cfg: Config) -> Config:
    """The checks that span keys (each key's own range is checked as it is set)."""
    if cfg.schedule == "warmup_cosine" and cfg.warmup_epochs >= cfg.epochs:
        raise ConfigError(f"warmup_epochs={cfg.warmup_epochs:g} must be below epochs={cfg.epochs} with "
                          "schedule=warmup_cosine (the warm-up is the start of the one cycle)")
    return cfg


def default_preset() -> str:
    """What a chapter uses: $ALEXNET_PRESET, else `paper` on a GPU, else `cpu`."""
    env = os.environ.get("ALEXNET_PRESET")
    if env:
        if env not in PRESETS:
            raise ConfigError(f"ALEXNET_PRESET={env!r}; choose one of {', '.join(PRESETS)}")
        return env
    import torch
    return "paper" if torch.cuda.is_available() else "cpu"
