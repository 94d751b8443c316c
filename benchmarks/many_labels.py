"""Many labels: LM-MLC's label stream against the pooled baseline, the stock head, LibMultiLabel's linear
one-vs-rest and fastText one-vs-all, on cooking-stackexchange (736 tags), one run, same split and budget.

Every BERT row trains through `lmmlc-train` on the bundled MiniLM (full train set, the same epochs, batch and
schedule; thresholds tuned on validation); the anchors come from `benchmarks.anchors` (validation-tuned
thresholds too). Test split only for reporting.

    python -m benchmarks.many_labels                       # about 55 minutes on 2 CPU cores (4 epochs)

Writes docs/benchmarks/many_labels.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.anchors import run_anchor
from benchmarks.reporting import grouped_bars, new_figure, save_figure, write_report
from lmmlc.training import main as train

COMPACT = ["--mask_mode", "per_label", "--prompt_tokens_before", "0", "--prompt_tokens_after", "0"]
BEFORE_5I = ["--pooled_text_head", "false"]
"""The rows measured before 5i keep their meaning past one group: cloze scores only."""
STREAM = [*COMPACT, "--reveal_strategy", "none", "--label_sample_size", "32", *BEFORE_5I]
"""The rows measured before the pooled text head became the default keep their meaning (cloze scores only)."""
NO_RANKER = ["--label_shortlist_size", "0"]
"""The rows measured before a ranker became the default past one group keep their meaning (every label scored)."""
SHORTLIST = ["--label_shortlist_size", "128", "--ranker_score_weight", "0"]
"""The rows with a ranker measured before its fused score (5h) keep their meaning: the stream's scores alone."""
BERT_ROWS = {
    "lmmlc-stream": [*STREAM, "--label_stream_layers", "2", *NO_RANKER],
    "lmmlc-stream-top1": [*STREAM, "--label_stream_layers", "1", *NO_RANKER],
    # with a label ranker: inference scores only its top 128 labels per example (benchmarks.shortlist: other sizes)
    "lmmlc-stream-shortlist": [
        *[*STREAM, "--label_stream_layers", "2", *SHORTLIST],
        *["--head_learning_rate", "3e-4"],  # the ranker at the encoder's rate, as measured before 3e-2 was its default
    ],
    # the heads shipped before 5i with this recipe (32 sampled labels; lmmlc-train's default is 64): no pooled text head
    # past one group, the ranker at 3e-2
    "lmmlc-shortlist-defaults": [
        *[*COMPACT, "--reveal_strategy", "none", "--label_sample_size", "32"],
        *["--label_stream_layers", "2", *SHORTLIST],
        *BEFORE_5I,
    ],
    # the same + the pooled baseline's head beside the cloze scores; new heads (this one, the ranker) at 3e-2. Since
    # docs/experiments/NOTEBOOK.md 5i the head trains on every label with sampled labels: a rerun measures that, not
    # 5g's row
    # (the head on the sampled labels only), which no option restores
    "lmmlc-stream-shortlist-pooled": [
        *[*STREAM, "--label_stream_layers", "2", *SHORTLIST],
        *["--pooled_text_head", "true", "--head_learning_rate", "3e-2"],  # later options win
    ],
    # lmmlc-shortlist-defaults at lmmlc-train's default sample size past one group: one whole group (64 labels) per
    # example
    "lmmlc-shortlist-sample64": [
        *[*COMPACT, "--reveal_strategy", "none", "--label_sample_size", "64"],
        *["--label_stream_layers", "2", *SHORTLIST],
        *BEFORE_5I,
    ],
    # the row above as lmmlc-train shipped it past one group from 5h to 5i: the ranker's score fused at 0.2
    "lmmlc-shortlist-fused": [
        *[*COMPACT, "--reveal_strategy", "none", "--label_sample_size", "64"],
        *["--label_stream_layers", "2", "--label_shortlist_size", "128"],
        *BEFORE_5I,
    ],
    "baseline": ["--model_type", "baseline", "--pooling", "mean"],
    # a recipe for many labels: ZLPR (multi-label softmax) and a 5x learning rate for the new 736-way head
    "baseline-zlpr": [
        "--model_type",
        "baseline",
        "--pooling",
        "mean",
        "--classification_loss",
        "zlpr",
        "--learning_rate",
        "1e-3",
    ],
    "stock": ["--model_type", "stock"],
}
ANCHOR_ROWS = ("linear", "fasttext")
COLUMNS = [
    ("P@1", "test_p@1"),
    ("P@5", "test_p@5"),
    ("R@5", "test_r@5"),
    ("nDCG@5", "test_ndcg@5"),
    ("micro-F1", "test_micro_f1@global"),
    ("macro-F1", "test_macro_f1@global"),
    ("macro-F1 per-label thr.", "test_macro_f1@per_label"),
    ("subset acc.", "test_subset_accuracy@global"),
]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="../shared/data/cooking-stackexchange")
    parser.add_argument("--rows", nargs="+", default=[*BERT_ROWS, *ANCHOR_ROWS], choices=[*BERT_ROWS, *ANCHOR_ROWS])
    parser.add_argument("--model_name_or_path", help="Encoder (default: the bundled MiniLM).")
    parser.add_argument("--epochs", default="4")
    parser.add_argument(
        "--learning_rate", help="Of every BERT row (default: lmmlc-train's measured default of each row's model type)."
    )
    parser.add_argument("--seed", type=int, default=42, help="Training seed of the BERT rows (a work_dir per seed).")
    parser.add_argument("--max_train_samples", help="Cut the train set (smoke runs only).")
    parser.add_argument("--max_eval_samples", help="Cut validation and test (smoke runs only).")
    parser.add_argument("--work_dir", default="outputs/many_labels")
    parser.add_argument("--output", default="docs/benchmarks/many_labels")
    return parser.parse_args(argv)


