"""Documents derived from the command tree (man pages, the README's command reference).

Written by ``python -m aircall_ext._generate``; never imported by the CLI at run time.
"""
