"""THE training loop: forward, loss, backward, optimizer step, zero_grad.

Tensors stay in memory and are sliced per mini-batch; there is no per-sample Dataset. The speed
options (a one-cycle schedule, channels_last, bf16 autocast, a batch transform) are switches of
this same loop.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

LOSSES = {"mse": nn.MSELoss, "bce": nn.BCEWithLogitsLoss, "cross_entropy": nn.CrossEntropyLoss}
OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}

EpochCallback = Callable[[int, dict, nn.Module], None]


def pick_device(device: str = "auto") -> torch.device:
    """"auto" means cuda, then mps, then cpu."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(device)


def device_available(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_available()
    if device.type == "mps":
        return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return device.type == "cpu"


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 autocast speeds this device up: CUDA, or a CPU with native bf16 (AVX512-BF16/AMX).

    Elsewhere bf16 is emulated and slower than float32, so `autocast=True` quietly stays float32.
    """
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def train(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, loss: str = "mse",
          optimizer: str = "adam", lr: float = 1e-3, epochs: int = 100, batch_size: int | None = None,
          weight_decay: float = 0.0, schedule: str | None = None, zero_grad: bool = True,
          transform: Callable[[torch.Tensor], torch.Tensor] | None = None, autocast: bool = False,
          seed: int = 0, evaluate: Callable[[nn.Module], dict] | None = None,
          callback: EpochCallback | None = None) -> dict[str, list[float]]:
    """Train `model` on (X, y) in place and return its history: {"loss": [mean loss per epoch], …}.

    X and y must already sit on the model's device. `batch_size=None` trains on the full batch.
    `transform` turns a raw batch into model input (for example uint8 pixels into normalised
    floats), so a dataset is converted one batch at a time and never one sample at a time.
    `evaluate(model)` returns extra metrics recorded after every epoch; `callback(epoch, history,
    model)` lets a progress bar or a live view follow along. `zero_grad=False` leaves out step 5,
    so gradients pile up across steps: the bug the course asks students to break the loop with.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    n = len(X)
    batch_size = n if batch_size is None else min(int(batch_size), n)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    device = X.device
    loss_fn = LOSSES[loss]()
    # The fused kernels update all parameters in one call: on small models the per-tensor
    # overhead of the classic update otherwise costs more than the arithmetic.
    fused = {"fused": True} if device.type in ("cpu", "cuda") else {}
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay, **fused)
    steps_per_epoch = -(-n // batch_size)
    scheduler = None
    if schedule == "onecycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=lr, epochs=max(epochs, 1), steps_per_epoch=steps_per_epoch)
    elif schedule is not None:
        raise ValueError(f"unknown schedule {schedule!r}; choose 'onecycle' or leave it out")
    shuffle = torch.Generator().manual_seed(seed)
    use_bf16 = autocast and bf16_supported(device)
    opt.zero_grad(set_to_none=True)
    history: dict[str, list[float]] = {"loss": []}

    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n, generator=shuffle).to(device) if batch_size < n else None
        total = torch.zeros((), device=device)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size] if order is not None else slice(None)
            xb, yb = X[idx], y[idx]
            if transform is not None:
                xb = transform(xb)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                batch_loss = loss_fn(model(xb), yb)  # 1. forward  2. loss
            batch_loss.backward()                     # 3. backward
            opt.step()                                # 4. optimizer step
            if zero_grad:
                opt.zero_grad(set_to_none=True)       # 5. zero_grad
            if scheduler is not None:
                scheduler.step()
            total += batch_loss.detach().float() * len(yb)
        history["loss"].append(total.item() / n)
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                for key, value in evaluate(model).items():
                    history.setdefault(key, []).append(value)
        if callback is not None:
            callback(epoch, history, model)
    model.eval()
    return history
