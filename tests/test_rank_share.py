"""Under DDP each rank decodes and transforms only its share of every global batch (issue 24),
and sees exactly the rows it kept before from the whole batch: held to the old path
(`ShardedLoader(..., whole=True)`: every rank makes the whole batch and keeps its rows)."""
import json
import subprocess
import sys

import pytest
import torch

from alexnet.config import resolve
from alexnet.data import folders, load_data
from alexnet.parallel import ShardedLoader
from conftest import alexnet_cmd, cli_env
from test_data_imagenet import make_folder

pytestmark = pytest.mark.filterwarnings("ignore:The image decoding:DeprecationWarning")

B = 4                                   # the global batch: 2 images per rank


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))


def settings(root, **kw) -> dict:
    return dict(dict(dataset="imagenet", data=str(root), model="alexnet_small", image_size=32, batch_size=B,
                     train_limit=0, val_limit=0, cache_images=0, workers=0, augment="crop_flip_pca",
                     dropout=0, threads=1), **kw)


def both_ways(loader, rank, epoch, start=0):
    share = list(ShardedLoader(loader, rank, 2).batches(epoch, start))
    whole = list(ShardedLoader(loader, rank, 2, whole=True).batches(epoch, start))
    return share, whole


@pytest.mark.parametrize("cache,workers", [(0, 0), (0, 2), (4000, 0)], ids=["files", "workers", "in-RAM"])
def test_a_share_is_the_whole_batch_split(tmp_path, cache, workers):
    make_folder(tmp_path, oddities=False, per_class=8)
    data = load_data(resolve("smoke", settings(tmp_path, cache_images=cache, workers=workers, ten_crop=True)))
    for rank in (0, 1):
        for loader, epoch, start in ((data.train, 1, 0), (data.train, 2, 3), (data.val, 0, 0)):
            share, whole = both_ways(loader, rank, epoch, start)
            assert len(share) == len(whole) == len(loader) - start
            for (x, y), (xw, yw) in zip(share, whole):
                assert len(y) == B // 2 and torch.equal(y, yw) and torch.equal(x, xw)


def test_unreadable_files_the_shares_make_the_whole_batch(tmp_path):
    """With a truncated file a rank keeps the readable images of its places; the two
    shares together are the one-process batch, row for row (the split may be uneven)."""
    make_folder(tmp_path, per_class=6)                    # 16 files, one unreadable
    data = load_data(resolve("smoke", settings(tmp_path)))
    one = list(data.train.batches(1))
    shares = [list(ShardedLoader(data.train, r, 2).batches(1)) for r in (0, 1)]
    assert len(one) == len(shares[0]) == len(shares[1]) == 4
    assert sorted(len(y) for _, y in one) == [3, 4, 4, 4]
    for (x, y), (x0, y0), (x1, y1) in zip(one, *shares):
        assert torch.equal(torch.cat([y0, y1]), y) and torch.equal(torch.cat([x0, x1]), x)


def test_decodes_are_counted_by_the_probe(tmp_path, monkeypatch):
    """The probe the torchrun test uses sees every decode (it can fail)."""
    make_folder(tmp_path, oddities=False, per_class=4)
    data = load_data(resolve("smoke", settings(tmp_path)))
    seen, real = [], folders.load_256
    monkeypatch.setattr(folders, "load_256", lambda path: seen.append(path) or real(path))
    list(data.train.batches(0))
    assert len(seen) == 8
    seen.clear()
    list(ShardedLoader(data.train, 1, 2).batches(0))
    assert len(seen) == 4


SCRIPT = r'''
import dataclasses, json, sys
import torch
from alexnet import parallel
from alexnet.config import resolve
from alexnet.data import folders, load_data
from alexnet.training.loop import train

cfg, out = resolve("smoke", json.loads(sys.argv[1])), sys.argv[2]
d = parallel.setup(cfg, torch.device("cpu"))
data = load_data(cfg)
decoded, real = [], folders.load_256
folders.load_256 = lambda path: decoded.append(str(path)) or real(path)
report = dict(decoded={}, same_rows=True)
for name, loader, epoch in (("train0", data.train, 0), ("train1", data.train, 1), ("val", data.val, 0)):
    report["decoded"][name] = steps = []
    decoded.clear()
    for x, y in parallel.shard(loader, d).batches(epoch):
        steps.append(decoded[:])
        decoded.clear()
    whole = parallel.ShardedLoader(loader, d.rank, d.world, whole=True).batches(epoch)
    mine = parallel.shard(loader, d).batches(epoch)
    report["same_rows"] &= all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(mine, whole))
folders.load_256 = real


class WholeBatch:                       # the old path: no shard= in batches(), so the rank slices
    def __init__(self, loader):
        self.loader, self.batch_size = loader, loader.batch_size
    def __len__(self):
        return len(self.loader)
    def batches(self, epoch=0, start=0):
        return self.loader.batches(epoch, start)


runs = {}
for how, bundle in (("share", data), ("whole", dataclasses.replace(data, train=WholeBatch(data.train),
                                                                   val=WholeBatch(data.val)))):
    result = train(cfg, data=bundle, log=lambda *a, **k: None)
    runs[how] = ([{k: v for k, v in row.items() if k not in ("seconds", "images_per_s")} for row in result.history],
                 {k: v.clone() for k, v in result.model.state_dict().items()})
report["history"] = runs["share"][0]
report["same_history"] = runs["share"][0] == runs["whole"][0]
report["same_weights"] = all(torch.equal(v, runs["whole"][1][k]) for k, v in runs["share"][1].items())
json.dump(report, open(f"{out}/rank{d.rank}.json", "w"))
d.close()
'''


def test_torchrun_ranks_decode_disjoint_halves_and_train_as_before(tmp_path):
    """torchrun, 2 gloo processes, parallel=ddp, JPEG files (no RAM cache): per step each
    rank decodes its half of the global batch, once; the halves are disjoint and make the
    batch; the rows, the metrics and the weights equal the whole-batch path's, bit for bit."""
    make_folder(tmp_path, oddities=False, per_class=8)
    args = settings(tmp_path, parallel="ddp", epochs=2)
    (tmp_path / "probe.py").write_text(SCRIPT)
    cmd = [*alexnet_cmd(2)[:-2], str(tmp_path / "probe.py"), json.dumps(args), str(tmp_path)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(), timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    data = load_data(resolve("smoke", settings(tmp_path)))
    for name, loader, epoch in (("train0", data.train, 0), ("train1", data.train, 1), ("val", data.val, 0)):
        order = loader.order(epoch)
        assert len(ranks[0]["decoded"][name]) == len(ranks[1]["decoded"][name]) == len(loader)
        for step, (r0, r1) in enumerate(zip(ranks[0]["decoded"][name], ranks[1]["decoded"][name])):
            batch = [loader.items[i][0] for i in order[step * B:(step + 1) * B]]
            assert len(r0) == len(r1) == B // 2 and not set(r0) & set(r1)
            assert r0 + r1 == batch                                # rank 0 the first half, rank 1 the second
    for r in ranks:
        assert r["same_rows"] and r["same_history"] and r["same_weights"], r
        assert len(r["history"]) == 2 and r["history"] == ranks[0]["history"]
