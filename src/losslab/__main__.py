"""``python -m losslab``: the same command as ``losslab``."""

from losslab.cli import main

if __name__ == "__main__":
    main()
