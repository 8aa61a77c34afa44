"""`python -m benchmarks [--quick]`: see benchmarks/suite.py."""

from benchmarks.suite import main

main()
