"""aircall-ext: manage the user extensions of a cloud phone system."""

# A literal (not importlib.metadata) so that `--version` costs no import time.
__version__ = "0.2.0"
