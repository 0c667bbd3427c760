"""``python -m cw2v ...``: the ``cw2v`` command line (see ``cw2v.cli``)."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
