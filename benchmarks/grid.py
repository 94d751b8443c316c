"""A grid of `run_quality` runs (method x encoder learning rate x epochs x seed) side by side on one machine, and the
mean over seeds of every cell, with each method's config chosen on validation.

    python -m benchmarks.grid run --configs lmmlc-pooled-head:3e-4:1 baseline:1e-4:1 --seeds 42 43 44 --workers 12 \\
        --deadline 480 --work_dir outputs/grid --data_root ../shared/data
    python -m benchmarks.grid summarize --work_dir outputs/grid --output docs/benchmarks/grid/goemotions

`run` starts each (config, seed) as its own `python -m benchmarks.run_quality` process (profile and dataset as given),
at most `--workers` at once, in the order of `--configs` (a config's seeds together), so that the first configs
finish first. None starts after `--deadline` seconds and a run still going then is stopped: `manifest.json` in
`--work_dir`, rewritten as each run ends, says of every run whether it finished, failed, was stopped or never
started. Runs side by side share the machine, so their speeds are not comparable: `summarize` leaves them out.

`summarize` averages each config's finished seeds (validation and test at the tuned thresholds, one pass), and names
per method the config with the best mean validation micro-F1 (`decide_defaults.METRIC`) among those whose every seed
finished; test never chooses.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from threading import Event, Lock

from benchmarks.decide_defaults import METRIC
from benchmarks.reporting import write_report
from benchmarks.run_quality import METHODS, PROFILES, check_datasets, mean_over_seeds
from benchmarks.seed_means import KEYS, plot, report_rows, table

OWN_OPTIONS = ("--learning_rate", "--num_train_epochs", "--seed")
"""`lmmlc-train` options that each run's config and seed set: refused in `--extra`, where they would override them."""


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
            raise argparse.ArgumentTypeError(f"Config {text!r}: {fix}.")
        method, rate, epochs = parts
        if method not in METHODS or METHODS[method].anchor:
            raise argparse.ArgumentTypeError(f"Config {text!r}: {method!r} is not a BERT row of run_quality ({fix}).")
        try:
            numbers = [float(rate), float(epochs)]
        except ValueError:
            numbers = [math.nan]
        if not all(math.isfinite(n) and n > 0 for n in numbers):
            raise argparse.ArgumentTypeError(
                f"Config {text!r}: the learning rate and epochs must be positive numbers ({fix})."
            )
        return cls(method, rate, epochs)


@dataclass
class Run:
    """One (config, seed) of the grid and what became of it."""

    config: Config
    seed: int
    status: str = "not started"  # finished | failed (exit N) | stopped at the deadline | not started
    seconds: float | None = None

    @property
    def name(self) -> str:
        return f"{self.config.method}-lr{self.config.learning_rate}-ep{self.config.epochs}-seed{self.seed}"

    def folder(self, work_dir: str | Path) -> Path:
        """Where the run's model, report, log and datasets cache go."""
        return Path(work_dir) / "runs" / self.name


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
    summary.add_argument("--work_dir", required=True, help="A `run`'s work_dir (manifest.json, runs/*/report/).")
    summary.add_argument("--output", required=True, help="Path prefix of the .json/.md/.png report.")
    args = parser.parse_args(argv)
    if args.verb == "run":
        check_run(args)
    return args


def check_run(args: argparse.Namespace) -> None:
    """Refuse a grid that cannot run as asked, before any run starts."""
    if args.workers < 1:
        raise ValueError(f"--workers {args.workers}: give at least 1.")
    if args.deadline is not None and not (math.isfinite(args.deadline) and args.deadline > 0):
        raise ValueError(f"--deadline {args.deadline}: give a positive number of seconds, or leave it out.")
    check_datasets(args.profile, [args.dataset], args.data_root)
    twice = sorted({c.label for c in args.configs if args.configs.count(c) > 1})
    twice += sorted({f"seed {s}" for s in args.seeds if args.seeds.count(s) > 1})
    if twice:
        raise ValueError(f"{twice} given twice: give each config and seed once.")
    overriding = [option for option in OWN_OPTIONS if option in args.extra]
    if overriding:
        raise ValueError(f"--extra sets {overriding}, which each run's config and seed set: put them in --configs.")


