"""forkd: Python's multiprocessing API, served by a forkd server.

    import forkd as multiprocessing

Processes, queues, pipes, locks, shared values and pools are the server's: a worker that dies does not
hang a map, a lock dies with its holder, and other languages (and the `forkd` CLI) can use the same
queues and locks. The server is $FORKD_ADDRESS, else the default socket (started by the `forkd`
command if none runs). See the README's "Python" section for where this differs from multiprocessing.
"""
import importlib

# Names are imported on first use (PEP 562), so a child that only runs a function does not import
# the whole package (nor grpc) before it starts.
_WHERE = {
    "ForkdError": "forkd._rpc",
    "Connection": "forkd.connection", "Pipe": "forkd.connection",
    "cpu_count": "forkd.context", "freeze_support": "forkd.context", "get_all_start_methods": "forkd.context",
    "get_context": "forkd.context", "get_start_method": "forkd.context", "set_start_method": "forkd.context",
    "Manager": "forkd.managers", "SyncManager": "forkd.managers",
    "Pool": "forkd.pool", "TaskFailed": "forkd.pool",
    "Process": "forkd.process", "active_children": "forkd.process", "current_process": "forkd.process",
    "parent_process": "forkd.process",
    "JoinableQueue": "forkd.queues", "Queue": "forkd.queues", "SimpleQueue": "forkd.queues",
    "Array": "forkd.sharedctypes", "RawArray": "forkd.sharedctypes", "RawValue": "forkd.sharedctypes",
    "Value": "forkd.sharedctypes",
    "Barrier": "forkd.synchronize", "BoundedSemaphore": "forkd.synchronize", "Condition": "forkd.synchronize",
    "Event": "forkd.synchronize", "Lock": "forkd.synchronize", "RLock": "forkd.synchronize",
    "Semaphore": "forkd.synchronize",
    # multiprocessing's own exception classes, so `except multiprocessing.X` catches ours and theirs.
    "AuthenticationError": "multiprocessing", "BufferTooShort": "multiprocessing", "ProcessError": "multiprocessing",
    "TimeoutError": "multiprocessing",
}


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError("module 'forkd' has no attribute %r" % name)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_WHERE))


__version__ = "0.1.0"

__all__ = [
    "Array", "AuthenticationError", "Barrier", "BoundedSemaphore", "BufferTooShort", "Condition", "Connection",
    "Event", "ForkdError", "JoinableQueue", "Lock", "Manager", "Pipe", "Pool", "Process", "ProcessError",
    "Queue", "RLock", "RawArray", "RawValue", "Semaphore", "SimpleQueue", "TaskFailed", "TimeoutError",
    "Value", "active_children", "cpu_count", "current_process", "freeze_support", "get_all_start_methods",
    "get_context", "get_start_method", "parent_process", "set_start_method",
]
