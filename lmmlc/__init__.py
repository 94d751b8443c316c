"""lmmlc: multi-label text classification by cloze (label mask), HuggingFace-native."""

from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification
from transformers.pipelines import PIPELINE_REGISTRY

from .configuration_lmmlc import MASKED, NO, YES, LabelMaskConfig, MultiLabelBertConfig, max_text_length
from .data_collators import DataCollatorForLabelMask
from .modeling_lmmlc import (
    BertForLabelMaskClassification,
    BertForMultiLabelClassification,
    MultiLabelOutput,
)
from .pipeline_lmmlc import PIPELINE_TASK, MultiLabelClassificationPipeline
from .template_lmmlc import insert_label_template
from .tokenization import build_template_inputs, describe_template, tokenize_for_template

__version__ = "0.1.0"

__all__ = [
    "MASKED",
    "NO",
    "YES",
    "BertForLabelMaskClassification",
    "BertForMultiLabelClassification",
    "DataCollatorForLabelMask",
    "LabelMaskConfig",
    "MultiLabelBertConfig",
    "MultiLabelClassificationPipeline",
    "MultiLabelOutput",
    "build_template_inputs",
    "describe_template",
    "insert_label_template",
    "max_text_length",
    "tokenize_for_template",
]


def _register() -> None:
    """Register with the Auto factories (local use) and for remote code (`save_pretrained` copies it)."""
    for config_class, model_class in (
        (LabelMaskConfig, BertForLabelMaskClassification),
        (MultiLabelBertConfig, BertForMultiLabelClassification),
    ):
        AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
        AutoModel.register(config_class, model_class, exist_ok=True)
        AutoModelForSequenceClassification.register(config_class, model_class, exist_ok=True)
        config_class.register_for_auto_class()
        model_class.register_for_auto_class("AutoModelForSequenceClassification")
    PIPELINE_REGISTRY.register_pipeline(
        PIPELINE_TASK, pipeline_class=MultiLabelClassificationPipeline, pt_model=AutoModelForSequenceClassification
    )


_register()
