"""``python -m hubopt.cli``: the `hubopt` command line."""

from hubopt.cli import main

main()
