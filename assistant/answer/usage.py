"""`satchel usage`: what the private assistant cost, per model and month.

From the usage ledger (assistant/store/usage.py): answers, tokens in and out, mean
time to the first token, decode speed against the model's bandwidth ceiling, energy
in Wh and its price, and the same tokens priced at a cloud API's list price. Prices
are settings with dated defaults (assistant/settings.py); the money figures are
estimates, not advice (docs/usage.md).

The seed formula: generating a token reads every weight once, so decode speed on a
machine is at most memory bandwidth ÷ model size ("the ceiling"); the report shows
each model's measured decode rate as a fraction of it.

Months and days are the person's local time; the ledger keeps UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from assistant.errors import SatchelError
from assistant.settings import Settings
from assistant.store.usage import UsageRow

JOULES_PER_WH = 3600.0


def parse_since(text: str) -> date:
    """``--since``: YYYY, YYYY-MM or YYYY-MM-DD, the first local day it names."""
    value = text.strip()
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise SatchelError(f"--since {text!r}: not a date (use YYYY-MM-DD, YYYY-MM or YYYY)")


def local_midnight_utc(day: date) -> str:
    """The UTC ISO time at which ``day`` starts on this machine's clock, in the
    ledger's format (comparable as text)."""
    start = datetime.combine(day, time.min).astimezone()  # local midnight, with its offset
    return start.astimezone(UTC).isoformat(timespec="seconds")


def local_month(at_utc: str) -> str:
    return datetime.fromisoformat(at_utc).astimezone().strftime("%Y-%m")


def ceiling_tokens_per_s(bandwidth_gbs: float | None, model_bytes: int | None) -> float | None:
    """The seed formula: decode tokens/s ≤ memory bandwidth ÷ model size."""
    if not bandwidth_gbs or not model_bytes:
        return None
    return bandwidth_gbs * 1e9 / model_bytes


@dataclass
class _Group:
    month: str
    model: str
    backend: str
    answers: int = 0
    origins: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    prompt_tokens: int = 0
    evaluated_tokens: int = 0
    generated_tokens: int = 0
    first_token_s: float = 0.0
    decode_tokens: int = 0  # tokens after the first, over generation_s
    generation_s: float = 0.0
    joules: float = 0.0
    measured: int = 0
    methods: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    model_bytes: int | None = None

    def add(self, row: UsageRow) -> None:
        self.answers += 1
        self.origins[row.origin] += 1
        self.prompt_tokens += row.prompt_tokens
        self.evaluated_tokens += row.evaluated_tokens
        self.generated_tokens += row.generated_tokens
        self.first_token_s += row.prompt_s
        if row.generated_tokens > 1 and row.generation_s > 0:
            self.decode_tokens += row.generated_tokens - 1
            self.generation_s += row.generation_s
        self.joules += row.energy_j
        self.measured += int(row.energy_measured)
        self.methods[row.energy_method] += 1
        if row.model_bytes:
            self.model_bytes = row.model_bytes


def _money(value: float) -> float:
    return round(value, 8)  # one answer costs a fraction of a cent


def _costs(settings: Settings, prompt_tokens: int, generated_tokens: int, joules: float) -> dict[str, float]:
    wh = joules / JOULES_PER_WH
    return {
        "energy_wh": round(wh, 4),
        "electricity_cost": _money(wh / 1000 * settings.electricity_price),
        "cloud_equivalent_cost": _money(
            prompt_tokens / 1e6 * settings.cloud_input_price + generated_tokens / 1e6 * settings.cloud_output_price
        ),
    }


def _group_json(group: _Group, settings: Settings, bandwidth_gbs: float | None) -> dict[str, Any]:
    decode = group.decode_tokens / group.generation_s if group.generation_s > 0 else None
    ceiling = ceiling_tokens_per_s(bandwidth_gbs, group.model_bytes) if group.backend == "local" else None
    return {
        "month": group.month,
        "model": group.model,
        "backend": group.backend,
        "answers": group.answers,
        "by_origin": dict(sorted(group.origins.items())),
        "prompt_tokens": group.prompt_tokens,
        "evaluated_tokens": group.evaluated_tokens,
        "generated_tokens": group.generated_tokens,
        "mean_time_to_first_token_s": round(group.first_token_s / group.answers, 3),
        "decode_tokens_per_s": None if decode is None else round(decode, 2),
        "model_bytes": group.model_bytes,
        "ceiling_tokens_per_s": None if ceiling is None else round(ceiling, 1),
        "fraction_of_ceiling": None if decode is None or not ceiling else round(decode / ceiling, 3),
        "energy_measured_answers": group.measured,
        "energy_estimated_answers": group.answers - group.measured,
        "energy_methods": dict(sorted(group.methods.items())),
        **_costs(settings, group.prompt_tokens, group.generated_tokens, group.joules),
    }


