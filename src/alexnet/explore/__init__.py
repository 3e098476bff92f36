"""Explorers: interactive figures a chapter shows in one line (`explore.lrn()`), live in the
rendered page without a kernel and, in JupyterLab, computing with the package (`page`)."""
from .augmentation import augmentation
from .curves import curves
from .lrn import lrn
from .saturation import saturation

__all__ = ["augmentation", "curves", "lrn", "saturation"]
