"""§3.1, Figure 1: a four-layer CNN reaches 25% training error on CIFAR-10 about six times
faster with ReLUs than with tanh units.

Each activation gets its own learning rate from a small sweep ("the learning rates for
each network were chosen independently to make training as fast as possible"; no
regularisation of any kind): every rate trains `sweep_epochs`, the grid growing past an edge
where the best rate sits (`extend`); the best one goes on, epoch by epoch from its checkpoint,
until its training error is at most TARGET, `max_epochs` or the time budget (then the record
says "not reached in N epochs", a lower bound, never a guess).

Training error is the running error of each epoch, as cuda-convnet printed it: the
mistakes on every training batch as it is trained on (the net has no dropout or batch
norm, so train and eval mode compute the same function), over the epoch's images.
"""
from __future__ import annotations

import math
import time

import pandas as pd

from .. import records
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
# below it), epochs per sweep run, how many times the grid may grow past an edge where the
# best rate sits (the first paper record's tanh picked its top rate), the epoch cap, and the
# wall-clock budget (s) per seed.
SETTINGS = {
    "smoke": dict(lrs=[0.01, 0.04], sweep_epochs=1, extend=0, max_epochs=3, budget_s=60),
    "cpu": dict(lrs=[0.005, 0.01, 0.02, 0.05], sweep_epochs=1, extend=0, max_epochs=300, budget_s=400),
    "paper": dict(lrs=[0.0025, 0.005, 0.01, 0.02, 0.04], sweep_epochs=2, extend=3,
                  max_epochs=100, budget_s=6 * 3600),
}
ACTIVATIONS = ("relu", "tanh")
TARGET = 0.25      # §3.1: "reaches a 25% training error rate"
# The running error before any training: chance on CIFAR-10's ten classes. A crossing in the
# first epoch is interpolated from it (epoch 0), not from the first epoch's own start.
CHANCE = 0.9
MEASURE = "running training error over each epoch's batches (train mode; the net has no dropout or batch norm)"


def _train_to(cfg: Config, out_dir, data, epochs: int) -> pd.DataFrame:
    """Train (or resume) `cfg` in `out_dir` until `epochs`; its history. Diverged: empty."""
    try:
        result = train(cfg.replace(epochs=epochs), out_dir=out_dir, data=data, log=lambda _: None)
    except NonFiniteLoss:
        return pd.DataFrame()
    return pd.DataFrame(result.history)


def _best(scores: dict) -> float:
    """The rate with the lowest training error (ties: the smaller rate)."""
    return min(sorted(scores), key=scores.get)


def _grid(score, lrs: list[float], extend: int) -> dict[float, int]:
    """Score every rate of `lrs`; then, while the best sits at an edge of the grid, one rate
    beyond it (x2 above the top, /2 below the bottom), at most `extend` times. Returns each
    rate scored -> the extension that added it (0: the declared grid)."""
    scores, added = {lr: score(lr) for lr in lrs}, dict.fromkeys(lrs, 0)
    for k in range(1, extend + 1):
        grid, best = sorted(scores), _best(scores)
        if grid[0] < best < grid[-1]:
            break
        new = best * 2 if best == grid[-1] else best / 2
        scores[new], added[new] = score(new), k
    return added


def _sweep(cfg, preset, data, seed, settings, log) -> tuple[pd.DataFrame, dict]:
    """Every (activation, lr) of the grid for `sweep_epochs`; the rows and each activation's best
    lr. A diverged rate leaves one row: train_err NaN, diverged True."""
    frames, best = [], {}
    for act in ACTIVATIONS:
        rows, scores = {}, {}

        def score(lr):
            out = scratch_dir("relu_vs_tanh", preset, f"{act}-lr{lr:g}", seed)
            hist = _train_to(cfg.replace(activation=act, lr=lr), out, data, settings["sweep_epochs"])
            # A seed resumed after its chosen rate went on past the sweep in the same folder:
            # the sweep reads its own epochs of that history (the same numbers, not retrained).
            hist = hist[hist.epoch <= settings["sweep_epochs"]] if len(hist) else hist
            rows[lr] = hist if len(hist) else pd.DataFrame(dict(epoch=[settings["sweep_epochs"]], train_err=[math.nan]))
            scores[lr] = float(hist.train_err.iloc[-1]) if len(hist) else math.inf
            log(f"[relu_vs_tanh] sweep {act} lr={lr:g}: train error {scores[lr]:.3f}")
            return scores[lr]
        added = _grid(score, settings["lrs"], settings["extend"])
        frames += [rows[lr].assign(activation=act, lr=lr, diverged=math.isinf(scores[lr]), extension=k)
                   for lr, k in added.items()]
        best[act] = _best(scores)
    return pd.concat(frames, ignore_index=True), best