def command(args: argparse.Namespace, run: Run) -> list[str]:
    """The `run_quality` command line of one run: its own work and report folders, the config's options last."""
    folder = run.folder(args.work_dir)
    argv = [sys.executable, "-m", "benchmarks.run_quality", "--profile", args.profile, "--datasets", args.dataset]
    argv += ["--methods", run.config.method, "--seeds", str(run.seed), "--data_root", args.data_root]
    argv += ["--work_dir", str(folder / "work"), "--report_dir", str(folder / "report")]
    if args.model_name_or_path:
        argv += ["--model_name_or_path", args.model_name_or_path]
    options = ["--learning_rate", run.config.learning_rate, "--num_train_epochs", run.config.epochs]
    return [*argv, "--extra", *options, "--disable_tqdm", "true", *args.extra]


def execute(args: argparse.Namespace, run: Run, start: float) -> None:
    """Run one grid cell unless the deadline has passed; its output goes to its folder's log.txt, its datasets cache
    stays its own (runs side by side)."""
    left = None if args.deadline is None else args.deadline - (time.monotonic() - start)
    if left is not None and left <= 0:
        return
    folder = run.folder(args.work_dir)
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
    print(f"{run.name}: {run.status} after {run.seconds:.0f} s", flush=True)


def write_manifest(args: argparse.Namespace, runs: list[Run], command_line: str) -> None:
    """`manifest.json`: the command, the profile, dataset and seeds, and every run with what became of it so far."""
    manifest = {"command": command_line, "profile": args.profile, "dataset": args.dataset, "seeds": args.seeds}
    manifest["runs"] = [{**asdict(r), "name": r.name} for r in runs]
    (Path(args.work_dir) / "manifest.json").write_text(json.dumps(manifest, indent=2))


def run_grid(args: argparse.Namespace, argv: list[str] | None = None) -> list[Run]:
    """Every (config, seed), configs in the order given; the manifest written first and again as each run ends (or
    is skipped), so that it holds what became of every run even if the grid itself is cut off."""
    runs = [Run(config, seed) for config in args.configs for seed in args.seeds]
    command_line = " ".join(["python -m benchmarks.grid", *(sys.argv[1:] if argv is None else argv)])
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    write_manifest(args, runs, command_line)
    lock, broken, start = Lock(), Event(), time.monotonic()

    def one(run: Run) -> None:  # after a run breaks (not a failed training: an error here), none starts
        try:
            if not broken.is_set():
                execute(args, run, start)
        except BaseException:
            broken.set()
            raise
        finally:
            with lock:
                write_manifest(args, runs, command_line)

    pool = ThreadPoolExecutor(max_workers=args.workers)
    try:
        list(pool.map(one, runs))
    finally:  # a run that never started keeps the first manifest's "not started"
        pool.shutdown(cancel_futures=True)
    return runs


def finished_rows(work_dir: Path) -> tuple[dict, list[dict]]:
    """The manifest and the one-pass row of every finished run, named by its config, speeds left out."""
    manifest = json.loads((work_dir / "manifest.json").read_text())
    rows = []
    for run in (r for r in manifest["runs"] if r["status"] == "finished"):
        config = Config(**run["config"])
        report = Run(config, run["seed"]).folder(work_dir) / "report" / f"quality_{manifest['profile']}.json"
        found = report_rows(report, manifest["dataset"], "one_shot")
        if len(found) != 1:
            raise ValueError(f"{report}: {len(found)} one-pass rows of {manifest['dataset']}, expected one per run.")
        kept = {k: v for k, v in found[0].items() if "second" not in k}  # runs side by side: no comparable speeds
        rows.append({**kept, **asdict(config), "method": config.label, "row": config.method})
    return manifest, rows


def choose(summary: list[dict], manifest: dict) -> None:
    """Mark per method the config with the best mean `METRIC` among those whose every seed finished."""
    for row in summary:
        row["complete"] = sorted(row["seeds"]) == sorted(manifest["seeds"])
        row["chosen"] = False
    for method in dict.fromkeys(row["row"] for row in summary):
        eligible = [r for r in summary if r["row"] == method and r["complete"]]
        if eligible:
            max(eligible, key=lambda r: r[METRIC])["chosen"] = True


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
    text = table(summary, list(KEYS)) + f"\n\nChosen on validation ({METRIC}, every seed finished): {chosen}\n"
    text += f"Not finished: {ended or 'none'}\n"
    print(text)
    write_report(args.output, "benchmarks.grid", argv, summary, text, lambda rows, p: plot(rows, p, list(KEYS)))
    return summary


def main(argv: list[str] | None = None) -> None:
    """`run` the grid, or `summarize` a run's work_dir."""
    args = parse(argv)
    if args.verb == "run":
        run_grid(args, argv)
    else:
        summarize(args, argv)


if __name__ == "__main__":
    main()
