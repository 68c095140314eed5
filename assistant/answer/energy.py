"""What an answer cost in energy: measured where the machine lets us, estimated where not.

Three sources, best first, and every reading says which it came from:

- **RAPL** (``/sys/class/powercap``, setting ``rapl_path``): the CPU package's energy
  counter, in microjoules. It counts the whole package (other processes' work and
  idle power included), so it is the machine's energy over the answer, not this
  process's share. Most VMs and containers have no RAPL, and since Linux 5.10 the
  counters are readable by root only unless the administrator opened them up.
- **NVML** (``nvidia-ml-py``, imported only when a GPU backend is in use): the GPU's
  energy counter since the driver loaded, in millijoules, for the whole device.
- **The estimate**: ``cpu_watts`` (watts per busy core) × the CPU seconds the process
  used during the answer (every thread, llama.cpp's included). A documented figure,
  not a measurement; docs/usage.md says how to pick yours.

An answer from the private server (``llm_backend = "openai"``) spends its energy on
the server: this machine's part is metered as above, and the server's is
``server_watts`` × the generation's wall time when that figure is set, else it is not
counted (the reading says so).
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError
from assistant.settings import Settings

ENERGY_METERS = ("auto", "estimate")
RAPL = "rapl"
ESTIMATE = "estimate"
NVML = "nvml"


@dataclass(frozen=True)
class EnergyReading:
    """The energy of one answer and how it was had."""

    joules: float
    method: str  # "rapl" or "estimate", then "+nvml" for a GPU and "+server" for a server figure
    measured: bool  # True when the CPU part came from a counter, not a figure
    cpu_seconds: float
    wall_seconds: float
    gpu_joules: float | None = None
    server_joules: float | None = None
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "joules": round(self.joules, 3),
            "method": self.method,
            "measured": self.measured,
            "cpu_seconds": round(self.cpu_seconds, 4),
            "wall_seconds": round(self.wall_seconds, 4),
            "gpu_joules": None if self.gpu_joules is None else round(self.gpu_joules, 3),
            "server_joules": None if self.server_joules is None else round(self.server_joules, 3),
            "notes": list(self.notes),
        }


# --- RAPL --------------------------------------------------------------------------------
_PACKAGE_ZONE = re.compile(r"intel-rapl:\d+")


@dataclass(frozen=True)
class RaplZone:
    name: str
    energy: Path  # energy_uj
    wraps_at: int  # max_energy_range_uj + 1: the counter goes back to 0 there


def rapl_zones(root: Path) -> tuple[list[RaplZone], str]:
    """The CPU package zones under a powercap tree whose counters this process can
    read, and, when there are none, why (for the reading's notes).

    Only package zones are summed: their sub-zones (cores, uncore, DRAM) are parts of
    them, and ``psys`` overlaps them all."""
    if not root.is_dir():
        return [], f"no RAPL at {root}"
    zones: list[RaplZone] = []
    refused = 0
    for zone in sorted(root.iterdir()):
        # intel-rapl:0 is a package; intel-rapl:0:1 a part of it (AMD's driver uses the
        # same names); intel-rapl-mmio:0 is the same package again through MMIO
        if not _PACKAGE_ZONE.fullmatch(zone.name):
            continue
        try:
            name = (zone / "name").read_text().strip()
        except OSError:
            continue
        if not name.startswith("package"):
            continue
        energy = zone / "energy_uj"
        try:
            int(energy.read_text())
            wraps_at = int((zone / "max_energy_range_uj").read_text()) + 1
        except PermissionError:
            refused += 1
            continue
        except (OSError, ValueError):
            continue
        zones.append(RaplZone(f"{zone.name} ({name})", energy, wraps_at))
    if zones:
        return zones, ""
    if refused:
        return [], f"RAPL at {root} is readable by root only"
    return [], f"no readable RAPL package zone at {root}"


def _read_rapl(zones: list[RaplZone]) -> list[int] | None:
    try:
        return [int(z.energy.read_text()) for z in zones]
    except (OSError, ValueError):
        return None


def _rapl_joules(zones: list[RaplZone], start: list[int], end: list[int]) -> float:
    total = 0
    for zone, a, b in zip(zones, start, end, strict=True):
        total += b - a if b >= a else b + zone.wraps_at - a  # the counter wrapped once
    return total / 1e6


# --- NVML --------------------------------------------------------------------------------
class _Nvml:
    """Energy counters of every NVIDIA GPU, through nvidia-ml-py (imported here only)."""

    def __init__(self) -> None:
        import pynvml  # nvidia-ml-py; optional

        self.nvml: Any = pynvml
        pynvml.nvmlInit()
        self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]

    def millijoules(self) -> list[int]:
        return [int(self.nvml.nvmlDeviceGetTotalEnergyConsumption(h)) for h in self.handles]

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a failed shutdown changes nothing we report
            self.nvml.nvmlShutdown()


def _open_nvml() -> tuple[_Nvml | None, str]:
    try:
        nvml = _Nvml()
    except ImportError:
        return None, "GPU energy not measured: NVML not available (pip install nvidia-ml-py)"
    except Exception as exc:  # noqa: BLE001 - NVMLError and driver problems alike
        return None, f"GPU energy not measured: NVML failed ({exc})"
    if not nvml.handles:
        nvml.close()
        return None, "GPU energy not measured: NVML sees no GPU"
    return nvml, ""


def gpu_in_use(settings: Settings, backend: str) -> bool:
    """Whether answers run on a GPU in this process: the local backend with layers
    offloaded by a llama.cpp built for a GPU."""
    if backend != "local" or settings.n_gpu_layers == 0:
        return False
    try:
        import llama_cpp
    except ImportError:
        return False
    supports = getattr(llama_cpp, "llama_supports_gpu_offload", None)
    return bool(supports()) if callable(supports) else False


# --- the meter ---------------------------------------------------------------------------
@dataclass
class EnergyMeter:
    """Reads the counters at :meth:`start` and :meth:`stop`; ``with`` does both.

    ``gpu``: also read NVML. ``server``: the answer was generated by the private
    server, whose share is ``server_watts`` × ``server_seconds`` (set by the caller
    before :meth:`stop`, from the answer's token meter)."""

    settings: Settings
    gpu: bool = False
    server: bool = False
    server_seconds: float = 0.0
    reading: EnergyReading | None = None
    _zones: list[RaplZone] = field(default_factory=list)
    _rapl_start: list[int] | None = None
    _nvml: _Nvml | None = None
    _gpu_start: list[int] | None = None
    _notes: list[str] = field(default_factory=list)
    _cpu_start: float = 0.0
    _wall_start: float = 0.0

    def start(self) -> EnergyMeter:
        s = self.settings
        if s.energy_meter not in ENERGY_METERS:
            raise ConfigError(f"setting 'energy_meter': {s.energy_meter!r} is not one of {', '.join(ENERGY_METERS)}")
        if s.energy_meter == "auto":
            self._zones, why = rapl_zones(Path(s.rapl_path))
            if why:
                self._notes.append(why)
            self._rapl_start = _read_rapl(self._zones) if self._zones else None
        if self.gpu:
            self._nvml, why = _open_nvml()
            if why:
                self._notes.append(why)
            if self._nvml is not None:
                self._gpu_start = self._gpu_counters()
        self._cpu_start = time.process_time()
        self._wall_start = time.perf_counter()
        return self

    def _gpu_counters(self) -> list[int] | None:
        if self._nvml is None:
            return None
        try:
            return self._nvml.millijoules()
        except Exception as exc:  # noqa: BLE001 - e.g. a GPU without an energy counter
            self._notes.append(f"GPU energy not measured: {exc}")
            self._nvml.close()
            self._nvml = None
            return None

    def stop(self) -> EnergyReading:
        cpu = time.process_time() - self._cpu_start
        wall = time.perf_counter() - self._wall_start
        notes = list(self._notes)
        joules: float
        rapl_end = _read_rapl(self._zones) if self._rapl_start is not None else None
        if self._rapl_start is not None and rapl_end is not None:
            joules, method, measured = _rapl_joules(self._zones, self._rapl_start, rapl_end), RAPL, True
        else:
            joules, method, measured = self.settings.cpu_watts * cpu, ESTIMATE, False
        gpu_joules = None
        if self._gpu_start is not None:
            end = self._gpu_counters()
            if end is not None:
                gpu_joules = sum(b - a for a, b in zip(self._gpu_start, end, strict=True)) / 1000
                joules += gpu_joules
                method += "+" + NVML
        if self._nvml is not None:
            self._nvml.close()
            self._nvml = None
        server_joules = None
        if self.server:
            if self.settings.server_watts > 0:
                server_joules = self.settings.server_watts * self.server_seconds
                joules += server_joules
                method += "+server"
            else:
                notes.append("the private server's own energy is not counted (set server_watts)")
        self.reading = EnergyReading(
            joules=joules,
            method=method,
            measured=measured,
            cpu_seconds=cpu,
            wall_seconds=wall,
            gpu_joules=gpu_joules,
            server_joules=server_joules,
            notes=tuple(notes),
        )
        return self.reading

    def __enter__(self) -> EnergyMeter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