def _continue(cfg, out_dir, data, settings, deadline) -> pd.DataFrame:
    """Go on with `cfg` (an activation at its chosen rate, its sweep run in `out_dir`) until
    the target, the epoch cap or the deadline."""
    hist = _train_to(cfg, out_dir, data, settings["sweep_epochs"])
    while (len(hist) and hist.train_err.iloc[-1] > TARGET
           and len(hist) < settings["max_epochs"] and time.monotonic() < deadline):
        hist = _train_to(cfg, out_dir, data, len(hist) + 1)
    return hist


def _reach(hist: pd.DataFrame, target: float) -> dict:
    """Epochs and training seconds until the running training error first is <= target: in
    whole epochs (the epoch that crosses) and interpolated within it, linearly between the
    running errors at the ends of the epoch before (CHANCE before the first) and of that epoch,
    the cumulative seconds alike."""
    hist = hist.reindex(columns=["epoch", "train_err", "seconds"]).sort_values("epoch").reset_index(drop=True)
    seconds = hist.seconds.cumsum()
    hit = hist.index[hist.train_err <= target]
    out = dict(reached=bool(len(hit)), epochs_trained=int(len(hist)),
               seconds_trained=float(seconds.iloc[-1]) if len(hist) else 0.0,
               epochs_to_target=None, seconds_to_target=None,
               epochs_to_target_interp=None, seconds_to_target_interp=None,
               final_train_err=float(hist.train_err.iloc[-1]) if len(hist) else None)
    if len(hit):
        i = hit[0]
        err0, epoch0, sec0 = (hist.train_err[i - 1], hist.epoch[i - 1], seconds[i - 1]) if i else (CHANCE, 0, 0.0)
        f = (err0 - target) / (err0 - hist.train_err[i])          # the fraction of the epoch
        out.update(epochs_to_target=int(hist.epoch[i]), seconds_to_target=float(seconds[i]),
                   epochs_to_target_interp=float(epoch0 + f * (hist.epoch[i] - epoch0)),
                   seconds_to_target_interp=float(sec0 + f * (seconds[i] - sec0)))
    return out


def _ratios(result: dict) -> dict:
    """tanh / relu in epochs and seconds: interpolated within the epoch when both got there
    (`_whole`: in whole epochs); a lower bound ('>=') when tanh never got there."""
    relu, tanh = result["relu"], result["tanh"]
    if not relu["reached"]:
        return dict(ratio_epochs=None, ratio_seconds=None, ratio_epochs_whole=None, ratio_seconds_whole=None,
                    ratio_kind="relu did not reach the target")
    kind = "measured" if tanh["reached"] else "lower bound: tanh not there when training stopped"
    key = "to_target" if tanh["reached"] else "trained"
    out = dict(ratio_epochs_whole=tanh[f"epochs_{key}"] / relu["epochs_to_target"],
               ratio_seconds_whole=tanh[f"seconds_{key}"] / relu["seconds_to_target"])
    out.update(ratio_epochs=out["ratio_epochs_whole"], ratio_seconds=out["ratio_seconds_whole"], ratio_kind=kind)
    if tanh["reached"]:
        out.update({f"ratio_{q}": tanh[f"{q}_to_target_interp"] / relu[f"{q}_to_target_interp"]
                    for q in ("epochs", "seconds")})
    return out


def _over_seeds(results: list[dict]) -> dict:
    """The ratios' mean, spread and per-seed values. Where tanh did not get there in some
    seed, its value is a lower bound and so is the mean; where ReLU did not, no ratio."""
    if any(r["ratio_epochs"] is None for r in results):
        return dict(ratio_epochs=None, ratio_seconds=None, ratio_kind="relu did not reach the target")
    kind = ("measured" if all(r["ratio_kind"] == "measured" for r in results)
            else "lower bound: tanh not there when training stopped in some seed")
    out = dict(ratio_kind=kind)
    for key in ("ratio_epochs", "ratio_seconds", "ratio_epochs_whole", "ratio_seconds_whole"):
        if all(key in r for r in results):
            stats = summarize(r[key] for r in results)
            out.update({key: stats["mean"], f"{key}_std": stats["std"], f"{key}_values": stats["values"]})
    return out


