"""VGG (Simonyan & Zisserman 2014): Table 2's parameter counts, torchvision as a second
implementation, dense evaluation, receptive fields, A's layers reused, scale augmentation."""
import pytest
import torch
import torchvision
from torch import nn

from alexnet.config import resolve
from alexnet.data.augment import grid_offsets, rescale, scale_crop_flip
from alexnet.data.scale import ScaleLoader, cpu_scale
from alexnet.evaluation.vgg_dense import (ImageSet, dense_posteriors, errors, fuse, grid_crops, multicrop_posteriors,
                                    posteriors, to_dense)
from alexnet.models import build_model, count_parameters
from alexnet.models.vgg import (CONFIGS, VGG, WEIGHT_LAYERS, conv_names, init_from_a, init_vgg,
                                receptive_field, stack_cost, vgg, vgg_small)

# Exact counts at 224x224x3, 1,000 classes. A, B, D, E equal torchvision's vgg11/13/16/19;
# C is D with the third conv of blocks 3-5 1x1 instead of 3x3: 8 (256^2 + 2 * 512^2) fewer weights.
EXACT = {"A": 132_863_336, "A-LRN": 132_863_336, "B": 133_047_848,
         "C": 138_357_544 - 8 * (256 ** 2 + 2 * 512 ** 2), "D": 138_357_544, "E": 143_667_240}
TABLE2 = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}      # millions, Table 2
TORCHVISION = {"A": "vgg11", "B": "vgg13", "D": "vgg16", "E": "vgg19"}


@pytest.mark.parametrize("config", list(CONFIGS))
def test_parameter_counts_match_table_2(config):
    with torch.device("meta"):                       # shapes only: no 0.5 GB of weights
        model = vgg(config)
    n = count_parameters(model)
    assert n == EXACT[config]
    assert round(n / 1e6) == TABLE2[config]
    assert len(conv_names(config)) + 3 == WEIGHT_LAYERS[config]


def _copy_from_torchvision(ref: nn.Module, config: str) -> VGG:
    """Our net with torchvision's weights, layer by layer in order."""
    with torch.device("meta"):
        ours = vgg(config)
    convs = [m for m in ref.features if isinstance(m, nn.Conv2d)]
    fcs = [m for m in ref.classifier if isinstance(m, nn.Linear)]
    state = {f"features.{n}.{p}": getattr(m, p) for n, m in zip(conv_names(config), convs)
             for p in ("weight", "bias")}
    state.update({f"{n}.{p}": getattr(m, p) for n, m in zip(("fc6", "fc7", "fc8"), fcs)
                  for p in ("weight", "bias")})
    ours.load_state_dict(state, assign=True)
    return ours


@pytest.mark.parametrize("config", ["A", "D"])
def test_same_function_as_torchvision_and_dense_twin(config):
    torch.manual_seed(0)
    ref = getattr(torchvision.models, TORCHVISION[config])().eval()
    assert count_parameters(ref) == EXACT[config]
    ours = _copy_from_torchvision(ref, config).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        out = ours(x)
        torch.testing.assert_close(out, ref(x), rtol=1e-4, atol=1e-5)
        # fc6 -> 7x7 conv, fc7/fc8 -> 1x1 convs: the same scores at 224, a 1x1 score map
        dense = to_dense(ours)
        assert dense.fc6.kernel_size == (7, 7) and dense.fc8.kernel_size == (1, 1)
        torch.testing.assert_close(dense(x)[:, :, 0, 0], out, rtol=1e-4, atol=1e-5)


def test_torchvision_counts_b_and_e():
    for config in ("B", "E"):
        with torch.device("meta"):
            assert count_parameters(getattr(torchvision.models, TORCHVISION[config])()) == EXACT[config]


def test_dense_twin_on_larger_inputs_gives_a_score_map():
    torch.manual_seed(0)
    model = VGG("A", num_classes=7, input_size=64, width=1 / 8, fc=32).eval()   # fc6 is a 2x2 conv here
    dense = to_dense(model)
    assert dense.fc6.kernel_size == (2, 2)
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(dense(x).flatten(1), model(x), rtol=1e-5, atol=1e-6)
        big = torch.randn(2, 3, 128, 160)
        scores = dense(big)                                  # 128/32 - 1 = 3, 160/32 - 1 = 4
        assert scores.shape == (2, 7, 3, 4)
        # a map position is *not* the net on its 64x64 window alone: dense evaluation sees the
        # window's real neighbours where a crop sees zero padding (§3.2's point about context)
        assert not torch.allclose(scores[:, :, 1, 2], model(big[:, :, 32:96, 64:128]), atol=1e-4)


def test_multicrop_and_dense_agree_at_the_crop_size():
    torch.manual_seed(0)
    model = vgg_small("A", num_classes=5).eval()
    x = torch.randn(4, 3, 32, 32)
    dense = dense_posteriors(to_dense(model), x)             # image + flip
    crops = multicrop_posteriors(model, x, crop=32, grid=1)  # one crop (the image) + its flip
    torch.testing.assert_close(dense, crops, rtol=1e-5, atol=1e-6)
    assert grid_crops(torch.randn(2, 3, 40, 40), 32, grid=5).shape == (2, 50, 3, 32, 32)
    assert grid_offsets(40, 32, 5) == [0, 2, 4, 6, 8] and grid_offsets(40, 32, 1) == [4]


