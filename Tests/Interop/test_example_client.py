"""The Python client example in examples/client.py runs against the built server."""
import subprocess
import sys

from conftest import BINARY, ROOT


def test_the_python_client_example_orders_and_reads_the_statement():
    done = subprocess.run(
        [sys.executable, str(ROOT / "Tests" / "Interop" / "examples" / "client.py"), str(BINARY)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "set MX muster.ch -> muster-ch.gate.seppmail.cloud"
    assert "refused: invalid-domain:" in done.stdout
    assert "muster.ch    SC-F-INBOUND     2 x 1.50 = 3.00 CHF" in lines
    assert lines[-1].startswith("total CHF ")
