"""Fetching the small datasets when asked (`download=true`, `make data`): Fashion-MNIST and
CIFAR-10 from torchvision's published URLs with its md5 sums, and the 10-class ImageNet
sample from Imagenette (fast.ai's public 10-class subset of ILSVRC-2012; torchvision lists
its md5 too). ImageNet itself is never downloaded.

Each file is streamed (with a progress bar) into a hidden folder under the data root, checked
against its md5, unpacked there, and only then renamed into place: a checksum failure, a cut
transfer or a dropped connection raises one `DataError` line naming the file and leaves
nothing where the loaders read. `ALEXNET_MIRROR=URL` replaces the public hosts (every file is
fetched from URL/<file name>); a `MD5SUMS` file at the mirror (md5sum's format) replaces the
published sums of the files it lists, for mirrors of rebuilt copies (and for the tests).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

from .registry import DataError

MIRROR_ENV = "ALEXNET_MIRROR"
# Shorter side 320: §2's rescale to 256 then shrinks the photos, as it does ILSVRC's (the
# 160 px release would be enlarged); the full-size release is 1.5 GB.
IMAGENETTE = "320px"
SAMPLE = {"train": 100, "val": 40}      # images per class: the offline sample's counts (SOURCES.md)
TITLES = {"fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10",
          "imagenet_sample": "the ImageNet sample (Imagenette)"}
TIMEOUT_S = 30                          # per connect or read: a stalled server fails, a slow one does not
TAR_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


class Unreachable(DataError):
    """No answer from the host at all (offline, DNS, refused): later files would fail the same way."""

    def __init__(self, message: str, host: str = "", why: str = ""):
        super().__init__(message)
        self.host, self.why = host, why


@dataclass(frozen=True)
class Remote:
    url: str
    md5: str

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


def published() -> dict[str, list[Remote]]:
    """Each dataset's files with the md5 sums torchvision publishes for them."""
    from torchvision.datasets import CIFAR10, FashionMNIST, Imagenette
    return {"fashion_mnist": [Remote(FashionMNIST.mirrors[0] + name, md5) for name, md5 in FashionMNIST.resources],
            "cifar10": [Remote(CIFAR10.url, CIFAR10.tgz_md5)],
            "imagenet_sample": [Remote(*Imagenette._ARCHIVES[IMAGENETTE])]}


def sources(dataset: str, table: dict | None = None) -> list[Remote]:
    """`dataset`'s files from `table` (default: `published()`), with $ALEXNET_MIRROR's host
    and, where the mirror has a MD5SUMS, its sums."""
    files = (table or published())[dataset]
    mirror = os.environ.get(MIRROR_ENV, "").rstrip("/")
    if not mirror:
        return files
    sums = mirror_sums(mirror)
    return [Remote(f"{mirror}/{f.name}", sums.get(f.name, f.md5)) for f in files]


def mirror_sums(mirror: str) -> dict[str, str]:
    """{file name: md5} from the mirror's MD5SUMS; {} when it has none or cannot be reached
    (the files' own fetch then says what is wrong)."""
    try:
        with urllib.request.urlopen(f"{mirror}/MD5SUMS", timeout=TIMEOUT_S) as resp:
            text = resp.read().decode()
    except (OSError, http.client.HTTPException, UnicodeDecodeError):
        return {}
    rows = (line.split(None, 1) for line in text.splitlines() if line.strip())
    return {name.strip().lstrip("*"): md5.lower() for md5, name in rows}


