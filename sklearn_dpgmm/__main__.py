"""Entry point of ``python -m sklearn_dpgmm``; see :mod:`sklearn_dpgmm.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m sklearn_dpgmm"))
