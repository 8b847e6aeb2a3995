"""``python -m vitruvian``: the same command line as the ``vitruvian`` script."""

from vitruvian.cli import main

if __name__ == "__main__":
    main()
