"""Score a trained lmmlc model folder on data (same as `lmmlc-evaluate`); see `--help`."""

from lmmlc.evaluation import main

if __name__ == "__main__":
    main()
