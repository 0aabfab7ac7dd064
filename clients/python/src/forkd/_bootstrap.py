"""A forkd child's entry point: `python -m forkd._bootstrap` with the pickled Process in the
environment. Like multiprocessing's spawn: prepare sys.path, cwd and the parent's main module (as
__mp_main__), unpickle the process object, run it; an exception prints its traceback and exits 1."""
import binascii
import os
import pickle
import sys


def main():
    payload = os.environ.pop("FORKD_PY_PROCESS", None)
    if payload is None:
        sys.stderr.write("forkd._bootstrap: started without a process (FORKD_PY_PROCESS is not set)\n")
        return 2
    import multiprocessing.spawn
    from forkd import _lifecycle, process
    # One write per line, even under PYTHONUNBUFFERED (where print() writes its pieces one by one):
    # this child's output reaches the parent as chunks that are relayed apart from its siblings', so
    # a line written in pieces could be split by a sibling's line there, even when a Lock was held
    # around the print. Whole lines keep each print whole, as with multiprocessing's shared stdout.
    sys.stdout.reconfigure(line_buffering=True, write_through=False)
    # The process object is pickled apart from the preparation data: it can be unpickled only once
    # prepare() has imported the parent's main module (functions defined there live in it).
    prep, pickled = pickle.loads(binascii.a2b_base64(payload))
    multiprocessing.spawn.prepare(prep)
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
