"""A forkd child's entry point: `python -m forkd._bootstrap` with the pickled Process in the
environment. Like multiprocessing's spawn: prepare sys.path, cwd and the parent's main module (as
__mp_main__), unpickle the process object, run it; an exception prints its traceback and exits 1."""
import binascii
import os
import pickle
import sys

# The preparation data prepare() below handles itself (log_to_stderr only when false). Anything else
# (multiprocessing's logging set up in the parent, or a key a newer Python adds) goes to
# multiprocessing.spawn.prepare.
_PREPARED_HERE = frozenset(("name", "log_to_stderr", "sys_path", "sys_argv", "dir", "orig_dir",
                            "init_main_from_name", "init_main_from_path"))
# The __main__ modules the parent's main module replaced, kept referenced as multiprocessing.spawn
# keeps them.
_old_main_modules = []


def prepare(data):
    """multiprocessing.spawn.prepare(data), without importing multiprocessing.spawn: that module
    imports multiprocessing.util and with it subprocess, which a child that only runs its target
    never uses. The same steps in the same order, from CPython's multiprocessing/spawn.py (3.11-3.13)."""
    if not _PREPARED_HERE.issuperset(data) or data.get("log_to_stderr"):
        import multiprocessing.spawn
        multiprocessing.spawn.prepare(data)
        return
    import multiprocessing
    if "name" in data:
        # What multiprocessing.current_process() answers here too (logging's processName reads it).
        multiprocessing.current_process().name = data["name"]
    if "sys_path" in data:
        sys.path = data["sys_path"]
    if "sys_argv" in data:
        sys.argv = data["sys_argv"]
    if "dir" in data:
        os.chdir(data["dir"])
    if "orig_dir" in data:
        multiprocessing.process.ORIGINAL_DIR = data["orig_dir"]
    if "init_main_from_name" in data:
        _main_from_name(data["init_main_from_name"])
    elif "init_main_from_path" in data:
        _main_from_path(data["init_main_from_path"])


def _main_from_name(mod_name):
    # A package's __main__ runs its main-only code unconditionally: nothing to re-run.
    if mod_name == "__main__" or mod_name.endswith(".__main__"):
        return
    if getattr(sys.modules["__main__"].__spec__, "name", None) == mod_name:
        return
    import runpy
    _become_main(lambda: runpy.run_module(mod_name, run_name="__mp_main__", alter_sys=True))


def _main_from_path(main_path):
    # IPython's launch script has no __main__ guard: spawn does not re-run it either.
    if os.path.splitext(os.path.basename(main_path))[0] == "ipython":
        return
    if getattr(sys.modules["__main__"], "__file__", None) == main_path:
        return
    import runpy
    _become_main(lambda: runpy.run_path(main_path, run_name="__mp_main__"))


def _become_main(run):
    import types
    _old_main_modules.append(sys.modules["__main__"])
    main_module = types.ModuleType("__mp_main__")
    main_module.__dict__.update(run())
    sys.modules["__main__"] = sys.modules["__mp_main__"] = main_module


def _await_process():
    """A spare (forkd._warm): what every child imports is imported now, then the pickled process is
    read from stdin, to its end. Empty: the parent did not need this spare (or died), so nothing runs.
    Then stdin is /dev/null, as a fresh child's is."""
    import multiprocessing.process  # noqa: F401 (prepare() imports it)
    import runpy  # noqa: F401
    import types  # noqa: F401
    payload = sys.stdin.buffer.read()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return payload.decode("ascii") or None


def main():
    from forkd import _lifecycle, process
    if sys.argv[1:] == ["--spare"]:
        payload = _await_process()
        if payload is None:
            return 0
    else:
        payload = os.environ.pop("FORKD_PY_PROCESS", None)
        if payload is None:
            sys.stderr.write("forkd._bootstrap: started without a process (FORKD_PY_PROCESS is not set)\n")
            return 2
    # One write per line, even under PYTHONUNBUFFERED (where print() writes its pieces one by one):
    # this child's output reaches the parent as chunks that are relayed apart from its siblings', so
    # a line written in pieces could be split by a sibling's line there, even when a Lock was held
    # around the print. Whole lines keep each print whole, as with multiprocessing's shared stdout.
    sys.stdout.reconfigure(line_buffering=True, write_through=False)
    # The process object is pickled apart from the preparation data: it can be unpickled only once
    # prepare() has imported the parent's main module (functions defined there live in it).
    prep, pickled = pickle.loads(binascii.a2b_base64(payload))
    prepare(prep)
    obj = pickle.loads(pickled)
    process._become(obj)
    try:
        obj.run()
        code = 0
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            sys.stderr.write(str(e.code) + "\n")
            code = 1
    except BaseException:
        code = 1
        import traceback
        sys.stderr.write("Process %s:\n" % obj.name)
        traceback.print_exc()
    finally:
        if not _lifecycle.run() and code == 0:
            code = 1  # what it put was lost (said on stderr): its parent must not take it as done
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
    return code


if __name__ == "__main__":
    sys.exit(main())
