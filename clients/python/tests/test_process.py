import os
import signal
import subprocess
import sys
import textwrap

import pytest

import forkd
import helpers
from conftest import run_program

WAIT = 60


def test_child_runs_target_with_parents_interpreter_cwd_env_and_sys_path(monkeypatch):
    monkeypatch.setenv("FORKD_TEST_MARK", "from the parent")
    q = forkd.Queue()
    p = forkd.Process(target=helpers.put_info, args=(q,), name="info-child")
    p.start()
    info = q.get(timeout=WAIT)
    p.join(WAIT)
    assert p.exitcode == 0
    assert info["cwd"] == os.getcwd()
    assert info["env"] == "from the parent"
    assert info["exe"] == sys.executable
    assert info["name"] == "info-child"
    assert info["parent_pid"] == os.getpid()
    assert info["parent_alive"] is True
    assert info["daemon"] is False
    assert info["identity"] == p._identity
    assert info["pid"] == p.pid
    for entry in sys.path:
        assert entry in info["path"]


def test_exit_codes_follow_python():
    cases = [(helpers.exit_with, (0,), 0), (helpers.exit_with, (3,), 3), (helpers.boom, (), 1)]
    procs = [(forkd.Process(target=t, args=a), want) for t, a, want in cases]
    for p, _ in procs:
        p.start()
    for p, want in procs:
        p.join(WAIT)
        assert p.exitcode == want
        assert not p.is_alive()


def test_terminate_and_kill_give_negative_signal_exit_codes():
    p, k = forkd.Process(target=helpers.sleep_forever), forkd.Process(target=helpers.sleep_forever)
    p.start()
    k.start()
    assert p.is_alive() and k.is_alive()
    assert p.exitcode is None
    assert p in forkd.active_children()
    p.terminate()
    k.kill()
    p.join(WAIT)
    k.join(WAIT)
    assert p.exitcode == -signal.SIGTERM
    assert k.exitcode == -signal.SIGKILL
    assert p not in forkd.active_children()
    assert "exitcode=-SIGTERM" in repr(p)


def test_join_with_timeout_returns_with_the_process_still_running():
    p = forkd.Process(target=helpers.sleep_forever, daemon=True)
    p.start()
    p.join(0.2)
    assert p.is_alive() and p.exitcode is None
    p.kill()
    p.join(WAIT)
    assert p.exitcode == -signal.SIGKILL


def test_close_refuses_a_running_process_and_forgets_an_ended_one():
    p = forkd.Process(target=helpers.sleep_forever)
    p.start()
    with pytest.raises(ValueError):
        p.close()
    p.kill()
    p.join(WAIT)
    p.close()
    with pytest.raises(ValueError):
        p.is_alive()


def test_names_daemon_flag_and_module_functions():
    assert forkd.current_process().name == "MainProcess"
    assert forkd.parent_process() is None
    p = forkd.Process(target=helpers.exit_with, args=(0,))
    assert p.name.startswith("Process-")
    p.daemon = True
    assert p.daemon
    assert forkd.cpu_count() == os.cpu_count()
    forkd.freeze_support()
    ctx = forkd.get_context("fork")
    assert ctx.get_start_method() == "fork"
    assert ctx.Queue is forkd.Queue
    with pytest.raises(ValueError):
        forkd.get_context("threads")
    forkd.set_start_method("spawn", force=True)
    assert forkd.get_start_method() == "spawn"


def test_output_and_traceback_appear_on_the_parents_stdout_and_stderr(tmp_path):
    program = tmp_path / "prog.py"
    program.write_text(textwrap.dedent("""
        import forkd as multiprocessing

        def f(name):
            print('hello', name)

        def bad():
            raise RuntimeError('broken target')

        if __name__ == '__main__':
            p = multiprocessing.Process(target=f, args=('bob',))
            p.start()
            p.join()
            q = multiprocessing.Process(target=bad)
            q.start()
            q.join()
            print('exit codes', p.exitcode, q.exitcode)
    """))
    done = run_program(str(program))
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err
    assert out.splitlines() == ["hello bob", "exit codes 0 1"]
    assert "Traceback" in err and "RuntimeError: broken target" in err


def test_child_is_prepared_as_spawn_prepares_it_without_loading_spawn(tmp_path):
    # The child's own prepare(): the parent's argv, cwd and main module (as __mp_main__), and the
    # process name in multiprocessing too (logging's processName), with neither multiprocessing.spawn
    # nor subprocess imported unless the program does so itself.
    program = tmp_path / "prog.py"
    program.write_text(textwrap.dedent("""
        import logging, os, sys
        import forkd

        def show(tag):
            import multiprocessing
            logging.basicConfig(format='%(processName)s %(message)s', level=logging.INFO, stream=sys.stdout)
            logging.info('%s %s %s %s %s %s', tag, multiprocessing.current_process().name, sys.argv[1:],
                         os.getcwd() == os.environ['WANT_CWD'], sys.modules['__main__'].__name__,
                         sorted(m for m in ('multiprocessing.spawn', 'subprocess') if m in sys.modules))

        if __name__ == '__main__':
            os.environ['WANT_CWD'] = os.getcwd()
            p = forkd.Process(target=show, args=('plain',), name='kid')
            p.start()
            p.join()
            if sys.argv[1:] == ['log']:
                import multiprocessing
                multiprocessing.log_to_stderr()  # set up in the parent: prepared by multiprocessing itself
                q = forkd.Process(target=show, args=('logged',), name='kid2')
                q.start()
                q.join()
    """))
    plain = subprocess.run([sys.executable, str(program), "x"], capture_output=True, cwd=str(tmp_path), timeout=180)
    assert plain.returncode == 0, plain.stderr.decode()
    assert plain.stdout.decode().splitlines() == ["kid plain kid ['x'] True __mp_main__ []"]
    logged = subprocess.run([sys.executable, str(program), "log"], capture_output=True, cwd=str(tmp_path), timeout=180)
    assert logged.returncode == 0, logged.stderr.decode()
    assert logged.stdout.decode().splitlines() == [
        "kid plain kid ['log'] True __mp_main__ []",
        "kid2 logged kid2 ['log'] True __mp_main__ ['multiprocessing.spawn', 'subprocess']"]


def test_lambda_targets_cannot_be_pickled_as_with_spawn():
    p = forkd.Process(target=lambda: None)
    with pytest.raises(Exception) as e:
        p.start()
    assert "pickle" in str(e.value).lower() or "lambda" in str(e.value).lower()
