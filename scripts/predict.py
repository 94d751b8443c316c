"""Predict labels for JSON Lines texts with a trained lmmlc model (same as `lmmlc-predict`); see `--help`."""

from lmmlc.prediction import main

if __name__ == "__main__":
    main()