# --- one file -----------------------------------------------------------------------------
def stream(remote: Remote, dest: Path, by_hand: str) -> Path:
    """remote -> dest with a progress bar, checked against its md5; a DataError line otherwise
    (the caller removes what was written)."""
    from torchvision.datasets.utils import USER_AGENT
    from tqdm.auto import tqdm
    host, got, md5 = urllib.parse.urlsplit(remote.url).netloc, 0, hashlib.md5()
    try:                            # torchvision's user agent: some hosts refuse Python's default one
        resp = urllib.request.urlopen(urllib.request.Request(remote.url, headers={"User-Agent": USER_AGENT}),
                                      timeout=TIMEOUT_S)
    except urllib.error.HTTPError as err:
        raise DataError(f"{remote.url} answered HTTP {err.code} ({err.reason}) — {by_hand}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", None) or err
        if isinstance(reason, (ConnectionResetError, http.client.HTTPException)):   # it answered, then hung up
            raise DataError(f"{remote.name}: {host} dropped the connection ({reason}) — nothing was kept; "
                            "run again") from None
        raise Unreachable(f"cannot fetch {remote.name} from {host} ({reason}): offline? {by_hand}",
                          host, str(reason)) from None
    total = int(resp.headers.get("Content-Length") or 0)
    try:
        with resp, open(dest, "wb") as f, tqdm(total=total or None, unit="B", unit_scale=True,
                                               unit_divisor=1024, desc=remote.name) as bar:
            while block := resp.read(1 << 16):
                f.write(block)
                md5.update(block)
                got += len(block)
                bar.update(len(block))
    except (OSError, http.client.HTTPException) as err:
        raise DataError(f"{remote.name}: the transfer from {host} broke off after {got:,} bytes "
                        f"({type(err).__name__}: {err}) — nothing was kept; run again") from None
    if total and got != total:
        raise DataError(f"{remote.name}: {host} sent {got:,} of its {total:,} bytes (cut off) — nothing "
                        "was kept; run again")
    if md5.hexdigest() != remote.md5:
        dest.unlink()
        raise DataError(f"{remote.name} from {host} has md5 {md5.hexdigest()} where {remote.md5} was expected "
                        f"— the file was removed; run again, or {by_hand}")
    return dest


# --- unpacking, each into a staging folder laid out as the loader reads -------------------
def unpack_fashion(archives: list[Path], out: Path) -> None:
    """The four .gz files are what the loader reads: FashionMNIST/raw/*.gz."""
    raw = out / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for path in archives:
        path.rename(raw / path.name)


def unpack_cifar(archives: list[Path], out: Path) -> None:
    """cifar-10-batches-py/ and the files directly in it, from cifar-10-python.tar.gz."""
    folder = out / "cifar-10-batches-py"
    folder.mkdir()
    with _tar(archives[0]) as tar:
        for m in tar:
            parts = m.name.removeprefix("./").split("/")
            if m.isfile() and len(parts) == 2 and parts[0] == folder.name and not parts[1].startswith("."):
                _extract(tar, m, folder / parts[1])


IMAGENETTE_IMAGE = re.compile(r"^(?:\./)?[^/]+/(train|val)/(n\d{8})/[^/]+\.JPEG$")


def unpack_imagenette(archives: list[Path], out: Path) -> None:
    """imagenet-sample/{train,val}/<wnid>/ with SAMPLE's images per class, evenly spaced in
    sorted name order (as the offline copy was taken); natural/<wnid>/<wnid>_<name>.JPEG, the
    first training photo of each class left out of train/; classes.tsv (wnid, name)."""
    from torchvision.datasets import Imagenette
    from .images import evenly
    sample = out / "imagenet-sample"
    with _tar(archives[0]) as tar:
        groups: dict[tuple[str, str], list] = {}
        for m in tar.getmembers():
            match = IMAGENETTE_IMAGE.match(m.name)
            if m.isfile() and match:
                groups.setdefault(match.groups(), []).append(m)
        wnids = sorted({wnid for _, wnid in groups})
        if not wnids or any((split, w) not in groups for split in SAMPLE for w in wnids):
            raise DataError(f"{archives[0].name} holds no <dir>/train/<wnid>/*.JPEG and val/<wnid>/*.JPEG "
                            "for every class — not an Imagenette release")
        picks = []                                          # (member, destination)
        for (split, wnid), members in groups.items():
            members.sort(key=lambda m: m.name)
            chosen = evenly(members, SAMPLE[split])
            picks += [(m, sample / split / wnid / Path(m.name).name) for m in chosen]
            rest = [m for m in members if m not in chosen]
            if split == "train" and rest:
                name = Imagenette._WNID_TO_CLASS.get(wnid, (wnid,))[0].replace(" ", "_")
                picks.append((rest[0], sample / "natural" / wnid / f"{wnid}_{name}.JPEG"))
        for m, dest in sorted(picks, key=lambda p: p[0].offset_data):   # one forward pass
            dest.parent.mkdir(parents=True, exist_ok=True)
            _extract(tar, m, dest)
    rows = [f"{w}\t{Imagenette._WNID_TO_CLASS.get(w, (w,))[0]}" for w in wnids]
    (sample / "classes.tsv").write_text("wnid\tname\n" + "\n".join(rows) + "\n")


