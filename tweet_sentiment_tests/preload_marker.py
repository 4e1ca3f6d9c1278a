"""Imported by the warm run launcher's server in its test: records which process imported it."""

import os

IMPORTED_IN = os.getpid()
