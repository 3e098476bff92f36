"""download=true against a local HTTP server (issue 28): tiny archives in the real formats
served on 127.0.0.1 through ALEXNET_MIRROR, their md5 sums through the mirror's MD5SUMS. A
good download is a dataset the loader reads; a bad checksum, a truncated transfer, a dropped
connection and no server at all are each one line, with nothing partial left under the root."""
import hashlib
import http.server
import io
import socket
import struct
import tarfile
import threading

import numpy as np
import pytest
from PIL import Image

from alexnet.config import resolve
from alexnet.data import DataError, load_data
from alexnet.data import download
from test_data_imagenet import photo
from test_data_small import cifar_folder, fashion_folder

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),   # tiny sets: "not the release's size"
              pytest.mark.filterwarnings("ignore:The image decoding:DeprecationWarning")]
WNIDS = ("n01440764", "n03888257")                                  # tench, parachute


class Mirror(http.server.ThreadingHTTPServer):
    """Serves `files` {name: bytes} and a MD5SUMS of them (`sums` overrides entries); a name in
    `cut` promises more bytes than it sends, one in `drop` gets its connection closed unanswered,
    one in `reset` gets half its bytes and then a TCP reset."""
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files, self.sums, self.cut, self.drop, self.reset = {}, {}, set(), set(), set()
        self.url = f"http://127.0.0.1:{self.server_port}"

    def md5sums(self) -> bytes:
        sums = {n: hashlib.md5(b).hexdigest() for n, b in self.files.items()} | self.sums
        return "".join(f"{md5}  {name}\n" for name, md5 in sums.items()).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name, srv = self.path.lstrip("/"), self.server
        body = srv.md5sums() if name == "MD5SUMS" else srv.files.get(name)
        if name in srv.drop:
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + (4096 if name in srv.cut else 0)))
        self.end_headers()
        if name in srv.reset:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(monkeypatch, tmp_path):
    srv = Mirror()
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    monkeypatch.setenv(download.MIRROR_ENV, srv.url)
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    yield srv
    srv.shutdown()
    srv.server_close()


def tgz(folder, arcname) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder, arcname=arcname)
    return buf.getvalue()


def serve_fashion(srv, tmp_path):
    arrays = fashion_folder(tmp_path / "src", compress=True)
    for path in (tmp_path / "src" / "FashionMNIST" / "raw").iterdir():
        srv.files[path.name] = path.read_bytes()
    return arrays


def serve_cifar(srv, tmp_path):
    written = cifar_folder(tmp_path / "src")
    srv.files["cifar-10-python.tar.gz"] = tgz(tmp_path / "src" / "cifar-10-batches-py", "cifar-10-batches-py")
    return written


def serve_imagenette(srv, tmp_path, monkeypatch):
    """imagenette2-320/{train,val}/<wnid>/ with 4 train and 3 val photos per class; the sample
    keeps 3 and 2 (so one training photo per class is left for natural/)."""
    monkeypatch.setattr(download, "SAMPLE", {"train": 3, "val": 2})
    base = tmp_path / "src" / "imagenette2-320"
    for split, n in (("train", 4), ("val", 3)):
        for c, wnid in enumerate(WNIDS):
            (base / split / wnid).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(photo(320, 400 + 20 * i, 10 * c + i)).save(base / split / wnid / f"{wnid}_{i}.JPEG")
    (base / "noisy_imagenette.csv").write_text("path,noisy_labels_0\n")
    srv.files["imagenette2-320.tgz"] = tgz(base, "imagenette2-320")


def cfg_for(root, dataset, **kw):
    size = dict(fashion_mnist=28, cifar10=32, imagenet_sample=224)[dataset]
    return resolve("smoke", dict(dict(dataset=dataset, data=str(root), image_size=size, batch_size=4,
                                      augment="none", train_limit=0, val_limit=0, download=True), **kw))


