"""`lmmlc-demo`: the Gradio demo (`demo_app.py`) on a trained folder or its ONNX export, or written as a Space app.

lmmlc-demo --model_path M                      # http://127.0.0.1:7860, the torch model
lmmlc-demo --model_path M --backend onnx-int8  # the int8 export (lmmlc-export --quantize int8)
lmmlc-demo --model_path M --write_space        # M/app.py + M/requirements.txt: upload M as a Gradio Space
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from .pipeline_lmmlc import MultiLabelClassificationPipeline
from .prediction import BACKENDS, check_backend, load_model

APP_SOURCE = Path(__file__).with_name("demo_app.py")
SPACE_REQUIREMENTS = ["gradio>=5", "torch", "transformers>=4.57"]
"""What the Space's app.py needs: the model itself loads as remote code."""


@dataclass
class DemoArguments:
    model_path: str = field(metadata={"help": "A trained model folder (or, with an ONNX backend, its export)."})
    backend: str = field(default="torch", metadata={"help": f"One of {', '.join(BACKENDS)}."})
    title: str = field(default="Multi-label text classification", metadata={"help": "The page's title."})
    host: str = field(default="127.0.0.1", metadata={"help": "Address to serve on."})
    port: int = field(default=7860, metadata={"help": "Port to serve on."})
    write_space: bool = field(
        default=False, metadata={"help": "Write app.py and requirements.txt into the model folder; serve nothing."}
    )


def load_classifier(path: str, backend: str = "torch") -> MultiLabelClassificationPipeline:
    """The multi-label pipeline over the model of `path` on `backend` (torch, or an ONNX export)."""
    check_backend(backend, None)
    model, tokenizer = load_model(path, backend)
    return MultiLabelClassificationPipeline(model=model, tokenizer=tokenizer)


def write_space(folder: Path) -> list[Path]:
    """`folder/app.py` (the demo, loading the folder as remote code) and `folder/requirements.txt`; refuses to
    replace files lmmlc did not write."""
    if not (folder / "config.json").exists():
        raise ValueError(f"{folder} is not a model folder (no config.json): give lmmlc-train's --output_dir.")
    app, requirements = folder / "app.py", folder / "requirements.txt"
    source = APP_SOURCE.read_text(encoding="utf-8")
    for path, text in ((app, source), (requirements, "\n".join(SPACE_REQUIREMENTS) + "\n")):
        if path.exists() and path.read_text(encoding="utf-8") != text:
            raise ValueError(f"{path} exists and was not written by lmmlc-demo: move it out of the folder first.")
    app.write_text(source, encoding="utf-8")
    requirements.write_text("\n".join(SPACE_REQUIREMENTS) + "\n", encoding="utf-8")
    return [app, requirements]


def main(argv: list[str] | None = None) -> None:
    (args,) = HfArgumentParser(DemoArguments).parse_args_into_dataclasses(argv)
    if args.write_space:
        written = write_space(Path(args.model_path))
        print("Wrote " + ", ".join(map(str, written)) + f": upload {args.model_path} as a Gradio Space.")
        return
    from .demo_app import build_demo

    demo = build_demo(load_classifier(args.model_path, args.backend), args.title)
    demo.launch(server_name=args.host, server_port=args.port)
