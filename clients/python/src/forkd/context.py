"""get_context, set_start_method and the module-level functions of multiprocessing.

Every start method runs children the same way in forkd: a fresh interpreter that imports the parent's
main module and unpickles the target, which is what "spawn" means. "fork" and "forkserver" are accepted
and behave as "spawn" (nothing is inherited by forking), and get_start_method() reports the one asked for.
"""
import os

METHODS = ("spawn", "fork", "forkserver")
_method = None


class BaseContext:
    """A context object: the package's API, bound to a start method name."""

    def __init__(self, method):
        self._name = method

    def get_start_method(self, allow_none=False):
        return self._name

    def __getattr__(self, name):
        import forkd
        return getattr(forkd, name)

    def __repr__(self):
        return "<forkd context %r>" % self._name


def get_context(method=None):
    if method is None:
        return BaseContext(get_start_method())
    if method not in METHODS:
        raise ValueError("cannot find context for %r" % method)
    return BaseContext(method)


def set_start_method(method, force=False):
    global _method
    if _method is not None and not force:
        raise RuntimeError("context has already been set")
    if method is not None and method not in METHODS:
        raise ValueError("cannot find context for %r" % method)
    _method = method


def get_start_method(allow_none=False):
    if _method is None and allow_none:
        return None
    return _method or "spawn"


def get_all_start_methods():
    return list(METHODS)


def cpu_count():
    n = os.cpu_count()
    if n is None:
        raise NotImplementedError("cannot determine number of cpus")
    return n


def freeze_support():
    """Nothing to do: forkd children are started with `python -m forkd._bootstrap`, never a frozen executable."""
