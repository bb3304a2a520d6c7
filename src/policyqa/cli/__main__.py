"""`python -m policyqa.cli`: the `policyqa` command."""

import sys

from policyqa.cli import main

sys.exit(main())
