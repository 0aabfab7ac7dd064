"""forkd: Python's multiprocessing API, served by a forkd server.

    import forkd as multiprocessing

Processes, queues, pipes, locks, shared values and pools are the server's: a worker that dies does not
hang a map, a lock dies with its holder, and other languages (and the `forkd` CLI) can use the same
queues and locks. The server is $FORKD_ADDRESS, else the default socket (started by the `forkd`
command if none runs). See the README's "Python" section for where this differs from multiprocessing.
"""
from multiprocessing import AuthenticationError, BufferTooShort, ProcessError, TimeoutError  # noqa: F401

from forkd._rpc import ForkdError  # noqa: F401
from forkd.connection import Connection, Pipe  # noqa: F401
from forkd.context import (cpu_count, freeze_support, get_all_start_methods, get_context,  # noqa: F401
                           get_start_method, set_start_method)
from forkd.managers import Manager, SyncManager  # noqa: F401
from forkd.pool import Pool, TaskFailed  # noqa: F401
from forkd.process import Process, active_children, current_process, parent_process  # noqa: F401
from forkd.queues import JoinableQueue, Queue, SimpleQueue  # noqa: F401
from forkd.sharedctypes import Array, RawArray, RawValue, Value  # noqa: F401
from forkd.synchronize import Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore  # noqa: F401

__version__ = "0.1.0"

__all__ = [
    "Array", "AuthenticationError", "Barrier", "BoundedSemaphore", "BufferTooShort", "Condition", "Connection",
    "Event", "ForkdError", "JoinableQueue", "Lock", "Manager", "Pipe", "Pool", "Process", "ProcessError",
    "Queue", "RLock", "RawArray", "RawValue", "Semaphore", "SimpleQueue", "TaskFailed", "TimeoutError",
    "Value", "active_children", "cpu_count", "current_process", "freeze_support", "get_all_start_methods",
    "get_context", "get_start_method", "parent_process", "set_start_method",
]