def build_report(
    rows: Iterable[UsageRow],
    settings: Settings,
    *,
    since: date | None = None,
    bandwidth_gbs: float | None = None,
    bandwidth_source: str = "measured",
) -> dict[str, Any]:
    """The JSON of `satchel usage --json` (docs/cli.md holds the contract)."""
    groups: dict[tuple[str, str, str], _Group] = {}
    for row in rows:
        key = (local_month(row.at), row.model, row.backend)
        if key not in groups:
            groups[key] = _Group(*key)
        groups[key].add(row)
    ordered = [groups[k] for k in sorted(groups)]
    answers = sum(g.answers for g in ordered)
    prompt = sum(g.prompt_tokens for g in ordered)
    generated = sum(g.generated_tokens for g in ordered)
    joules = sum(g.joules for g in ordered)
    measured = sum(g.measured for g in ordered)
    origins: dict[str, int] = defaultdict(int)
    for g in ordered:
        for origin, n in g.origins.items():
            origins[origin] += n
    return {
        "since": since.isoformat() if since else None,
        "currency": settings.currency,
        "prices": {
            "electricity_per_kwh": settings.electricity_price,
            "cloud_input_per_million": settings.cloud_input_price,
            "cloud_output_per_million": settings.cloud_output_price,
            "cloud_price": settings.cloud_price_name,
            "note": "estimates from configurable prices (docs/usage.md), not advice",
        },
        "energy_meter": energy_meter_state(settings),
        "bandwidth_gbs": None if bandwidth_gbs is None else round(bandwidth_gbs, 2),
        "bandwidth_source": bandwidth_source,
        "rows": [_group_json(g, settings, bandwidth_gbs) for g in ordered],
        "total": {
            "answers": answers,
            "by_origin": dict(sorted(origins.items())),
            "prompt_tokens": prompt,
            "evaluated_tokens": sum(g.evaluated_tokens for g in ordered),
            "generated_tokens": generated,
            "energy_measured_answers": measured,
            "energy_estimated_answers": answers - measured,
            **_costs(settings, prompt, generated, joules),
        },
    }


def energy_meter_state(settings: Settings) -> dict[str, Any]:
    """How this machine meters an answer's CPU energy now: RAPL or the estimate, and why."""
    from pathlib import Path

    from assistant.answer.energy import rapl_zones

    zones, why = rapl_zones(Path(settings.rapl_path)) if settings.energy_meter == "auto" else ([], "")
    if settings.energy_meter != "auto":
        why = f"energy_meter = {settings.energy_meter!r}"
    return {
        "method": "rapl" if zones else "estimate",
        "rapl_zones": [z.name for z in zones],
        "cpu_watts": settings.cpu_watts,
        "note": why or f"RAPL read from {settings.rapl_path}",
    }


def bandwidth(settings: Settings) -> tuple[float, str]:
    """Memory bandwidth in GB/s for the ceiling: the setting, else measured the way
    `satchel models` measures it (a quarter-second NumPy read of 256 MB)."""
    if settings.memory_bandwidth_gbs > 0:
        return settings.memory_bandwidth_gbs, "setting"
    from assistant.answer.models import memory_bandwidth_gbs

    return memory_bandwidth_gbs(), "measured"


def format_report(report: dict[str, Any]) -> str:
    """The report for a person: one block per month, one line per model."""
    currency = report["currency"]
    lines: list[str] = []
    if not report["rows"]:
        since = f" since {report['since']}" if report["since"] else ""
        return f"no answers in the usage ledger{since}"
    month = None
    for row in report["rows"]:
        if row["month"] != month:
            month = row["month"]
            lines.append(f"{month}")
        origins = ", ".join(f"{n} {o}" for o, n in row["by_origin"].items())
        speed = f"{row['decode_tokens_per_s']:.1f} tok/s" if row["decode_tokens_per_s"] is not None else "- tok/s"
        if row["ceiling_tokens_per_s"]:
            speed += f" of a {row['ceiling_tokens_per_s']:.0f} ceiling ({row['fraction_of_ceiling'] or 0:.0%})"
        estimated = row["energy_estimated_answers"]
        how = "measured" if not estimated else ("estimated" if estimated == row["answers"] else "part estimated")
        lines += [
            f"  {row['model']} [{row['backend']}]: {row['answers']} answers ({origins})",
            f"    tokens {row['prompt_tokens']:,} in ({row['evaluated_tokens']:,} computed), "
            f"{row['generated_tokens']:,} out; first token {row['mean_time_to_first_token_s']:.2f} s; {speed}",
            f"    energy {row['energy_wh']:.3f} Wh ({how}) ≈ {row['electricity_cost']:.4f} {currency}; "
            f"at cloud prices ≈ {row['cloud_equivalent_cost']:.4f} {currency}",
        ]
    total = report["total"]
    prices = report["prices"]
    lines += [
        "",
        f"total: {total['answers']} answers, {total['prompt_tokens']:,} tokens in, "
        f"{total['generated_tokens']:,} out, {total['energy_wh']:.3f} Wh",
        f"  electricity ≈ {total['electricity_cost']:.4f} {currency} at {prices['electricity_per_kwh']} {currency}/kWh;"
        f" the same tokens at cloud prices ≈ {total['cloud_equivalent_cost']:.4f} {currency}"
        f" ({prices['cloud_input_per_million']} in / {prices['cloud_output_per_million']} out per million,"
        f" {prices['cloud_price']})",
        "  estimates from configurable prices, not advice (docs/usage.md)",
    ]
    meter = report["energy_meter"]
    if meter["method"] == "rapl":
        lines.append(f"  energy now measured by RAPL ({', '.join(meter['rapl_zones'])})")
    else:
        lines.append(f"  energy now estimated: cpu_watts {meter['cpu_watts']} W × CPU seconds ({meter['note']})")
    if report["bandwidth_gbs"]:
        lines.append(
            f"  ceiling = memory bandwidth {report['bandwidth_gbs']} GB/s ({report['bandwidth_source']}) ÷ model size"
        )
    return "\n".join(lines)
