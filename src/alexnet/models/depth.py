"""§7's ablation: AlexNet with one middle convolutional layer removed.

"Our network's performance degrades if a single convolutional layer is removed. For
example, removing any of the middle layers results in a loss of about 2% for the top-1
performance of the network." (§7)

`AlexNetWithout(spec, "conv4")` is the same network with conv4 gone: its successor takes
the channels that conv4 would have received (conv3's output feeds conv5 directly), so
nothing else changes — not the pooling, not the FC layers (except fc6's input width when
conv5 goes, since pool5 then sees conv4's channels).
"""
from __future__ import annotations

from torch import nn

from .alexnet import AlexNet, AlexNetSpec
from .registry import MODELS, register

MIDDLE = ("conv3", "conv4", "conv5")


class AlexNetWithout(AlexNet):
    """An `AlexNet` whose `removed` layer (conv3, conv4 or conv5) is the identity."""

    def __init__(self, spec: AlexNetSpec, removed: str):
        if removed not in MIDDLE:
            raise ValueError(f"can remove one of {', '.join(MIDDLE)}, not {removed!r}")
        super().__init__(spec)
        self.removed = removed
        w = dict(zip(("conv1", "conv2", "conv3", "conv4", "conv5"), spec.widths))
        g = spec.columns
        # The ReLU after an identity layer is the identity too: its input is already >= 0.
        setattr(self, removed, nn.Identity())
        if removed == "conv3":      # conv4 now reads conv2's (pooled) output; keeps its columns
            self.conv4 = nn.Conv2d(w["conv2"], w["conv4"], 3, padding=1, groups=g)
        elif removed == "conv4":    # conv5 reads conv3's output
            self.conv5 = nn.Conv2d(w["conv3"], w["conv5"], 3, padding=1, groups=g)
        else:                       # pool5 sees conv4's channels, so fc6 is that much wider
            side = spec.feature_side()
            self.fc6 = nn.Linear(w["conv4"] * side * side, spec.fc)


def without(model: AlexNet, removed: str) -> AlexNetWithout:
    """A fresh (uninitialised) copy of `model`'s architecture minus `removed`."""
    return AlexNetWithout(model.spec, removed)


def register_models() -> list[str]:
    """Make `alexnet_small_no_conv3` ... `alexnet_paper_no_conv5` available as `model=`
    (done when this module is imported; the factories take the same switches as their bases)."""
    names = []
    for base in ("alexnet_small", "alexnet_paper"):
        for layer in MIDDLE:
            name = f"{base}_no_{layer}"
            if name not in MODELS:
                register(name, lambda cfg, nc, ic, base=base, layer=layer:
                         without(MODELS[base](cfg, nc, ic), layer))
            names.append(name)
    return names


register_models()