def bert_options(args: argparse.Namespace, name: str) -> list[str]:
    """The `lmmlc-train` command line of one BERT row."""
    options = ["--data_dir", args.data_dir, "--output_dir", str(Path(args.work_dir) / name)]
    options += ["--num_train_epochs", args.epochs, "--warmup_steps", "30"]
    options += ["--per_device_train_batch_size", "32", "--per_device_eval_batch_size", "64", "--seed", str(args.seed)]
    options += ["--save_strategy", "no", "--report_to", "none", "--logging_steps", "50", "--max_seq_length", "64"]
    options += ["--overwrite_output_dir"]  # a rerun replaces the row's earlier model
    for flag in ("learning_rate", "max_train_samples", "max_eval_samples", "model_name_or_path"):
        if getattr(args, flag):
            options += [f"--{flag}", getattr(args, flag)]
    if args.max_eval_samples:
        options += ["--max_predict_samples", args.max_eval_samples]
    return options + BERT_ROWS[name]


def run_bert(args: argparse.Namespace, name: str) -> dict:
    options = bert_options(args, name)
    start = time.perf_counter()
    train(options)
    results = json.loads((Path(args.work_dir) / name / "all_results.json").read_text())
    speed = {
        "train_examples_per_second": results.get("train_samples_per_second"),
        "wall_seconds": time.perf_counter() - start,
    }
    return {"row": name, "seed": args.seed, "command": "lmmlc-train " + " ".join(options), **speed, **results}


def table(rows: list[dict]) -> str:
    head = "| row | " + " | ".join(name for name, _ in COLUMNS) + " | train ex/s | x stock |"
    lines = [head, "|---" * (len(COLUMNS) + 3) + "|"]
    stock = next((r for r in rows if r["row"] == "stock"), None)
    for r in rows:
        cells = " | ".join(f"{r[key]:.3f}" if r.get(key) is not None else "" for _, key in COLUMNS)
        speed = r.get("train_examples_per_second")
        ratio = f"{speed / stock['train_examples_per_second']:.2f}" if speed and stock else ""
        lines.append(f"| {r['row']} | {cells} | {speed or 0:.1f} | {ratio} |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    figure, axis = new_figure(size=(10, 4))
    bars = [(row["row"], [row.get(key) or 0 for _, key in COLUMNS], None) for row in rows]
    grouped_bars(axis, [name for name, _ in COLUMNS], bars, fontsize=8)
    axis.set(ylabel="test", title="cooking-stackexchange (736 tags), MiniLM, 2 CPU cores")
    save_figure(figure, axis, path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    rows = []
    for name in args.rows:
        if name in BERT_ROWS:
            rows.append(run_bert(args, name))
        else:
            result = run_anchor(name, args.data_dir)
            rows.append({"row": name, **result})
        print(json.dumps({k: v for k, v in rows[-1].items() if not k.startswith("eval_")}), flush=True)
    print(table(rows))
    write_report(args.output, "benchmarks.many_labels", argv, rows, table(rows), plot)


if __name__ == "__main__":
    main()