def test_posteriors_methods_and_fusion():
    torch.manual_seed(0)
    model = vgg_small("A", num_classes=5).eval()
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    p = {m: posteriors(model, ImageSet(images, [0.5] * 3, [0.25] * 3, batch_size=4), 40, m, grid=2)
         for m in ("dense", "multi-crop", "dense+multi-crop")}
    for v in p.values():
        assert v.shape == (6, 5) and torch.allclose(v.sum(1), torch.ones(6))
    torch.testing.assert_close(p["dense+multi-crop"], fuse(p["dense"], p["multi-crop"]))
    y = torch.tensor([0, 1, 2, 3, 4, 0])
    onehot = torch.eye(5)[y]
    assert errors(onehot, y) == dict(top1_err=0.0, top5_err=0.0)
    with pytest.raises(ValueError, match="smaller than"):
        posteriors(model, ImageSet(images, [0.5] * 3, [0.25] * 3), 24)


def test_receptive_fields_of_stacked_3x3():
    assert [receptive_field([(3, 1)] * n) for n in (1, 2, 3)] == [3, 5, 7]
    cost = stack_cost(3, 64)
    assert cost["stacked"] == 27 * 64 ** 2 and cost["single"] == 49 * 64 ** 2
    assert round(cost["single"] / cost["stacked"] - 1, 2) == 0.81      # §2.3: "81% more"
    assert stack_cost(2, 8)["field"] == 5 and stack_cost(2, 8)["single"] == 25 * 64


@pytest.mark.parametrize("layers", [[(3, 1)] * 2, [(3, 1)] * 3, [(3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)]])
def test_receptive_field_against_gradients(layers):
    """Second implementation: the input pixels a centre output depends on (non-zero gradient)."""
    net = nn.Sequential(*[nn.Conv2d(1, 1, k, s, bias=False) if s == 1 else nn.AvgPool2d(k, s)
                          for k, s in layers])
    for m in net:
        if isinstance(m, nn.Conv2d):
            nn.init.constant_(m.weight, 1.0)
    x = torch.zeros(1, 1, 64, 64, requires_grad=True)
    out = net(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero()
    assert int(rows.max() - rows.min() + 1) == receptive_field(layers)


def test_init_vgg_and_a_layers_reused():
    a = init_vgg(vgg_small("A"))
    w = torch.cat([m.weight.detach().flatten() for m in a.modules() if isinstance(m, (nn.Conv2d, nn.Linear))])
    assert abs(float(w.std()) - 0.01) < 1e-3
    assert all(float(m.bias.detach().abs().sum()) == 0 for m in a.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    for config in ("B", "C", "D", "E"):
        deep = init_vgg(vgg_small(config), std=0.5)
        init_from_a(deep, a)
        for name in ("conv1_1", "conv2_1", "conv3_1", "conv3_2"):
            assert torch.equal(getattr(deep.features, name).weight, getattr(a.features, name).weight)
        assert torch.equal(deep.fc6.weight, a.fc6.weight) and torch.equal(deep.fc8.bias, a.fc8.bias)
        assert not torch.equal(deep.features.conv1_2.weight[:1], a.features.conv1_1.weight[:1])


def test_registry_lrn_and_bad_input():
    cfg = resolve("smoke", {"model": "vgg_a_lrn_small", "init": "vgg"})
    model = build_model(cfg, 10, 3)
    assert "norm1" in dict(model.features.named_children())
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert float(model.fc6.bias.detach().abs().sum()) == 0                      # not AlexNet's bias 1
    with pytest.raises(ValueError, match="choose one of"):
        VGG("F")
    with pytest.raises(ValueError, match="too small"):
        VGG("A", input_size=16)


def test_scale_augmentation():
    assert cpu_scale(256) == (37, 37) and cpu_scale((256, 512)) == (37, 73)
    assert cpu_scale((256, 512), crop=224) == (256, 512)
    x = torch.rand(2, 3, 32, 48)
    assert rescale(x, 64).shape == (2, 3, 64, 96)
    gen = torch.Generator().manual_seed(0)
    same = scale_crop_flip(x[:, :, :, :32], torch.tensor([32, 32]), 32, gen)    # S = crop: the image or its flip
    for i in range(2):
        assert torch.equal(same[i], x[i, :, :, :32]) or torch.equal(same[i], x[i, :, :, :32].flip(2))
    with pytest.raises(ValueError, match="smaller than the crop"):
        scale_crop_flip(x, torch.tensor([20, 40]), 32, gen)
    images = torch.randint(0, 256, (10, 3, 32, 32), dtype=torch.uint8)
    loader = ScaleLoader(images, torch.arange(10), 4, 32, (37, 73), [0.5] * 3, [0.25] * 3, seed=1)
    assert len(loader) == 2
    first = list(loader.batches(3))
    again = list(loader.batches(3, start=1))                  # resume at step 1: the same batch
    assert torch.equal(first[1][0], again[0][0]) and first[0][0].shape == (4, 3, 32, 32)
    with pytest.raises(ValueError, match="empty"):
        ScaleLoader(images, torch.arange(10), 4, 32, (73, 37), [0.5] * 3, [0.25] * 3)
