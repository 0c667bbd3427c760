"""Plot words/s against threads from a scaling run's results (``bench/many_core.sh`` output).

    python bench/plot_scaling.py [bench/results/many-core-16-xeon.txt] [-o docs/_static/scaling.png]

Reads the lines ``SYSTEM workers=N: R raw words/s ...`` (one run a line, as ``bench_scaling.py``
prints them) and draws one line per system: raw words/s (millions) against workers, with the
ideal linear scaling of each system's one-thread speed dashed. The documentation's performance
page shows the PNG this writes.
"""
from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^(?P<system>.+?) workers=(?P<workers>\d+): (?P<rate>[\d.]+)k raw words/s")


def read_scaling(path: Path) -> dict[str, list[tuple[int, float]]]:
    """system -> [(workers, raw words/s)], sorted by workers; the last run of each wins."""
    runs: dict[str, dict[int, float]] = defaultdict(dict)
    for line in path.read_text(encoding="utf-8").splitlines():
        m = LINE.match(line.strip())
        if m:
            runs[m["system"]][int(m["workers"])] = float(m["rate"]) * 1e3
    if not runs:
        raise SystemExit(f"{path}: no 'SYSTEM workers=N: R raw words/s' lines")
    return {system: sorted(points.items()) for system, points in runs.items()}


def plot(runs: dict[str, list[tuple[int, float]]], out: Path, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, (system, points) in enumerate(runs.items()):
        workers = [w for w, _ in points]
        rates = [r / 1e6 for _, r in points]
        ax.plot(workers, rates, marker="o", color=f"C{i}", label=system)
        one = rates[0] / workers[0]
        ax.plot(workers, [one * w for w in workers], ls="--", lw=0.8, color=f"C{i}", alpha=0.6)
    ax.set_xticks(sorted({w for p in runs.values() for w, _ in p}))
    ax.set_xlabel("worker threads")
    ax.set_ylabel("million raw words/s")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(title="dashed: linear scaling", fontsize=8, title_fontsize=8)
    fig.savefig(out, bbox_inches="tight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path,
                        default=ROOT / "bench" / "results" / "many-core-16-xeon.txt")
    parser.add_argument("-o", "--output", type=Path,
                        default=ROOT / "docs" / "_static" / "scaling.png")
    parser.add_argument("--title", default="wiki8, skip-gram d=100, 1 epoch (16-core Xeon)")
    args = parser.parse_args()
    plot(read_scaling(args.results), args.output, args.title)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
