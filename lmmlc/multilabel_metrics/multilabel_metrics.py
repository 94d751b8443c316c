"""Multi-label metrics as a local `evaluate` module: `evaluate.load(lmmlc.metrics.METRIC_MODULE)`."""

import datasets
import evaluate
import numpy as np

from lmmlc.metrics import binarize, multilabel_metrics

_DESCRIPTION = """Subset accuracy, micro/macro F1, mean per-sample Jaccard, Hamming loss and 1 - Hamming loss
of multi-label predictions. Predictions are probabilities (cut at `threshold`: one value or one per
label) or 0/1 values; references are 0/1 vectors."""

_KWARGS_DESCRIPTION = """
Args:
    predictions: per example, one probability (or 0/1) per label.
    references: per example, one 0/1 value per label.
    threshold: a float or a list of one float per label (default 0.5).
Returns:
    subset_accuracy, micro_f1, macro_f1, jaccard, hamming_loss, hamming_score.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MultilabelMetrics(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("float32")),
                    "references": datasets.Sequence(datasets.Value("int32")),
                }
            ),
        )

    def _compute(self, predictions, references, threshold=0.5) -> dict:
        return multilabel_metrics(binarize(np.asarray(predictions), threshold), np.asarray(references))