def _seed_summary(rows: pd.DataFrame) -> dict:
    """One seed's summary from its metrics rows: per activation the chosen rate and how it
    reached the target, the ratios, the sweep's final errors, each grid and whether the best
    rate ended inside it."""
    sweep, chosen = rows[rows.phase == "sweep"], rows[rows.phase == "chosen"]
    last = sweep.sort_values("epoch", kind="stable").groupby(["activation", "lr"]).tail(1)
    out, table = {}, {}
    for act in ACTIVATIONS:
        mine = last[last.activation == act].sort_values("lr")
        errs = {float(lr): (None if dead else float(err)) for lr, err, dead in zip(mine.lr, mine.train_err, mine.diverged)}
        best = _best({lr: math.inf if e is None else e for lr, e in errs.items()})
        table[act] = {f"{lr:g}": e for lr, e in errs.items()}
        out[act] = dict(lr=best, **_reach(chosen[chosen.activation == act], TARGET),
                        grid=sorted(errs), best_inside=min(errs) < best < max(errs))
    return dict(**out, **_ratios(out), sweep=table)


def summarize_metrics(metrics: pd.DataFrame, cfg: Config | None = None) -> dict:
    """The summary from the metrics alone (`alexnet run ... --resummarize` re-derives it, and a
    record grows by seed): per seed `_seed_summary`, the ratios over seeds, the declared grid."""
    metrics = metrics.assign(diverged=metrics.diverged.astype(str) == "True")     # bools, as read back or not
    sweep = metrics[metrics.phase == "sweep"]
    declared = sweep[sweep.extension == 0] if "extension" in sweep else sweep
    seeds = sorted(int(s) for s in metrics.seed.unique())
    summary = {f"seed{s}": _seed_summary(metrics[metrics.seed == s]) for s in seeds}
    inside = [summary[f"seed{s}"][act]["best_inside"] for s in seeds for act in ACTIVATIONS]
    summary.update(target=TARGET, sweep_epochs=int(sweep.epoch.max()), lrs=sorted(float(x) for x in declared.lr.unique()),
                   **_over_seeds([summary[f"seed{s}"] for s in seeds]), n_seeds=len(seeds),
                   best_inside=all(inside), measure=MEASURE)
    return summary


def run(cfg: Config, preset: str, seeds: list[int], log=print) -> Outcome:
    settings, frames = SETTINGS[preset], []
    for seed in seeds:
        base = cfg.replace(seed=seed)
        data = load_data(base)
        deadline = time.monotonic() + settings["budget_s"]
        sweep, best = _sweep(base, preset, data, seed, settings, log)
        frames.append(sweep.assign(seed=seed, phase="sweep", chosen=False))
        for act in ACTIVATIONS:
            out = scratch_dir("relu_vs_tanh", preset, f"{act}-lr{best[act]:g}", seed)
            hist = _continue(base.replace(activation=act, lr=best[act]), out, data, settings, deadline)
            extension = int(sweep[(sweep.activation == act) & (sweep.lr == best[act])].extension.iloc[0])
            frames.append(hist.assign(seed=seed, phase="chosen", chosen=True, activation=act,
                                      lr=best[act], diverged=False, extension=extension))
            log(f"[relu_vs_tanh] {act} lr={best[act]:g}: {_reach(hist, TARGET)}")
    metrics = pd.concat(frames, ignore_index=True)
    cols = ["phase", "activation", "lr", "seed", "epoch"]
    metrics = metrics[cols + [c for c in metrics.columns if c not in cols]]
    summary = summarize_metrics(metrics, cfg)
    summary["train_images"] = len(data.train) * cfg.batch_size      # not in metrics: kept as recorded
    first = summary[f"seed{seeds[0]}"]
    configs = {act: cfg.replace(activation=act, lr=first[act]["lr"]).to_dict() for act in ACTIVATIONS}
    return Outcome(metrics, summary, data.fingerprint, configs)


