"""Search a fixed label reveal order on validation (same as `lmmlc-find-order`); see `--help`."""

from lmmlc.find_order import main

if __name__ == "__main__":
    main()
