"""§3.1, Figure 1: a four-layer CNN reaches 25% training error on CIFAR-10 about six times
faster with ReLUs than with tanh units.

Each activation gets its own learning rate from a small sweep ("the learning rates for
each network were chosen independently to make training as fast as possible"; no
regularisation of any kind): every rate trains `sweep_epochs`, the one with the lowest
training error then goes on, epoch by epoch from its checkpoint, until its training error
is at most `target` or `max_epochs` or the experiment's time budget runs out (then the
record says "not reached in N epochs", a lower bound, never a guess).

Training error is the running error of each epoch, as cuda-convnet printed it: the
mistakes on every training batch as it is trained on (the net has no dropout or batch
norm, so train and eval mode compute the same function), over the epoch's images.
"""
from __future__ import annotations

import math
import shutil
import time

import pandas as pd

from ..config import Config
from ..data import load_data
from ..stats import summarize
from ..training.loop import NonFiniteLoss, train
from ..harness import presets
from ..harness.paper_tables import CLAIMS
from ..harness.declare import Claim, Experiment
from ..harness.runner import Outcome, scratch_dir


# Figure 1's recipe (SGD with momentum, constant rate, no weight decay, dropout or augmentation).
# Per preset: rates swept (x2 apart, around what trains a net of this size with momentum
# 0.9; a first cpu run picked its lowest rate, 0.01, for both units, so the grid now goes
# below it), epochs per sweep run, the target, the epoch cap, and the wall-clock budget (s)
# per seed.
SETTINGS = {
    "smoke": dict(lrs=[0.01, 0.04], sweep_epochs=1, target=0.25, max_epochs=3, budget_s=60),
    "cpu": dict(lrs=[0.005, 0.01, 0.02, 0.05], sweep_epochs=1, target=0.25, max_epochs=300,
                budget_s=400),
    "paper": dict(lrs=[0.0025, 0.005, 0.01, 0.02, 0.04], sweep_epochs=2, target=0.25,
                  max_epochs=100, budget_s=6 * 3600),
}
ACTIVATIONS = ("relu", "tanh")


def _train_to(cfg: Config, out_dir, data, epochs: int) -> pd.DataFrame:
    """Train (or resume) `cfg` in `out_dir` until `epochs`; its history. Diverged: empty."""
    try:
        result = train(cfg.replace(epochs=epochs), out_dir=out_dir, data=data, log=lambda _: None)
    except NonFiniteLoss:
        return pd.DataFrame()
    return pd.DataFrame(result.history)


def _sweep(cfg, preset, data, seed, settings, log) -> tuple[pd.DataFrame, dict]:
    """Every (activation, lr) for `sweep_epochs`; the rows and each activation's best lr."""
    frames, best = [], {}
    for act in ACTIVATIONS:
        scores = {}
        for lr in settings["lrs"]:
            out = scratch_dir("relu_vs_tanh", preset, f"{act}-lr{lr:g}", seed)
            shutil.rmtree(out, ignore_errors=True)                  # a fresh run, not a resumption
            hist = _train_to(cfg.replace(activation=act, lr=lr), out, data, settings["sweep_epochs"])
            scores[lr] = float(hist.train_err.iloc[-1]) if len(hist) else math.inf
            log(f"[relu_vs_tanh] sweep {act} lr={lr:g}: train error {scores[lr]:.3f}")
            frames.append(hist.assign(activation=act, lr=lr, diverged=not len(hist)))
        best[act] = min(scores, key=scores.get)                   # ties: the smaller rate
    return pd.concat(frames, ignore_index=True), best


def _continue(cfg, out_dir, data, settings, deadline) -> pd.DataFrame:
    """Go on with `cfg` (an activation at its chosen rate, its sweep run in `out_dir`) until
    the target, the epoch cap or the deadline."""
    hist = _train_to(cfg, out_dir, data, settings["sweep_epochs"])
    while (len(hist) and hist.train_err.iloc[-1] > settings["target"]
           and len(hist) < settings["max_epochs"] and time.monotonic() < deadline):
        hist = _train_to(cfg, out_dir, data, len(hist) + 1)
    return hist


