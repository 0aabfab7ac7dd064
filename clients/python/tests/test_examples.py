"""The examples of Python's multiprocessing documentation, run unchanged but for the import, and their
output compared with the same program under the real multiprocessing."""
import os
import re

import pytest

from conftest import run_program

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "examples")
# Programs whose output order is up to the scheduler: compared as sorted lines.
UNORDERED = {"lock.py", "pool_workers.py"}


def normalise(name, out):
    text = out.decode()
    if name == "pool_workers.py":
        text = re.sub(r"\b(?!400\b)\d{3,}\b", "PID", text)
    lines = text.splitlines()
    return sorted(lines) if name in UNORDERED else lines


def with_forkd(source):
    """Only the import changes: `multiprocessing` becomes `forkd` in the import lines."""
    return re.sub(r"^from multiprocessing import", "from forkd import", source, flags=re.M)


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(EXAMPLES) if n.endswith(".py")))
def test_example_prints_what_multiprocessing_prints(name, tmp_path):
    source = open(os.path.join(EXAMPLES, name)).read()
    changed = with_forkd(source)
    assert changed != source
    original, ported = tmp_path / ("mp_" + name), tmp_path / ("forkd_" + name)
    original.write_text(source)
    ported.write_text(changed)
    expected = run_program(str(original))
    got = run_program(str(ported))
    assert expected.returncode == 0, expected.stderr.decode()
    assert got.returncode == 0, got.stderr.decode()
    assert normalise(name, got.stdout) == normalise(name, expected.stdout)
    assert expected.stdout  # the comparison compared something
