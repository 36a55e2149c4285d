#!/usr/bin/env python
"""Django's command-line utility, with one-line answers to configuration mistakes."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "environment.settings")
    from environment.cli_errors import run_friendly

    run_friendly(sys.argv)


if __name__ == "__main__":
    main()
