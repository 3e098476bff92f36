"""VGG §3.1-3.2, §4.1-4.4 (Tables 3, 5, 6): training scale S fixed (256 or 384) vs jittered in
[256, 512]; testing by dense evaluation, multi-crop evaluation and both; fusion of two nets.

At CPU scale the paper's pixel sizes keep their ratio to the crop (224 -> 32): S=256 -> 37,
S=384 -> 55, [256, 512] -> [37, 73]. Each net is tested at one scale Q as in Table 3:
Q = S for fixed S, Q = 384 (55) for the jittered net.
"""
from __future__ import annotations

import pandas as pd

from ..data import load_data
from ..data.scale import cpu_scale, scale_bundle
from ..evaluation.vgg_dense import ImageSet, errors, fuse, posteriors
from ..stats import pm, summarize
from ..training.loop import train
from ..harness import presets
from ..harness.paper_tables import CLAIMS
from ..harness.declare import Claim, Experiment, paired, Regime
from ..harness.runner import Outcome, scratch_dir

TRAIN_SCALES = {"S=256": 256, "S=384": 384, "S=[256,512]": (256, 512)}   # paper pixels, §3.1
TEST_SCALE = {"S=256": 256, "S=384": 384, "S=[256,512]": 384}            # Table 3's Q
# Every trained net is also tested at each of these Q (paper pixels: the crop itself and Table 5's
# three), so the chapter can show how dense and multi-crop testing move with Q at CPU scale.
Q_SWEEP = (224, 256, 384, 512)
GRID = {"smoke": 2, "cpu": 3, "regime": 3, "paper": 5}   # crops per side; §4.3 uses 5x5 (x2 flips); 3x3 fits a CPU
FUSED = ("S=256", "S=[256,512]")            # the two nets whose posteriors are averaged (§4.4)


def _test(model, val, q, crop, grid) -> dict:
    """Posteriors on the whole validation set by each method (dense+multi-crop from the two)."""
    test = ImageSet(val.images, val.mean.flatten(), val.std.flatten())
    probs = {m: posteriors(model.float(), test, q, m, crop=crop, grid=grid) for m in ("dense", "multi-crop")}
    probs["dense+multi-crop"] = fuse(probs["dense"], probs["multi-crop"])
    return probs


def run(cfg, preset, seeds) -> Outcome:
    crop, rows, frames, configs, fingerprint = cfg.image_size, [], [], {}, {}
    for seed in seeds:
        c = cfg.replace(seed=seed)
        kept = {}
        for variant, s in TRAIN_SCALES.items():
            if preset == "regime" and variant not in FUSED:   # the `regime` record: the claims' pair only
                continue
            scale, q = cpu_scale(s, crop), cpu_scale(TEST_SCALE[variant], crop)[0]
            data = scale_bundle(load_data(c), crop, scale)
            fingerprint = data.fingerprint
            configs[variant] = dict(c.replace(seed=cfg.seed).to_dict(), train_scale=list(scale), test_scale=q)
            print(f"[vgg_scale/{preset}] {variant}: S in {scale}, Q={q}, seed {seed}")
            result = train(c, out_dir=scratch_dir("vgg_scale", preset, variant, seed), data=data)
            frames.append(pd.DataFrame(result.history).assign(variant=variant, seed=seed))
            model = result.model.cpu().eval()
            y = data.val.labels
            tested = {k: _test(model, data.val, k, crop, GRID[preset])
                      for k in sorted({q, *(cpu_scale(t, crop)[0] for t in Q_SWEEP)})}
            kept[variant] = tested[q]
            for method, p in kept[variant].items():
                rows.append(dict(variant=variant, seed=seed, q=q, method=method, **errors(p, y)))
            rows += [dict(variant=variant, seed=seed, q=k, method=m, sweep=True, **errors(probs[m], y))
                     for k, probs in tested.items() for m in ("dense", "multi-crop")]
        fused = fuse(*(kept[v]["dense+multi-crop"] for v in FUSED))
        rows.append(dict(variant=" + ".join(FUSED), seed=seed, q=-1, method="fusion", **errors(fused, y)))
    tests = pd.DataFrame(rows)
    sweep = tests.pop("sweep").eq(True)                  # NaN (the Table 3 rows) -> False
    curves = pd.concat(frames, ignore_index=True)
    metrics = pd.concat([curves.assign(kind="epoch"), tests[~sweep].assign(kind="test"),
                         tests[sweep].assign(kind="q_sweep")], ignore_index=True)
    summary = summarize_metrics(metrics, cfg)
    summary["grid"] = GRID[preset]
    summary["scales"] = {v: configs[v]["train_scale"] for v in TRAIN_SCALES if v in configs}
    summary["test_scales"] = {v: configs[v]["test_scale"] for v in TRAIN_SCALES if v in configs}
    return Outcome(metrics, summary, fingerprint, configs)


