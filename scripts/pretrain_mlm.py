"""Continued MLM pretraining of the encoder on the task's texts (same as `lmmlc-pretrain`); see `--help`."""

from lmmlc.pretraining import main

if __name__ == "__main__":
    main()
