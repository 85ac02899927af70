"""The networks of the ladder, as plain nn.Modules: linear → stacked linear → MLP → CNN.

Every module takes the shape of one input sample (`in_shape`, e.g. (2,) or (28, 28)) and the
number of outputs, so the estimators can build any of them the same way.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

# torch's global RNG is one stream for the whole process: see `seeded`.
_GLOBAL_RNG = threading.Lock()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Draw from torch's global RNG seeded with `seed` (nn.Module initialisers do), then give the
    caller's stream back untouched: the starting weights are a pure function of the seed.

    The lock keeps two fits in two threads (a run's parallel jobs, the playground's sessions)
    from drawing from each other's seed.
    """
    with _GLOBAL_RNG, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity}


def _check_widths(hidden) -> None:
    if any(not isinstance(w, int) or w < 1 for w in hidden):
        raise ValueError(f"hidden = {list(hidden)}: every hidden layer needs at least 1 unit, "
                         f"e.g. hidden = [64]")


def _check_activation(name: str) -> type[nn.Module]:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


class LinearNet(nn.Module):
    """y = Wx + b: linear regression, or logistic regression once a sigmoid/softmax loss is put on top."""

    def __init__(self, in_shape: tuple[int, ...], n_outputs: int = 1):
        super().__init__()
        self.linear = nn.Linear(math.prod(in_shape), n_outputs)

    def forward(self, x):
        return self.linear(x.flatten(1))


class StackedLinear(nn.Module):
    """Linear layers with no activation between them: W₂(W₁x) is still one matrix, so still a line.

    The course's "deep model attempt" that stays linear however many layers it stacks.
    """

    def __init__(self, in_shape: tuple[int, ...], n_outputs: int = 1, hidden: tuple[int, ...] = (500,)):
        super().__init__()
        _check_widths(hidden)
        widths = [math.prod(in_shape), *hidden, n_outputs]
        self.layers = nn.Sequential(*(nn.Linear(a, b) for a, b in zip(widths, widths[1:])))

    def forward(self, x):
        return self.layers(x.flatten(1))


class MLP(nn.Module):
    """y = W₂σ(W₁x): hidden layers with a non-linearity learn the features φ themselves."""

    def __init__(self, in_shape: tuple[int, ...], n_outputs: int = 1, hidden: tuple[int, ...] = (64,),
                 activation: str = "relu"):
        super().__init__()
        act = _check_activation(activation)
        _check_widths(hidden)
        widths = [math.prod(in_shape), *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(widths, widths[1:]):
            layers += [nn.Linear(a, b), act()]
        layers.append(nn.Linear(widths[-1], n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x.flatten(1))

    def hidden_activations(self, x) -> list[torch.Tensor]:
        """The output of every hidden layer (after its activation), for plots of what it learned."""
        outputs, h = [], x.flatten(1)
        for layer in self.layers:
            h = layer(h)
            if not isinstance(layer, nn.Linear):
                outputs.append(h)
        return outputs


class SimpleCNN(nn.Module):
    """The course's CNN: two conv-ReLU-pool blocks, then two linear layers.

    On 28×28 images: conv1 16·1·3·3+16 = 160, conv2 32·16·3·3+32 = 4,640,
    fc1 1568·128+128 = 200,832, fc2 128·10+10 = 1,290: 206,922 parameters.
    """

    def __init__(self, in_shape: tuple[int, ...] = (28, 28), n_outputs: int = 10):
        super().__init__()
        height, width = in_shape[-2:]
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * (height // 4) * (width // 4), 128)
        self.fc2 = nn.Linear(128, n_outputs)

    def features(self, x):
        """The two conv blocks, conv → ReLU → max-pool each: (n, 1, H, W) → (n, 32, H/4, W/4)."""
        # ReLU and max-pool commute (both are monotone), so pooling first gives the same outputs
        # and gradients while the ReLU touches a quarter of the values: a faster step on CPU.
        x = torch.relu(self.pool(self.conv1(x)))
        return torch.relu(self.pool(self.conv2(x)))

    def forward(self, x):
        if x.dim() == 3:  # (n, H, W) → (n, 1, H, W)
            x = x.unsqueeze(1)
        x = self.features(x).flatten(1)
        return self.fc2(torch.relu(self.fc1(x)))


class SignalCNN(nn.Module):
    """The MNIST-1D paper's CNN for 1-D signals: three strided conv1d-ReLU layers, then one linear layer.

    Each layer halves the length (stride 2, padding 1) and reuses one small kernel at every
    position. On 40-point signals, lengths 40 → 19 → 10 → 5: conv1 25·1·5+25 = 150,
    conv2 25·25·3+25 = 1,900, conv3 25·25·3+25 = 1,900, linear 125·10+10 = 1,260: 5,210 parameters.
    """

    def __init__(self, in_shape: tuple[int, ...] = (40,), n_outputs: int = 10, channels: int = 25):
        super().__init__()
        self.conv1 = nn.Conv1d(1, channels, kernel_size=5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size=3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(channels, channels, kernel_size=3, stride=2, padding=1)
        length = in_shape[-1]
        for conv in (self.conv1, self.conv2, self.conv3):
            length = (length + 2 * conv.padding[0] - conv.kernel_size[0]) // conv.stride[0] + 1
        if length < 1:
            raise ValueError(f"signals of {in_shape[-1]} points are too short for three strided "
                             f"convolutions: give at least 3")
        self.linear = nn.Linear(channels * length, n_outputs)

    def forward(self, x):
        if x.dim() == 2:  # (n, length) → (n, 1, length): one input channel
            x = x.unsqueeze(1)
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        x = torch.relu(self.conv3(x))
        return self.linear(x.flatten(1))


#: Modules by the name a spec or an estimator uses for them.
MODULES = {"linear": LinearNet, "stacked_linear": StackedLinear, "mlp": MLP, "cnn": SimpleCNN,
           "cnn1d": SignalCNN}


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
