"""Label frequencies, co-occurrence and phi correlation of a dataset (same as `lmmlc-analyze-labels`); see `--help`."""

from lmmlc.label_analysis import main

if __name__ == "__main__":
    main()
