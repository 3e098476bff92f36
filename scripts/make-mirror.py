#!/usr/bin/env python3
"""A local download mirror built from this workplace's offline copies, to try `download=true`
and `make book` on a machine without internet (issue 28):

    python scripts/make-mirror.py OUT [--shared ../shared/data]
    (cd OUT && python -m http.server 8765 --bind 127.0.0.1) &
    ALEXNET_MIRROR=http://127.0.0.1:8765 make book         # in a checkout without ../shared

OUT gets the files under the names the public hosts use: the four Fashion-MNIST archives
(byte-exact: the published md5 sums hold), cifar-10-python.tar.gz packed from the reassembled
batches, and imagenette2-320.tgz packed from imagenet-sample/ (train/ also holds each class's
natural/ photo, which sorts last, so the download picks it again for natural/), plus MD5SUMS,
which replaces the published sums of the two rebuilt archives. Run prepare.py first.
"""
import argparse
import hashlib
import shutil
import sys
import tarfile
from pathlib import Path


def md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def imagenette(sample: Path, out: Path) -> None:
    with tarfile.open(out, "w:gz", compresslevel=1) as tar:
        for split in ("train", "val"):
            for wnid in sorted(p.name for p in (sample / split).iterdir() if p.is_dir()):
                files = sorted((sample / split / wnid).glob("*.JPEG"))
                if split == "train":
                    files += sorted((sample / "natural" / wnid).glob("*.JPEG"))
                for f in files:
                    tar.add(f, arcname=f"imagenette2-320/{split}/{wnid}/{f.name}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = p.parse_args()
    shared, out = args.shared, args.out
    batches = shared / "cifar-10-batches-py"
    if not (batches / "test_batch").is_file() or not (shared / "imagenet-sample" / "train").is_dir():
        sys.exit(f"make-mirror: {shared} is not laid out — run `python {shared / 'prepare.py'}` first")
    out.mkdir(parents=True, exist_ok=True)
    for gz in sorted((shared / "FashionMNIST" / "raw").glob("*.gz")):
        shutil.copyfile(gz, out / gz.name)
    with tarfile.open(out / "cifar-10-python.tar.gz", "w:gz", compresslevel=1) as tar:
        tar.add(batches, arcname="cifar-10-batches-py")
    imagenette(shared / "imagenet-sample", out / "imagenette2-320.tgz")
    names = sorted(p.name for p in out.iterdir() if p.name != "MD5SUMS")
    (out / "MD5SUMS").write_text("".join(f"{md5(out / n)}  {n}\n" for n in names))
    print(f"mirror: {out} ({', '.join(names)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
