"""§7's ablation models: one middle conv layer removed, everything else unchanged."""
import pytest
import torch

from alexnet.config import resolve
from alexnet.models import alexnet_paper, alexnet_small, build_model, count_parameters
from alexnet.models.depth import AlexNetWithout, register_models, without



@pytest.mark.parametrize("layer", ["conv3", "conv4", "conv5"])
def test_removing_a_layer_changes_only_it_and_its_neighbour(layer):
    full = alexnet_paper()
    cut = without(full, layer)
    assert isinstance(getattr(cut, layer), torch.nn.Identity)
    assert cut(torch.zeros(2, 3, 227, 227)).shape == (2, 1000)
    # Parameter change by hand from §3.5's widths (96, 256, 384, 384, 256; groups 2 in conv4/5).
    conv3, conv4, conv5 = 256 * 384 * 9 + 384, 384 * 384 * 9 // 2 + 384, 384 * 256 * 9 // 2 + 256
    lost = {"conv3": conv3 + conv4 - (256 * 384 * 9 // 2 + 384),        # conv4 now reads 256 channels
            "conv4": conv4 + conv5 - (384 * 256 * 9 // 2 + 256),        # conv5 reads conv3's 384: same
            "conv5": conv5 - (384 - 256) * 36 * 4096}                   # fc6 reads 384x6x6
    assert count_parameters(full) - count_parameters(cut) == lost[layer]


def test_small_model_through_the_registry_with_config_init():
    names = register_models()
    assert "alexnet_small_no_conv4" in names
    cfg = resolve("smoke", ["model=alexnet_small_no_conv4"])
    model = build_model(cfg, 10, 3)
    assert isinstance(model, AlexNetWithout) and model.removed == "conv4"
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
    assert model.conv5.bias.mean().item() == 1.0               # §5 init reached the new conv5


def test_unknown_layer_is_refused():
    with pytest.raises(ValueError, match="conv3, conv4, conv5"):
        AlexNetWithout(alexnet_small().spec, "conv2")
