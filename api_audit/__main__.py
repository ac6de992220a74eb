"""`python -m api_audit` runs the command line."""

import sys

from api_audit.cli import main

sys.exit(main())
