"""The ``billbridge-mock`` command: billbridge's stateful mock Stripe over HTTP, for
any Stripe SDK (PHP, Java, Ruby, .NET, Go, Node, Python).

The wheel installs it as a console script (``billbridge-mock --port 12111``);
``python -m billbridge.mock_server`` runs the same. The options, the readiness line
(``billbridge-mock listening on http://127.0.0.1:12111``) and the serving loop are
the Rust mock crate's, shared with its binary; ``billbridge-mock --help`` lists them.
This module only hands the command line over.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from billbridge._native import _run_mock_command

__all__ = ["main"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command with ``argv`` (``sys.argv[1:]`` by default) until Ctrl-C or
    SIGTERM; return its exit code: 0 after a clean stop or ``--help``, 2 for a usage
    error, 1 when it cannot serve."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run_mock_command(arguments)
    except KeyboardInterrupt:
        # Ctrl-C reached the server, which stopped cleanly, and Python's own handler:
        # the interrupt is the expected way out, not an error.
        return 0


if __name__ == "__main__":
    sys.exit(main())
