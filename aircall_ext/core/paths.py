"""What a file path read back from a journal or a saved plan must be: text the system can
name a file with. A NUL character, or one the file system's encoding cannot hold (a lone
surrogate such as the JSON escape ``\\ud800``), fails only when the file is opened, so the
readers refuse it as damage at its field first.
"""

from __future__ import annotations

import os


def is_path(value: object) -> bool:
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        os.fsencode(value)
    except UnicodeEncodeError:
        return False
    return True
