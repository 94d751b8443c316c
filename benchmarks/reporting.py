"""Writing a benchmark's report: JSON (command, machine, rows), a Markdown table and a PNG."""

from __future__ import annotations

import json
import platform
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch


def write_report(
    output: str | Path,
    module: str,
    argv: list[str] | None,
    rows: list[dict],
    table: str,
    plot: Callable,
    extra: dict[str, Any] | None = None,
) -> None:
    """`output`.json/.md/.png: the command that made the rows (`python -m module argv`), the machine, the rows (and
    `extra` entries, e.g. means over seeds), the Markdown `table` and `plot(rows, path)`."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", "-m", module, *(sys.argv[1:] if argv is None else argv)])  # quoted: rerunnable
    machine = {"platform": platform.platform(), "torch": torch.__version__, "threads": torch.get_num_threads()}
    report = {"command": command, "machine": machine, "rows": rows, **(extra or {})}
    output.with_suffix(".json").write_text(json.dumps(report, indent=2))
    output.with_suffix(".md").write_text(f"`{command}`\n\n{table}\n")
    plot(rows, output.with_suffix(".png"))


def new_figure(*grid: int, size: tuple[float, float], **options: Any) -> tuple[Any, Any]:
    """A figure and its axes, `plt.subplots(*grid, figsize=size, **options)`, on matplotlib's file-only backend
    (Agg): benchmarks write PNG files, they show nothing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*grid, figsize=size, **options)


def save_figure(figure: Any, legend: Any, path: str | Path, dpi: int = 120) -> None:
    """A benchmark figure's legend (fontsize 8) on `legend` (an axis, a list of axes, or None for none), tight layout
    and PNG at `path`; the figure is closed."""
    import matplotlib.pyplot as plt

    for axis in [] if legend is None else legend if isinstance(legend, list) else [legend]:
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    plt.close(figure)


def grouped_bars(
    axis: Any, columns: list[str], bars: list[tuple[str, list[float], list[float] | None]], **ticks: Any
) -> None:
    """One group per column, one bar per `(label, values, errors)` in each group (`errors`: error bars or None);
    `ticks` go to the column labels."""
    width = 0.8 / len(bars)
    for i, (label, values, errors) in enumerate(bars):
        axis.bar([j + i * width for j in range(len(columns))], values, width, yerr=errors, label=label)
    axis.set_xticks([j + 0.4 - width / 2 for j in range(len(columns))], columns, **ticks)
