"""python -m governance: the same as the `mlgov` command."""

from governance.launcher import main

main()