def summarize_metrics(metrics, cfg) -> dict:
    """The test errors per variant and method, from the metrics alone (`--resummarize`)."""
    tests = metrics[metrics.kind == "test"]
    summary = {}
    for (variant, method), g in tests.groupby(["variant", "method"], sort=False):
        g = g.set_index("seed")
        summary.setdefault(variant, {})[method] = {k: summarize(g[k]) for k in ("top1_err", "top5_err")}
    sweep = metrics[metrics.kind == "q_sweep"]           # absent from records made before the sweep
    for (variant, method, q), g in sweep.groupby(["variant", "method", "q"], sort=True):
        summary.setdefault("q_sweep", {}).setdefault(variant, {}).setdefault(method, {})[str(int(q))] = \
            summarize(g.set_index("seed").top1_err)
    if len(sweep):
        summary["q_paper"] = {str(cpu_scale(t, cfg.image_size)[0]): t for t in Q_SWEEP}   # px -> the paper's Q
    return summary


def facts(record) -> dict[str, str]:
    """What the VGG chapter quotes ({glue:text}`vgg_scale_<key>`): per training scale (keys `s256`,
    `s384`, `jitter`) its CPU-scale S and Q in pixels and, per method (`dense`, `multi`, `both`),
    its errors (mean ± std over seeds, %), and top-1 at each Q of the sweep (`s256_dense_q37`);
    the fusion's; the grid, the seeds and the test set."""
    s, base = record.summary, record.config.get("base", record.config)
    short, methods = dict(zip(TRAIN_SCALES, ("s256", "s384", "jitter"))), dict(
        zip(("dense", "multi-crop", "dense+multi-crop"), ("dense", "multi", "both")))
    fusion = s[" + ".join(FUSED)]["fusion"]
    out = dict(seeds=str(s["S=256"]["dense"]["top1_err"]["n"]), val=f"{base['val_limit']:,}",
               grid=f"{s['grid']}×{s['grid']}", crops=str(2 * s["grid"] ** 2),
               fusion_top1=pm(fusion["top1_err"]), fusion_top5=pm(fusion["top5_err"]))
    for variant, key in ((v, k) for v, k in short.items() if v in s["scales"]):
        lo, hi = s["scales"][variant]
        out.update({f"{key}_S": str(lo) if lo == hi else f"[{lo}, {hi}]", f"{key}_Q": str(s["test_scales"][variant])})
        for method, m in methods.items():
            out.update({f"{key}_{m}_top1": pm(s[variant][method]["top1_err"]),
                        f"{key}_{m}_top5": pm(s[variant][method]["top5_err"])})
        for method, by_q in s.get("q_sweep", {}).get(variant, {}).items():     # e.g. `jitter_dense_q55`
            out.update({f"{key}_{methods[method]}_q{q}": pm(v) for q, v in by_q.items()})
    return out


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
def _scale(summary: dict) -> list[float]:
    return paired(("S=256", "dense", "top1_err"), ("S=[256,512]", "dense", "top1_err"))(summary)


EXPERIMENT = Experiment(
    title="VGG scale jitter, dense vs multi-crop evaluation, fusion", section="VGG §3.1-3.2, Tables 3, 5, 6",
    presets=dict(smoke=presets.VGG_SMOKE, cpu=dict(presets.VGG_CPU, val_limit=2_000),   # cpu: ~2.5 min a seed
                 regime=dict(presets.VGG_REGIME, val_limit=2_000), paper=presets.VGG_PAPER),
    seeds=dict(presets.THREE, regime=presets.VGG_REGIME_SEEDS),
    claims=(Claim("vgg_jitter", "VGG: scale jitter S∈[256,512] beats fixed S=256 (Table 3)", "D: 27.0 (S=Q=256) → 25.6 (Q=384)",
                  "vgg", _scale, CLAIMS["vgg_scale"]["jitter_gain_top1"], regime=Regime()),
            # the same trained nets evaluated two ways: a test-time claim, no training gate
            Claim("vgg_multicrop", "VGG: dense + multi-crop beats dense alone (Table 5)", "24.8 → 24.4", "vgg",
                  paired(("S=[256,512]", "dense", "top1_err"), ("S=[256,512]", "dense+multi-crop", "top1_err")),
                  CLAIMS["vgg_scale"]["multicrop_gain_top1"])))
