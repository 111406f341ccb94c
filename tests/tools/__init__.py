"""Developer tooling, not shipped in the wheel: the generators of ``completions/``, ``man/``
and the README's command reference (``python -m tests.tools.generate``), all from the Click
command tree.
"""
