"""A grid of `run_quality` runs (method x encoder learning rate x epochs x seed) side by side on one machine, and the
mean over seeds of every cell, with each method's recipe chosen on validation.

    python -m benchmarks.grid run --configs lmmlc-pooled-head:3e-4:1 baseline:1e-4:1 --seeds 42 43 44 --workers 12 \\
        --deadline 480 --work_dir outputs/grid --data_root ../shared/data
    python -m benchmarks.grid summarize --work_dir outputs/grid --output docs/benchmarks/grid/goemotions

`run` starts each (config, seed) as its own `python -m benchmarks.run_quality` process (profile and dataset as given),
at most `--workers` at once, in the order of `--configs` (a config's seeds together), so that the first configs
finish first. None starts after `--deadline` seconds and a run still going then is stopped: `manifest.json` in
`--work_dir` says of every run whether it finished, failed, was stopped or never started. Runs side by side share
the machine, so their speeds are not comparable: `summarize` leaves them out.

`summarize` averages each config's finished seeds (validation and test at the tuned thresholds), and names per method
the config with the best mean validation micro-F1 among those whose every seed finished (the rule of section 0 of
docs/BENCHMARKS.md); test never chooses.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.reporting import write_report
from benchmarks.run_quality import METHODS, PROFILES, mean_over_seeds
from benchmarks.seed_means import KEYS, plot, table

CHOOSER = "eval_micro_f1@global"
"""The validation metric that chooses each method's config."""


@dataclass(frozen=True)
class Config:
    """One cell of the grid: a `run_quality` method at an encoder learning rate and a number of epochs."""

    method: str
    learning_rate: str
    epochs: str

    @property
    def label(self) -> str:
        return f"{self.method} lr {self.learning_rate} x{self.epochs}"

    @classmethod
    def parse(cls, text: str) -> Config:
        """`METHOD:LEARNING_RATE:EPOCHS`, e.g. `baseline:1e-4:2`; anything else is refused, naming the fix."""
        parts = text.split(":")
        fix = "write each config as METHOD:LEARNING_RATE:EPOCHS, e.g. baseline:1e-4:2"
        if len(parts) != 3:
            raise ValueError(f"Config {text!r}: {fix}.")
        method, rate, epochs = parts
        if method not in METHODS or METHODS[method].anchor:
            raise ValueError(f"Config {text!r}: {method!r} is not a BERT row of run_quality ({fix}).")
        try:
            positive = float(rate) > 0 and float(epochs) > 0
        except ValueError:
            positive = False
        if not positive:
            raise ValueError(f"Config {text!r}: the learning rate and epochs must be positive numbers ({fix}).")
        return cls(method, rate, epochs)


@dataclass
class Run:
    """One (config, seed) of the grid and what became of it."""

    config: Config
    seed: int
    status: str = "not started"  # finished | failed | stopped at the deadline | not started
    seconds: float | None = None

    @property
    def name(self) -> str:
        return f"{self.config.method}-lr{self.config.learning_rate}-ep{self.config.epochs}-seed{self.seed}"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("run", help="Train the grid, runs side by side.")
    run.add_argument("--configs", nargs="+", required=True, type=Config.parse, help="METHOD:LEARNING_RATE:EPOCHS")
    run.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    run.add_argument("--workers", type=int, default=1, help="Runs at once.")
    run.add_argument("--deadline", type=float, help="Seconds after which no run starts and running ones stop.")
    run.add_argument("--profile", default="cpu-full", choices=sorted(PROFILES))
    run.add_argument("--dataset", default="goemotions")
    run.add_argument("--data_root", default="../shared/data")
    run.add_argument("--model_name_or_path", help="Encoder (default: the bundled MiniLM).")
    run.add_argument("--work_dir", required=True, help="Models, reports, logs and manifest.json.")
    run.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="More lmmlc-train options (last).")
    summary = verbs.add_parser("summarize", help="Mean over seeds per config; each method's config chosen.")
    summary.add_argument("--work_dir", required=True, help="A `run`'s work_dir (its manifest.json).")
    summary.add_argument("--output", required=True, help="Path prefix of the .json/.md/.png report.")
    args = parser.parse_args(argv)
    if args.verb == "run":
        check_run(args)
    return args


def check_run(args: argparse.Namespace) -> None:
    """Refuse a grid that cannot run as asked, before any run starts."""
    if args.workers < 1:
        raise ValueError(f"--workers {args.workers}: give at least 1.")
    if args.dataset not in PROFILES[args.profile].datasets:
        raise ValueError(f"--dataset {args.dataset} is not in profile {args.profile!r}.")
    if not (Path(args.data_root) / args.dataset / "labels.txt").exists():
        raise FileNotFoundError(f"No {args.dataset} data at {Path(args.data_root) / args.dataset} (see --data_root).")
    for seen in {c for c in args.configs if args.configs.count(c) > 1}:
        raise ValueError(f"Config {seen.label} is given twice: give each once.")