def _tar(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:*")
    except TAR_ERRORS as err:
        raise DataError(f"{path.name} is not a readable archive ({err}) — run again") from None


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path) -> None:
    """One member's bytes to a path we chose (never a name from the archive: no path traversal)."""
    try:
        with tar.extractfile(member) as src, open(dest, "wb") as f:
            shutil.copyfileobj(src, f)
    except TAR_ERRORS as err:
        raise DataError(f"{Path(tar.name).name} is truncated or corrupt at {member.name} ({err}) — "
                        "run again") from None


UNPACK = {"fashion_mnist": unpack_fashion, "cifar10": unpack_cifar, "imagenet_sample": unpack_imagenette}
BY_HAND = {  # what to do without this code: {urls} are the files, {root} the data root
    "fashion_mnist": "download {urls} by hand into {root}/FashionMNIST/raw/",
    "cifar10": "download {urls} by hand and extract it in {root}/ (it holds cifar-10-batches-py/)",
    "imagenet_sample": "download {urls} by hand, extract it and rename its folder to {root}/imagenet-sample/",
}


# --- a whole dataset ----------------------------------------------------------------------
def fetch(dataset: str, root: Path, verify=None, table: dict | None = None, log=print) -> None:
    """Download `dataset` into `root` (created if needed): staged in a hidden folder there, checked
    by `verify(staged root)` (the loader's own finder, raising DataError), and moved into place only
    when every file is whole and checked; what is already in place stays."""
    if dataset not in UNPACK:
        what = "ImageNet is never downloaded" if dataset == "imagenet" else f"dataset={dataset} has no download"
        raise DataError(f"{what}; download=true fetches {', '.join(UNPACK)}")
    remotes, root = sources(dataset, table), Path(root)
    by_hand = BY_HAND[dataset].format(urls=" ".join(r.url for r in remotes), root=root)
    created = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".download-{dataset}-", dir=root))
    except OSError as err:
        raise DataError(f"cannot write in {root} ({err.strerror}) — give download=true a writable data=") from None
    try:
        archives = [stream(r, stage / r.name, by_hand) for r in remotes]
        (stage / "out").mkdir()
        UNPACK[dataset](archives, stage / "out")
        if verify is not None:
            try:
                verify(stage / "out")
            except DataError as err:
                why = str(err).split(" — ")[0].replace(str(stage / "out"), str(root))
                raise DataError(f"{' '.join(a.name for a in archives)} do not hold {TITLES[dataset]} as the "
                                f"loader reads it ({why}) — nothing was kept") from None
        publish(stage / "out", root)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if created and not any(root.iterdir()):
            root.rmdir()                    # a failed first download leaves no empty data root behind
    log(f"downloaded {TITLES[dataset]} into {root}")


def publish(src: Path, dst: Path) -> None:
    """Move src's tree into dst: a folder dst lacks goes in whole (one rename), and inside
    folders dst has, only the files it lacks (what is there is left alone)."""
    for item in sorted(src.iterdir()):
        target = dst / item.name
        if not target.exists():
            os.rename(item, target)
        elif item.is_dir() and target.is_dir():
            publish(item, target)