# --- The strings the ReLU chapter quotes from a record (`claims.evidence` glues them) ---
def _epochs_text(runs: list[dict], act: str) -> str:
    """Epochs to the target over seeds, interpolated within the epoch (whole epochs in a record
    made before it had them): '5.9 epochs', '10.4 epochs (seeds: 10.6, 9.8, 10.7)', or how many
    seeds never got there."""
    values = [r[act].get("epochs_to_target_interp", r[act]["epochs_to_target"]) for r in runs]
    missed = sum(v is None for v in values)
    if missed:
        return f"not reached in {missed} of {len(values)} seeds"
    text = [f"{v:.1f}" if isinstance(v, float) else str(v) for v in values]
    if len(values) == 1:
        return f"{text[0]} epochs"
    return f"{sum(values) / len(values):.1f} epochs (seeds: {', '.join(text)})"


def _inside(run: dict, act: str) -> bool:
    """Whether `act`'s chosen rate lies strictly inside the rates its sweep tried."""
    rates = [float(lr) for lr in run["sweep"][act]]
    return min(rates) < run[act]["lr"] < max(rates)


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
    tanh led after the sweep epochs and ReLU got there first, the rates swept, how often the best
    rate ended inside its grid, the hours taken."""
    s, prov = record.summary, record.provenance
    runs = [s[f"seed{seed}"] for seed in prov["seeds"]]
    pairs = [(r["sweep"]["relu"][lr], r["sweep"]["tanh"][lr]) for r in runs for lr in r["sweep"]["relu"]
             if lr in r["sweep"]["tanh"]]
    ahead = sum(t is not None and r is not None and t < r for r, t in pairs)
    when = [{act: r[act].get("epochs_to_target_interp", r[act]["epochs_to_target"]) for act in ACTIVATIONS}
            for r in runs]
    first = sum(w["relu"] is not None and (w["tanh"] is None or w["relu"] < w["tanh"]) for w in when)
    inside = sum(_inside(r, act) for r in runs for act in ACTIVATIONS)
    return dict(train_images=f"{s['train_images']:,}", n_seeds=str(len(runs)),
                relu_epochs=_epochs_text(runs, "relu"), tanh_epochs=_epochs_text(runs, "tanh"),
                relu_lr=", ".join(f"{r['relu']['lr']:g}" for r in runs),
                tanh_lr=", ".join(f"{r['tanh']['lr']:g}" for r in runs),
                ratio_epochs=_ratio_text(s, "ratio_epochs"), ratio_seconds=_ratio_text(s, "ratio_seconds"),
                tanh_ahead=f"{ahead} of {len(pairs)}", relu_first=f"{first} of {len(runs)}",
                lrs=", ".join(f"{lr:g}" for lr in s["lrs"]), hours=f"{records.spent(prov, record.metrics)[0]:.1f} hours",
                best_inside=f"{inside} of {len(runs) * len(ACTIVATIONS)}")


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
EXPERIMENT = Experiment(
    title="ReLU vs tanh: epochs to 25% training error (Figure 1)", section="§3.1",
    # ~1,900 img/s on one thread (two threads on a busy 2-core machine ran 2.5x slower).
    # 10,000 images at batch 32 (more steps per image than 128): one seed's sweep and both
    # runs take ~3 minutes; three seeds give the ratio a spread.
    presets=dict(smoke=dict(presets.RELU_RECIPE, dataset="synthetic", train_limit=128, val_limit=32, batch_size=32),
                 cpu=dict(presets.RELU_RECIPE, train_limit=10_000, val_limit=500, batch_size=32, threads=1),
                 paper=dict(presets.RELU_RECIPE, precision="fp32")),
    seeds={"smoke": [0], "cpu": [0, 1, 2], "paper": [0, 1, 2]},
    # A claim about the time to reach 25% training error: the record's own target, no other gate.
    claims=(Claim("relu_6x", "ReLU reaches 25% training error ~6× faster than tanh (Fig. 1)", "≈6×", "relu",
                  lambda s: [r - 1.0 for r in s.get("ratio_epochs_values") or []], CLAIMS["relu_vs_tanh"]["ratio_epochs"] - 1,
                  unit="x-1"),))
