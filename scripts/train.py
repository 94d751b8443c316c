"""Train an lmmlc model (same as the `lmmlc-train` command); see `--help`."""

from lmmlc.training import main

if __name__ == "__main__":
    main()
