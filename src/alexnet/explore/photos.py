"""The real photos the explorers show: the ImageNet sample's `natural/` folder (one
full-resolution photo per class), under the data root ($ALEXNET_DATA, else data/)."""
from __future__ import annotations

from ..data import data_root
from ..data.images import list_images, load_256

MISSING = ("Data not found: the 10-class ImageNet sample (imagenet-sample/natural/) is not under the data "
           "root ($ALEXNET_DATA, else the repository's data/); `make data` lays it out (see How to run).")


def names() -> list[str]:
    """The sample's photos by class name ('tench', 'church', ...); [] without the data."""
    return [name for name, _ in _photos()]


def load(name: str):
    """uint8 (3, 256, 256): the photo of class `name`, §2's preprocessing (`data.images.load_256`)."""
    return load_256(dict(_photos())[name])


def _photos():
    folder = data_root() / "imagenet-sample" / "natural"
    if not folder.is_dir():
        return []
    found = [(p.stem.split("_", 1)[-1].replace("_", " "), p) for d in sorted(folder.iterdir()) if d.is_dir()
             for p in list_images(d)[:1]]
    return found
