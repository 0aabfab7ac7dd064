"""The README's install command works with the machine's Python and Debian's grpcio and protobuf, and
the README's five-line example runs on the installed package."""
import os
import re
import subprocess
import sys

from conftest import PACKAGE_ROOT, REPO


def readme_python_section():
    text = open(os.path.join(REPO, "README.md")).read()
    return text[text.index("### Python"):text.index("### Any gRPC client")]


def test_pip_install_then_the_readme_example(tmp_path):
    section = readme_python_section()
    install = re.search(r"```sh\n(pip install [^\n]*)\n```", section).group(1)
    example = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(example.strip().splitlines()) == 5
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    args = install.split()[2:]
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-index", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    program = tmp_path / "example.py"
    program.write_text(example)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the installed package, not src/
    run = subprocess.run([str(venv / "bin" / "python"), str(program)], capture_output=True, text=True,
                         timeout=300, env=env, cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str([x * x for x in range(10)])
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import forkd; print(forkd.__file__)"],
                           capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    assert PACKAGE_ROOT not in where.stdout
