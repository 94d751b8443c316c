"""Write the model card of a trained lmmlc folder and push it to the Hub (same as `lmmlc-push`); see `--help`."""

from lmmlc.push import main

if __name__ == "__main__":
    main()
