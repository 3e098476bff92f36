"""The one-device weights `alexnet eval` evaluates: a checkpoint's own or, for a run whose
ranks each saved their share (parallel=columns or weird_trick under torchrun), the shares
joined in memory (`parallel.merge_shares`), so nothing is written beside the run.

    state = one_device_state(Path("runs/imagenet-columns/checkpoint.pt"))   # model=, config=, ...
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

from .. import parallel
from ..training.checkpoint import CheckpointError, load_checkpoint_file

MERGE = "alexnet merge {folder}"
NAME = re.compile(r"checkpoint(?:\.rank\d+)?(\.prev\d*)?\.pt")     # a rank's file, of any generation


def one_device_state(path: Path) -> dict:
    """The checkpoint at `path`, its weights those of the one-device network."""
    state = load_checkpoint_file(path)
    kind = parallel.share_kind(state["model"])
    if kind == "columns":                                   # both columns in one file (one process)
        return dict(state, model=parallel.merge_shares(parallel.split_columns(state["model"])))
    if kind is None:
        return state
    files = _share_files(Path(path), state)
    states = [load_checkpoint_file(p) for p in files]
    steps = [f"{p.name}: epoch {s.get('epoch')}, step {s.get('step')}" for p, s in zip(files, states)]
    if len({(s.get("epoch"), s.get("step")) for s in states}) > 1:    # a stop between the ranks' saves
        raise CheckpointError(f"the ranks' checkpoints in {path.parent} are of different steps ({'; '.join(steps)}); "
                              "evaluate a generation whose files are of one step (checkpoint.prev.pt ...)")
    return dict(state, model=parallel.merge_shares([s["model"] for s in states]))


def _share_files(path: Path, state: dict) -> list[Path]:
    """checkpoint.pt, checkpoint.rank1.pt ... of `path`'s generation (checkpoint.prev.pt goes
    with checkpoint.rank1.prev.pt), or one line naming the missing file and the merge command."""
    match = NAME.fullmatch(path.name)
    generation = (match.group(1) or "") if match else ""
    files = parallel.rank_files(path.parent, generation)
    wanted = [files[0], *(path.parent / f"checkpoint.rank{r}{generation}.pt" for r in range(1, max(len(files), 2)))]
    missing = [p.name for p in wanted if not p.is_file()] if match else [f"checkpoint.rank1{generation}.pt"]
    if missing:
        mode = state.get("config", {}).get("parallel", "columns")
        raise CheckpointError(
            f"{path} holds one rank's share of a parallel={mode} run, and {', '.join(missing)} is not in "
            f"{path.parent} — copy every rank's checkpoint file there and rerun (eval joins them), or, once "
            f"they are there, merge them into checkpoint.merged.pt: {MERGE.format(folder=shlex.quote(str(path.parent)))}")
    return wanted