def _reach(hist: pd.DataFrame, target: float) -> dict:
    """Epochs and training seconds until the running training error first is <= target."""
    seconds = hist.seconds.cumsum()
    hit = hist.index[hist.train_err <= target]
    first = hit[0] if len(hit) else None
    return dict(reached=first is not None, epochs_trained=int(len(hist)),
                seconds_trained=float(seconds.iloc[-1]) if len(hist) else 0.0,
                epochs_to_target=int(hist.epoch[first]) if first is not None else None,
                seconds_to_target=float(seconds[first]) if first is not None else None,
                final_train_err=float(hist.train_err.iloc[-1]) if len(hist) else None)


def _ratios(result: dict) -> dict:
    """tanh / relu in epochs and seconds; a lower bound ('>=') when tanh never got there."""
    relu, tanh = result["relu"], result["tanh"]
    if not relu["reached"]:
        return dict(ratio_epochs=None, ratio_seconds=None, ratio_kind="relu did not reach the target")
    kind = "measured" if tanh["reached"] else "lower bound: tanh not there when training stopped"
    key = "to_target" if tanh["reached"] else "trained"
    return dict(ratio_epochs=tanh[f"epochs_{key}"] / relu["epochs_to_target"],
                ratio_seconds=tanh[f"seconds_{key}"] / relu["seconds_to_target"], ratio_kind=kind)


def _over_seeds(results: list[dict]) -> dict:
    """The ratios' mean, spread and per-seed values. Where tanh did not get there in some
    seed, its value is a lower bound and so is the mean; where ReLU did not, no ratio."""
    if any(r["ratio_epochs"] is None for r in results):
        return dict(ratio_epochs=None, ratio_seconds=None, ratio_kind="relu did not reach the target")
    kind = ("measured" if all(r["ratio_kind"] == "measured" for r in results)
            else "lower bound: tanh not there when training stopped in some seed")
    out = dict(ratio_kind=kind, n_seeds=len(results))
    for key in ("ratio_epochs", "ratio_seconds"):
        stats = summarize(r[key] for r in results)
        out.update({key: stats["mean"], f"{key}_std": stats["std"], f"{key}_values": stats["values"]})
    return out


def run(cfg: Config, preset: str, seeds: list[int], log=print) -> Outcome:
    settings, frames, summary = SETTINGS[preset], [], {}
    for seed in seeds:
        base = cfg.replace(seed=seed)
        data = load_data(base)
        deadline = time.monotonic() + settings["budget_s"]
        sweep, best = _sweep(base, preset, data, seed, settings, log)
        frames.append(sweep.assign(seed=seed, phase="sweep", chosen=False))
        result = {}
        for act in ACTIVATIONS:
            out = scratch_dir("relu_vs_tanh", preset, f"{act}-lr{best[act]:g}", seed)
            hist = _continue(base.replace(activation=act, lr=best[act]), out, data, settings, deadline)
            frames.append(hist.assign(seed=seed, phase="chosen", chosen=True, activation=act,
                                      lr=best[act], diverged=False))
            result[act] = dict(lr=best[act], **_reach(hist, settings["target"]))
            log(f"[relu_vs_tanh] {act} lr={best[act]:g}: {result[act]}")
        sweep_last = sweep.sort_values("epoch").groupby(["activation", "lr"]).tail(1)
        summary[f"seed{seed}"] = dict(**result, **_ratios(result), sweep={
            act: {f"{lr:g}": (None if rows.diverged.iloc[0] else float(rows.train_err.iloc[0]))
                  for lr, rows in sweep_last[sweep_last.activation == act].groupby("lr")}
            for act in ACTIVATIONS})
    first = summary[f"seed{seeds[0]}"]
    summary.update(target=settings["target"], sweep_epochs=settings["sweep_epochs"],
                   lrs=settings["lrs"], **_over_seeds([summary[f"seed{s}"] for s in seeds]),
                   train_images=len(data.train) * cfg.batch_size,
                   measure="running training error over each epoch's batches (train mode; "
                           "the net has no dropout or batch norm)")
    metrics = pd.concat(frames, ignore_index=True)
    cols = ["phase", "activation", "lr", "seed", "epoch"]
    metrics = metrics[cols + [c for c in metrics.columns if c not in cols]]
    configs = {act: cfg.replace(activation=act, lr=first[act]["lr"]).to_dict() for act in ACTIVATIONS}
    return Outcome(metrics, summary, data.fingerprint, configs)


