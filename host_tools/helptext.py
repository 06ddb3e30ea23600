"""Help text for the command-line tools, from their module docstrings."""

from __future__ import annotations

import argparse
import textwrap


def parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """An argument parser whose --help shows the whole docstring as it is written: its first
    paragraph above the options, the rest (usage examples, notes) below them."""
    text = textwrap.dedent(doc or "").strip()
    first, _, rest = text.partition("\n\n")
    return argparse.ArgumentParser(prog=prog, description=first, epilog=rest or None,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
