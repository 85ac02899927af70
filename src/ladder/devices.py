"""Devices: which one `--device auto` means, whether one is there, and what it is fast at."""

from __future__ import annotations

import functools

import torch


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


@functools.cache  # a fact of the hardware, asked before every training step
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
