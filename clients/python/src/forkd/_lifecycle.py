"""What runs when this process ends, in a fixed order whatever order the modules were imported in:
queued puts reach the server, children are joined (as multiprocessing does), pipe ends this process
holds are closed (so readers see end-of-file), then the objects this process made are deleted."""
import atexit

FLUSH_QUEUES, JOIN_CHILDREN, CLOSE_ENDS, DELETE_OWNED, DISCONNECT = range(5)
_stages = [[] for _ in range(5)]


def at_exit(stage):
    def register(fn):
        _stages[stage].append(fn)
        return fn
    return register


def run():
    for stage in _stages:
        for fn in list(stage):
            try:
                fn()
            except Exception:
                pass  # the server may be gone at exit; nothing is left to save then
        stage.clear()


atexit.register(run)


def own(delete):
    """Deletes a server object this process made when this process ends (after its children are
    joined: a child may still use it until then)."""
    _stages[DELETE_OWNED].append(delete)
