"""`python -m fdsl_gen.cli ...`, as the console script."""

from . import main

main()
