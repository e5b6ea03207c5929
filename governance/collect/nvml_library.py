"""Whether NVML can answer on this machine, told without importing pynvml.

Every `mlgov scan` without `--host` asks NVML about this machine. pynvml takes
about 0.02 s to import and collect/host.py (its only user) a little more, while
on most machines that run the gate there is no NVIDIA driver at all: loading
libnvidia-ml.so.1, as pynvml's nvmlInit() does first, says so in microseconds.
"""

from __future__ import annotations

import sys

NOT_INSTALLED = "nvidia-ml-py is not installed (pip install nvidia-ml-py)"
NO_LIBRARY = "no NVIDIA driver: the NVML library (libnvidia-ml.so.1) was not found"


def missing() -> str | None:
    """Why NVML cannot answer here, as importing pynvml and nvmlInit() would find; None when pynvml
    must be asked (the library loads, another platform, or pynvml is already imported, e.g. faked)."""
    if "pynvml" in sys.modules or not sys.platform.startswith("linux"):
        return None
    import importlib.util

    if importlib.util.find_spec("pynvml") is None:
        return NOT_INSTALLED
    import ctypes

    try:
        ctypes.CDLL("libnvidia-ml.so.1")  # what pynvml's _LoadNvmlLibrary() loads on Linux
    except OSError:
        return NO_LIBRARY
    return None
