"""Weight initialisation: the paper's (§5) and the modern alternatives it is compared with."""
from torch import nn

# §5: "We initialized the neuron biases in the second, fourth, and fifth convolutional
# layers, as well as in the fully-connected hidden layers, with the constant 1 ... [this]
# accelerates the early stages of learning by providing the ReLUs with positive inputs."
BIAS_ONE = ("conv2", "conv4", "conv5", "fc6", "fc7")


def _layers(model: nn.Module):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def init_paper(model: nn.Module, std: float = 0.01) -> nn.Module:
    """§5: weights from N(0, 0.01); biases 1 in conv2, conv4, conv5, fc6, fc7, else 0."""
    for name, m in _layers(model):
        nn.init.normal_(m.weight, 0.0, std)
        nn.init.constant_(m.bias, 1.0 if name.split(".")[-1] in BIAS_ONE else 0.0)
    return model


def init_kaiming(model: nn.Module) -> nn.Module:
    """He et al. 2015, for ReLU networks: N(0, 2/fan_in); zero biases."""
    for _, m in _layers(model):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        nn.init.zeros_(m.bias)
    return model


def init_xavier(model: nn.Module) -> nn.Module:
    """Glorot & Bengio 2010, uniform; zero biases (d2l's `init_cnn`)."""
    for _, m in _layers(model):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
    return model


INITS = {"paper": init_paper, "kaiming": init_kaiming, "xavier": init_xavier,
         "torch": lambda model: model}
