"""Where does decoding in rounds beat one pass? Tiny BERTs trained on `benchmarks.synthetic` data.

python -m benchmarks.synthetic_decoding --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoTokenizer

from benchmarks.synthetic import DEPENDENCIES, synthetic_data, vocabulary
from lmmlc import BertForLabelMaskClassification, DataCollatorForLabelMask
from lmmlc.metrics import multilabel_metrics
from lmmlc.testing import write_tiny_bert

STRATEGIES = ("one_shot", "confidence", "beam")  # beam: config.decode_beam_size (4)
ROUNDS = STRATEGIES[1:]
METRICS = ("subset_accuracy", "micro_f1")


def tiny_encoder(folder: Path) -> Path:
    """A random 2-layer BERT whose vocabulary holds every synthetic word."""
    return write_tiny_bert(folder, vocabulary(), unused=20)


def train_and_decode(
    encoder: Path,
    train: list[dict],
    test: list[dict],
    names: list[str],
    seed: int = 0,
    steps: int = 600,
    learning_rate: float = 3e-3,
) -> dict[str, dict[str, float]]:
    """Train an LM-MLC model (compact template, text sees the template, random reveal) and score every strategy
    on `test`.

    Returns:
        per strategy, the metrics of `lmmlc.metrics.multilabel_metrics` at threshold 0.5.
    """
    tokenizer = AutoTokenizer.from_pretrained(encoder)

    def features(rows: list[dict], labelled: bool = True) -> list[dict]:
        hot = lambda r: {"labels": [int(n in r["labels"]) for n in names]} if labelled else {}  # noqa: E731
        return [{**tokenizer(r["text"]), **hot(r)} for r in rows]

    torch.manual_seed(seed)
    model = BertForLabelMaskClassification.from_encoder(
        encoder,
        label_names=names,
        mask_mode="per_label",
        prompt_tokens_before=0,
        prompt_tokens_after=0,
        text_attends_labels=True,
        label_stream=False,
    )
    collator = DataCollatorForLabelMask(
        tokenizer, model.config, reveal_strategy="random", reveal_example_prob=0.5, seed=seed
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    generator, train_features = torch.Generator().manual_seed(seed), features(train)
    model.train()
    for _ in range(steps):
        picked = torch.randint(len(train_features), (32,), generator=generator).tolist()
        model(**collator([train_features[i] for i in picked])).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    batch = DataCollatorForLabelMask(tokenizer, model.config, reveal_strategy="none")(features(test, False))
    truth = np.array([[int(n in r["labels"]) for n in names] for r in test])
    return {
        strategy: multilabel_metrics(
            model.decode(**batch, strategy=strategy, thresholds=0.5).predictions.numpy(), truth
        )
        for strategy in STRATEGIES
    }


def run_setting(encoder: Path, dependency: str, visibility: float, seed: int, steps: int, lr: float) -> dict:
    train, names = synthetic_data(2000, seed=1000 + seed, dependency=dependency, group_size=3, visibility=visibility)
    test, _ = synthetic_data(1000, seed=2000 + seed, dependency=dependency, group_size=3, visibility=visibility)
    scores = train_and_decode(encoder, train, test, names, seed=seed, steps=steps, learning_rate=lr)
    row = {"dependency": dependency, "visibility": visibility, "seed": seed}
    for strategy, metrics in scores.items():
        for metric in METRICS:
            row[f"{strategy}_{metric}"] = metrics[metric]
    return row


def summarize(rows: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds of each strategy's scores and of its gain over one pass, per
    setting."""
    settings = sorted({(r["dependency"], r["visibility"]) for r in rows})
    table = []
    for dependency, visibility in settings:
        runs = [r for r in rows if (r["dependency"], r["visibility"]) == (dependency, visibility)]
        entry = {"dependency": dependency, "visibility": visibility, "seeds": len(runs)}
        for metric in METRICS:
            for strategy in STRATEGIES:
                entry[f"{strategy}_{metric}"] = statistics.mean(r[f"{strategy}_{metric}"] for r in runs)
            for strategy in ROUNDS:
                gains = [r[f"{strategy}_{metric}"] - r[f"one_shot_{metric}"] for r in runs]
                entry[f"{strategy}_gain_{metric}"] = statistics.mean(gains)
                entry[f"{strategy}_gain_{metric}_sd"] = statistics.stdev(gains) if len(gains) > 1 else 0.0
        table.append(entry)
    return table


def markdown(table: list[dict]) -> str:
    """Per setting and metric: one pass, then each round strategy with its gain over one pass (sd over seeds)."""
    header = ["dependency", "visibility"]
    for metric in METRICS:
        header += [f"one_shot {metric}", *(f"{strategy} {metric} (gain, sd)" for strategy in ROUNDS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for e in table:
        cells = [e["dependency"], str(e["visibility"])]
        for metric in METRICS:
            cells.append(f"{e[f'one_shot_{metric}']:.3f}")
            cells += [
                f"{e[f'{s}_{metric}']:.3f} ({e[f'{s}_gain_{metric}']:+.3f}, {e[f'{s}_gain_{metric}_sd']:.3f})"
                for s in ROUNDS
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--dependencies", nargs="+", choices=DEPENDENCIES, default=list(DEPENDENCIES))
    parser.add_argument("--visibilities", type=float, nargs="+", default=[0.3, 0.6, 0.9])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--learning_rate", type=float, default=3e-3)
    parser.add_argument("--output_file", default="docs/benchmarks/synthetic_decoding.json")
    args = parser.parse_args()
    transformers.logging.set_verbosity_error()
    encoder = tiny_encoder(Path(tempfile.mkdtemp()) / "bert")
    rows = [
        run_setting(encoder, dependency, visibility, seed, args.steps, args.learning_rate)
        for dependency in args.dependencies
        for visibility in args.visibilities
        for seed in args.seeds
    ]
    table = summarize(rows)
    print(markdown(table))
    report = {"command": " ".join(["python -m benchmarks.synthetic_decoding", *sys.argv[1:]]), **vars(args)}
    report.update(table=table, rows=rows)
    Path(args.output_file).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output_file).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