def leftovers(root):
    """Anything under root but the finished datasets: staging folders, archives."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".") or p.suffix in (".gz", ".tgz"))


def test_published_sums_are_torchvisions():
    table = download.published()
    assert {r.name: r.md5 for r in table["fashion_mnist"]} == {          # SOURCES.md, the original release
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}
    assert table["cifar10"][0].md5 == "c58f30108f718f92721af3b95e74349a"
    assert table["imagenet_sample"][0].url == "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-320.tgz"


def test_mirror_replaces_hosts_and_sums(mirror):
    mirror.sums["cifar-10-python.tar.gz"] = "0" * 32
    (remote,) = download.sources("cifar10")
    assert remote == download.Remote(f"{mirror.url}/cifar-10-python.tar.gz", "0" * 32)
    (remote,) = download.sources("imagenet_sample")            # not in MD5SUMS: the published sum
    assert remote.md5 == download.published()["imagenet_sample"][0].md5


def test_good_fashion_mnist_download_loads(mirror, tmp_path):
    arrays = serve_fashion(mirror, tmp_path)
    root = tmp_path / "data"
    data = load_data(cfg_for(root, "fashion_mnist"))
    assert data.classes[9] == "Ankle boot" and leftovers(root) == []
    assert sorted(p.name for p in (root / "FashionMNIST" / "raw").iterdir()) == sorted(mirror.files)
    _, y = next(data.val.batches(0))
    np.testing.assert_array_equal(y.numpy(), arrays["test"][1][:4])


def test_good_cifar_download_loads_and_keeps_no_archive(mirror, tmp_path):
    written = serve_cifar(mirror, tmp_path)
    root = tmp_path / "data"
    data = load_data(cfg_for(root, "cifar10"))
    assert data.classes[3] == "class3" and leftovers(root) == []
    _, y = next(data.val.batches(0))
    assert y.tolist() == written["test_batch"][1]


def test_good_imagenette_download_is_the_sample_layout(mirror, tmp_path, monkeypatch):
    serve_imagenette(mirror, tmp_path, monkeypatch)
    root = tmp_path / "data"
    data = load_data(cfg_for(root, "imagenet_sample"))
    sample = root / "imagenet-sample"
    assert data.classes == list(WNIDS) and data.fingerprint["n_train"] == 6 and data.fingerprint["n_val"] == 4
    assert sorted(p.name for p in (sample / "train" / WNIDS[0]).iterdir()) == [f"{WNIDS[0]}_{i}.JPEG" for i in range(3)]
    assert [p.name for p in (sample / "natural" / WNIDS[1]).iterdir()] == [f"{WNIDS[1]}_parachute.JPEG"]
    assert (sample / "natural" / WNIDS[1] / f"{WNIDS[1]}_parachute.JPEG").read_bytes() == \
        (tmp_path / "src" / "imagenette2-320" / "train" / WNIDS[1] / f"{WNIDS[1]}_3.JPEG").read_bytes()
    assert (sample / "classes.tsv").read_text() == f"wnid\tname\n{WNIDS[0]}\ttench\n{WNIDS[1]}\tparachute\n"
    assert leftovers(root) == []


def test_download_completes_a_partial_folder_and_keeps_what_is_there(mirror, tmp_path):
    serve_fashion(mirror, tmp_path)
    raw = tmp_path / "data" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(mirror.files["t10k-labels-idx1-ubyte.gz"])
    before = (raw / "t10k-labels-idx1-ubyte.gz").stat().st_mtime_ns
    load_data(cfg_for(tmp_path / "data", "fashion_mnist"))
    assert len(list(raw.iterdir())) == 4 and (raw / "t10k-labels-idx1-ubyte.gz").stat().st_mtime_ns == before


FAULTS = {  # how the server misbehaves -> what the one line says
    "checksum": (lambda srv, name: srv.sums.__setitem__(name, "0" * 32), r"has md5 \w+ where 0{32} was expected "
                 r"— the file was removed"),
    "truncated": (lambda srv, name: srv.cut.add(name), r"sent \d[\d,]* of its [\d,]+ bytes \(cut off\)"),
    "dropped": (lambda srv, name: srv.drop.add(name), r"dropped the connection .* nothing was kept"),
    "reset": (lambda srv, name: srv.reset.add(name), r"broke off after [\d,]+ bytes|sent [\d,]+ of its|has md5"),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("dataset", ["fashion_mnist", "cifar10"])
def test_fault_is_one_line_and_leaves_nothing(mirror, tmp_path, fault, dataset):
    (serve_fashion if dataset == "fashion_mnist" else serve_cifar)(mirror, tmp_path)
    name = sorted(mirror.files)[-1]                      # fashion: the last of four, after three good ones
    damage, message = FAULTS[fault]
    damage(mirror, name)
    root = tmp_path / "data"
    root.mkdir()
    (root / "README.md").write_text("the repository's data/")
    with pytest.raises(DataError, match=rf"{name}.*{message}|{message}.*{name}") as err:
        load_data(cfg_for(root, dataset))
    assert "\n" not in str(err.value)
    assert [p.name for p in root.iterdir()] == ["README.md"]     # no staging folder, no file, no dataset


def test_bad_imagenette_checksum_leaves_no_sample(mirror, tmp_path, monkeypatch):
    serve_imagenette(mirror, tmp_path, monkeypatch)
    mirror.sums["imagenette2-320.tgz"] = "f" * 32
    with pytest.raises(DataError, match="imagenette2-320.tgz .*where f{32} was expected"):
        load_data(cfg_for(tmp_path / "data", "imagenet_sample"))
    assert not (tmp_path / "data").exists()


def test_offline_says_what_and_how_by_hand(tmp_path, monkeypatch):
    with socket.socket() as s:                           # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(download.MIRROR_ENV, f"http://127.0.0.1:{port}")
    with pytest.raises(download.Unreachable, match=r"cannot fetch cifar-10-python.tar.gz from 127.0.0.1.*offline\? "
                                                   r"download http://127.0.0.1:\d+/cifar-10-python.tar.gz by hand"):
        load_data(cfg_for(tmp_path / "data", "cifar10"))
    assert not (tmp_path / "data").exists()              # the data root it would have created


def test_archive_without_the_dataset_publishes_nothing(mirror, tmp_path):
    (tmp_path / "src" / "cifar-10-batches-py").mkdir(parents=True)
    (tmp_path / "src" / "cifar-10-batches-py" / "readme.html").write_text("no batches")
    mirror.files["cifar-10-python.tar.gz"] = tgz(tmp_path / "src" / "cifar-10-batches-py", "cifar-10-batches-py")
    with pytest.raises(DataError, match=r"cifar-10-python.tar.gz do not hold CIFAR-10 .*missing: data_batch_1"):
        load_data(cfg_for(tmp_path / "data", "cifar10"))
    assert not (tmp_path / "data").exists()


def test_imagenet_is_never_downloaded_and_missing_data_mentions_download(tmp_path):
    with pytest.raises(DataError, match="ImageNet is never downloaded"):
        load_data(cfg_for(tmp_path, "imagenet_sample").replace(dataset="imagenet"))
    with pytest.raises(DataError, match="add download=true"):
        load_data(cfg_for(tmp_path, "cifar10", download=False))
    assert list(tmp_path.iterdir()) == []


# --- scripts/find-data.py: how `make book`, `make lab` and `make data` get their data ---------
@pytest.fixture
def find_data(tmp_path, monkeypatch):
    """The script as a module, on a machine without ../shared/data and without ALEXNET_DATA,
    whose data root is tmp_path/data."""
    import importlib.util
    from conftest import ROOT
    spec = importlib.util.spec_from_file_location("find_data", ROOT / "scripts" / "find-data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "PREPARE", tmp_path / "no-shared" / "prepare.py")
    monkeypatch.delenv("ALEXNET_DATA", raising=False)
    monkeypatch.setattr("alexnet.data.data_root", lambda cfg=None: tmp_path / "data")
    return module


def test_book_offline_says_once_what_it_leaves_out(find_data, tmp_path, monkeypatch, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        monkeypatch.setenv(download.MIRROR_ENV, f"http://127.0.0.1:{s.getsockname()[1]}")
    assert find_data.main(["book"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith("book: left out Fashion-MNIST, CIFAR-10, the ImageNet sample (Imagenette) — cannot reach "
                          "127.0.0.1:")
    assert find_data.main(["data"]) == 1                 # make data: the same line, and a failure
    assert not (tmp_path / "data").exists()


def test_book_downloads_what_is_missing_then_nothing(find_data, mirror, tmp_path, monkeypatch, capsys):
    serve_fashion(mirror, tmp_path)
    serve_cifar(mirror, tmp_path)
    serve_imagenette(mirror, tmp_path, monkeypatch)
    assert find_data.main(["book"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "left out" not in err
    root = tmp_path / "data"
    assert sorted(p.name for p in root.iterdir()) == ["FashionMNIST", "cifar-10-batches-py", "imagenet-sample"]
    mirror.files.clear()                                 # everything is there: nothing is fetched
    assert find_data.main(["book"]) == 0 and capsys.readouterr() == ("", "")
