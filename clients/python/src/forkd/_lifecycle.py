"""What runs when this process ends, in a fixed order whatever order the modules were imported in:
queued puts reach the server, children are joined (as multiprocessing does), pipe ends this process
holds are closed (so readers see end-of-file), then the objects this process made are deleted.

A step that lost something the program made (puts that never reached their queue) says so on stderr
and answers False; run() then answers False, and a forkd child exits 1 (forkd._bootstrap)."""
import atexit

FLUSH_QUEUES, JOIN_CHILDREN, CLOSE_ENDS, DELETE_OWNED, DISCONNECT = range(5)
_stages = [[] for _ in range(5)]


def at_exit(stage):
    def register(fn):
        _stages[stage].append(fn)
        return fn
    return register


def run():
    """Runs every step once; answers False when one of them lost something (and said so on stderr)."""
    clean = True
    for stage in _stages:
        for fn in list(stage):
            try:
                if fn() is False:
                    clean = False
            except Exception:
                pass  # a cleanup the server cannot take (it is gone at exit): nothing is lost by it
        stage.clear()
    return clean


atexit.register(run)


def own(delete):
    """Deletes a server object this process made when this process ends (after its children are
    joined: a child may still use it until then)."""
    _stages[DELETE_OWNED].append(delete)