def command(args: argparse.Namespace, run: Run) -> list[str]:
    """The `run_quality` command line of one run: its own work and report folders, the config's options last."""
    folder = Path(args.work_dir) / "runs" / run.name
    argv = [sys.executable, "-m", "benchmarks.run_quality", "--profile", args.profile, "--datasets", args.dataset]
    argv += ["--methods", run.config.method, "--seeds", str(run.seed), "--data_root", args.data_root]
    argv += ["--work_dir", str(folder / "work"), "--report_dir", str(folder / "report")]
    if args.model_name_or_path:
        argv += ["--model_name_or_path", args.model_name_or_path]
    options = ["--learning_rate", run.config.learning_rate, "--num_train_epochs", run.config.epochs]
    return [*argv, "--extra", *options, "--disable_tqdm", "true", *args.extra]


def execute(args: argparse.Namespace, run: Run, start: float) -> None:
    """Run one grid cell unless the deadline has passed; its output goes to `runs/NAME/log.txt`, its datasets cache
    stays its own (runs side by side)."""
    left = None if args.deadline is None else args.deadline - (time.monotonic() - start)
    if left is not None and left <= 0:
        return
    folder = Path(args.work_dir) / "runs" / run.name
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_DATASETS_CACHE": str(folder / "datasets-cache")}
    began = time.monotonic()
    with open(folder / "log.txt", "w") as log:
        try:
            done = subprocess.run(command(args, run), stdout=log, stderr=subprocess.STDOUT, env=env, timeout=left)
            run.status = "finished" if done.returncode == 0 else f"failed (exit {done.returncode})"
        except subprocess.TimeoutExpired:
            run.status = "stopped at the deadline"
    run.seconds = time.monotonic() - began


def write_manifest(args: argparse.Namespace, runs: list[Run]) -> None:
    manifest = {"command": " ".join(["python -m benchmarks.grid", *sys.argv[1:]]), "profile": args.profile}
    manifest["dataset"], manifest["seeds"] = args.dataset, args.seeds
    manifest["runs"] = [{**asdict(r), "name": r.name} for r in runs]
    (Path(args.work_dir) / "manifest.json").write_text(json.dumps(manifest, indent=2))


def run_grid(args: argparse.Namespace) -> list[Run]:
    """Every (config, seed), configs in the order given; the manifest written when all have ended."""
    runs = [Run(config, seed) for config in args.configs for seed in args.seeds]
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        list(pool.map(lambda r: execute(args, r, start), runs))
    write_manifest(args, runs)
    for run in runs:
        print(f"{run.name}: {run.status}")
    return runs


def finished_rows(work_dir: Path) -> tuple[dict, list[dict]]:
    """The manifest and the one-pass row of every finished run, named by its config, speeds left out."""
    manifest = json.loads((work_dir / "manifest.json").read_text())
    rows = []
    for run in (r for r in manifest["runs"] if r["status"] == "finished"):
        config = Config(**run["config"])
        report = work_dir / "runs" / run["name"] / "report" / f"quality_{manifest['profile']}.json"
        (row,) = [r for r in json.loads(report.read_text())["rows"] if r["decoding"] == "one_shot"]
        kept = {k: v for k, v in row.items() if "second" not in k}  # runs side by side: no comparable speeds
        rows.append({**kept, **asdict(config), "method": config.label, "row": config.method})
    return manifest, rows


def choose(summary: list[dict], manifest: dict) -> None:
    """Mark per method the config with the best mean `CHOOSER` among those whose every seed finished."""
    for row in summary:
        row["complete"] = sorted(row["seeds"]) == sorted(manifest["seeds"])
    for method in dict.fromkeys(row["row"] for row in summary):
        eligible = [r for r in summary if r["row"] == method and r["complete"]]
        for row in summary:
            row.setdefault("chosen", False)
        if eligible:
            max(eligible, key=lambda r: r[CHOOSER])["chosen"] = True


def summarize(args: argparse.Namespace, argv: list[str] | None = None) -> list[dict]:
    """Mean ± sd per config over its finished seeds; each method's config chosen on validation."""
    manifest, rows = finished_rows(Path(args.work_dir))
    if not rows:
        raise ValueError(f"No run of {args.work_dir}/manifest.json finished: nothing to summarize.")
    summary = mean_over_seeds(rows)
    for row in summary:  # mean_over_seeds keeps numbers only: the config's fields come back from its runs
        config = next(r for r in rows if r["method"] == row["method"])
        row.update(row=config["row"], learning_rate=config["learning_rate"], epochs=config["epochs"])
    choose(summary, manifest)
    chosen = [r["method"] for r in summary if r["chosen"]]
    ended = {r["name"]: r["status"] for r in manifest["runs"] if r["status"] != "finished"}
    text = table(summary, list(KEYS)) + f"\n\nChosen on validation ({CHOOSER}, every seed finished): {chosen}\n"
    text += f"Not finished: {ended or 'none'}\n"
    print(text)
    write_report(args.output, "benchmarks.grid", argv, summary, text, lambda rows, p: plot(rows, p, list(KEYS)))
    return summary


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.verb == "run":
        run_grid(args)
    else:
        summarize(args, argv)


if __name__ == "__main__":
    main()
