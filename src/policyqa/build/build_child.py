"""A background build's child process: `python -m policyqa.build.build_child REQUEST` (background_build.main).

A module of its own: the package imports background_build, and Python warns (into the build report the UI shows)
when a module already imported is run as __main__."""

import sys

from policyqa.build.background_build import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
