"""A Pool's persistent worker: `python -m forkd._pool_worker`, run by forkd as a persistent pool worker.

It reads length-prefixed frames on stdin, each a pickled task (a function and a chunk of arguments),
and writes one frame per task on stdout: ("ok", results) or ("err", exception with its traceback).
One interpreter serves many tasks. What a task prints (sys.stdout, sys.stderr) travels back with its
answer and is printed by the caller, as a multiprocessing worker's prints reach the terminal; what
escapes that (a C extension writing to its descriptors) goes to the worker's stderr, so stdout carries
only frames.
"""
import binascii
import io
import os
import pickle
import sys


def _read_exact(stream, n):
    data = stream.read(n)
    if data is None or len(data) < n:
        return None
    return data


def run(task):
    kind, func, args = task
    if kind == "map":
        return [func(x) for x in args]
    if kind == "starmap":
        return [func(*x) for x in args]
    positional, keywords = args
    return func(*positional, **keywords)


def main():
    from multiprocessing.pool import ExceptionWithTraceback, MaybeEncodingError
    import multiprocessing.spawn
    prep, init = pickle.loads(binascii.a2b_base64(os.environ.pop("FORKD_PY_POOL")))
    multiprocessing.spawn.prepare(prep)
    frames_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    real_stderr = sys.stdout = sys.stderr
    frames_in = sys.stdin.buffer
    initializer, initargs = pickle.loads(init)
    if initializer is not None:
        initializer(*initargs)
    while True:
        header = _read_exact(frames_in, 4)
        if header is None:
            return 0
        data = _read_exact(frames_in, int.from_bytes(header, "big"))
        if data is None:
            return 0
        printed_out, printed_err = io.StringIO(), io.StringIO()
        sys.stdout, sys.stderr = printed_out, printed_err
        try:
            answer = ("ok", run(pickle.loads(data)))
        except Exception as e:
            answer = ("err", ExceptionWithTraceback(e, e.__traceback__))
        finally:
            sys.stdout = sys.stderr = real_stderr
        printed = (printed_out.getvalue(), printed_err.getvalue())
        try:
            out = pickle.dumps(answer + printed, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:
            out = pickle.dumps(("err", MaybeEncodingError(e, answer[1])) + printed, protocol=pickle.HIGHEST_PROTOCOL)
        frames_out.write(len(out).to_bytes(4, "big"))
        frames_out.write(out)
        frames_out.flush()


if __name__ == "__main__":
    sys.exit(main())
