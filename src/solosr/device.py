"""Where and in what precision the nets run: the device, bf16 where the hardware computes it natively,
channels-last where oneDNN is faster so. Shared by training and inference (inference imports no training).
"""

from __future__ import annotations

import contextlib
import functools
from typing import TypeVar

import torch
from torch import nn


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU. Raises ValueError for an unusable name."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r} (auto, cpu or cuda)")
    return torch.device(name)


def _cpu_probe(*names: str) -> bool:
    """Whether any of torch's private `torch.cpu._is_*_supported` probes says yes; False when none
    answers (an API that may change: the plain fp32 path is the safe answer), and False when torch's
    own kernels are capped below AVX-512 (`ATEN_CPU_CAPABILITY=avx2`, with `ONEDNN_MAX_CPU_ISA=AVX2`
    for the convolutions: how an AVX-512 machine runs as an AVX2 one, as the benchmarks do)."""
    capability = getattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")()
    if not capability.startswith("AVX512"):
        return False
    probes = [getattr(torch.cpu, name, None) for name in names]
    try:
        return any(bool(probe()) for probe in probes if probe is not None)
    except Exception:
        return False


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX). Elsewhere torch emulates bf16, far
    slower than fp32: on a 2-core AMD EPYC with AVX2, one training step of the fast preset's net (batch 4
    of 96x96) took 6.4 s with bf16 autocast against 0.55 s in fp32 (`benchmarks/cpu_precision.py`); on a
    2-core Intel Xeon with AVX-512 but no bf16, 0.82 s against 0.26."""
    return _cpu_probe("_is_avx512_bf16_supported", "_is_amx_tile_supported")


@functools.cache
def cpu_has_avx512() -> bool:
    """Whether this CPU has AVX-512 (with or without bf16)."""
    return _cpu_probe("_is_avx512_supported")


def uses_channels_last(device: torch.device) -> bool:
    """Channels-last nets and inputs on the CPU where oneDNN's convolutions are faster so: with AVX-512
    (bf16 or fp32). Measured with `benchmarks/cpu_precision.py`: on a 2-core Xeon with AVX-512 and no
    bf16, a training step 0.26 s against 0.34 s in the default layout (fp32); on an AVX2 EPYC the
    default layout is the faster (0.55 s against 0.63)."""
    return device.type == "cpu" and (cpu_has_fast_bf16() or cpu_has_avx512())


def uses_bf16(device: torch.device, enabled: bool) -> bool:
    """Whether the nets run in bf16: asked for (`amp`), on a GPU or a CPU with native bf16."""
    return enabled and (device.type != "cpu" or cpu_has_fast_bf16())


def cpu_compute_path() -> str:
    """What the nets run in on this CPU, in words (benchmark tables name it)."""
    cpu = torch.device("cpu")
    math_ = "bf16 autocast" if uses_bf16(cpu, True) else "fp32 (no native bf16)"
    return f"{math_}, {'channels-last' if uses_channels_last(cpu) else 'default layout'}"


def autocast(device: torch.device, enabled: bool):
    """bf16 autocast where it helps (`uses_bf16`), else nothing."""
    if not uses_bf16(device, enabled):
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


NetT = TypeVar("NetT", bound=nn.Module)


def prepare(net: NetT, device: torch.device) -> NetT:
    net = net.to(device)
    if uses_channels_last(device):
        net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs lack it
    return net


def as_input(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    x = x.to(device)
    return x.contiguous(memory_format=torch.channels_last) if uses_channels_last(device) and x.ndim == 4 else x
