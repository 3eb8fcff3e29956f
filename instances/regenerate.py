#!/usr/bin/env python3
"""Regenerate every generated file of this directory from the zoo and the accelerator presets.

    python instances/regenerate.py            # rewrite instances/ in place
    python instances/regenerate.py OUT_DIR    # write the same files elsewhere

What is generated and why: optimus_opt/studies/regenerate.py. tests/test_instances.py fails when a checked-in file differs
from what this writes; run this after changing a zoo builder, a preset or a suite, and commit the result.
The worked examples ``example-64k.json``, ``example-32k.json`` and ``example-se.json`` are written by hand and
left alone.
"""

import sys
from pathlib import Path

from optimus_opt.studies.regenerate import write_generated


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: python instances/regenerate.py [OUT_DIR]", file=sys.stderr)
        return 2
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent
    written = write_generated(root)
    print(f"wrote {len(written)} files under {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