# --- The strings the ReLU chapter quotes from a record (`claims.evidence` glues them) ---
def _epochs_text(values: list) -> str:
    """Epochs to the target over seeds: '6 epochs', '10.7 epochs (seeds: 11, 10, 11)', or how
    many seeds never got there."""
    missed = sum(v is None for v in values)
    if missed:
        return f"not reached in {missed} of {len(values)} seeds"
    if len(values) == 1:
        return f"{values[0]} epochs"
    return f"{sum(values) / len(values):.1f} epochs (seeds: {', '.join(map(str, values))})"


def _ratio_text(s: dict, key: str) -> str:
    """tanh / ReLU over seeds: '1.3× ± 0.1 (mean ± sd over 3 seeds)', '1.7× (one seed)'."""
    if s.get(key) is None:
        return "not measurable (ReLU did not reach the target)"
    bound = "" if s["ratio_kind"] == "measured" else "at least "
    n = s.get("n_seeds", 1)
    spread = f" ± {s[key + '_std']:.1f} (mean ± sd over {n} seeds)" if n > 1 else " (one seed)"
    return f"{bound}{s[key]:.1f}×{spread}"


def facts(record) -> dict[str, str]:
    """Images, seeds, each activation's epochs to 25% and chosen rates, the ratios, how often
    tanh led after the sweep epochs and ReLU got there first, the rates swept, the hours taken."""
    s, prov = record.summary, record.provenance
    runs = [s[f"seed{seed}"] for seed in prov["seeds"]]
    pairs = [(r["sweep"]["relu"][lr], r["sweep"]["tanh"][lr]) for r in runs for lr in r["sweep"]["relu"]]
    ahead = sum(t is not None and r is not None and t < r for r, t in pairs)
    first = sum(r["relu"]["reached"] and (not r["tanh"]["reached"] or r["relu"]["epochs_to_target"]
                                          < r["tanh"]["epochs_to_target"]) for r in runs)
    hours = (pd.Timestamp(prov["ended_utc"]) - pd.Timestamp(prov["started_utc"])).total_seconds() / 3600
    return dict(train_images=f"{s['train_images']:,}", n_seeds=str(len(runs)),
                relu_epochs=_epochs_text([r["relu"]["epochs_to_target"] for r in runs]),
                tanh_epochs=_epochs_text([r["tanh"]["epochs_to_target"] for r in runs]),
                relu_lr=", ".join(f"{r['relu']['lr']:g}" for r in runs),
                tanh_lr=", ".join(f"{r['tanh']['lr']:g}" for r in runs),
                ratio_epochs=_ratio_text(s, "ratio_epochs"), ratio_seconds=_ratio_text(s, "ratio_seconds"),
                tanh_ahead=f"{ahead} of {len(pairs)}", relu_first=f"{first} of {len(runs)}",
                lrs=", ".join(f"{lr:g}" for lr in s["lrs"]), hours=f"{hours:.1f} hours")


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
EXPERIMENT = Experiment(
    title="ReLU vs tanh: epochs to 25% training error (Figure 1)", section="§3.1",
    # ~1,900 img/s on one thread (two threads on a busy 2-core machine ran 2.5x slower).
    # 10,000 images at batch 32 (more steps per image than 128): one seed's sweep and both
    # runs take ~3 minutes; three seeds give the ratio a spread.
    presets=dict(smoke=dict(presets.RELU_RECIPE, dataset="synthetic", train_limit=128, val_limit=32, batch_size=32),
                 cpu=dict(presets.RELU_RECIPE, train_limit=10_000, val_limit=500, batch_size=32, threads=1),
                 paper=dict(presets.RELU_RECIPE, precision="fp32")),
    seeds={"smoke": [0], "cpu": [0, 1, 2], "paper": [0]},
    # A claim about the time to reach 25% training error: the record's own target, no other gate.
    claims=(Claim("relu_6x", "ReLU reaches 25% training error ~6× faster than tanh (Fig. 1)", "≈6×", "relu",
                  lambda s: [r - 1.0 for r in s.get("ratio_epochs_values") or []], CLAIMS["relu_vs_tanh"]["ratio_epochs"] - 1,
                  unit="x-1"),))
