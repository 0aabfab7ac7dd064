import pytest

import forkd
import helpers

WAIT = 60


def test_manager_proxies_are_shared_with_children():
    with forkd.Manager() as manager:
        d = manager.dict()
        lst = manager.list(range(3))
        ns = manager.Namespace(x=1)
        v = manager.Value("i", 5)
        q = manager.Queue()
        lock = manager.Lock()
        p = forkd.Process(target=helpers.manager_child, args=(d, lst, ns, v, q, lock))
        p.start()
        assert q.get(timeout=WAIT) == "done"
        p.join(WAIT)
        assert d["child"] == p.pid and d[1] == "one"
        assert lst[:] == [0, 1, 2, "from child"]
        assert ns.x == 2
        assert v.value == 15


def test_dict_proxy_keeps_insertion_order_and_dict_api():
    with forkd.Manager() as manager:
        d = manager.dict()
        d[1] = "1"
        d["2"] = 2
        d[0.25] = None
        assert str(d) == "{1: '1', '2': 2, 0.25: None}"
        d[1] = "one"  # an update keeps its place
        assert list(d.keys()) == [1, "2", 0.25]
        assert d.get("missing", 7) == 7 and "2" in d and len(d) == 3
        del d["2"]
        with pytest.raises(KeyError):
            d["2"]
        assert d.pop(0.25) is None
        assert d.setdefault("k", [1]) == [1]
        d.update({"a": 1}, b=2)
        assert d.copy() == {1: "one", "k": [1], "a": 1, "b": 2}
        d.clear()
        assert len(d) == 0 and d.copy() == {}


def test_list_proxy_list_api():
    with forkd.Manager() as manager:
        lst = manager.list()
        assert len(lst) == 0 and str(lst) == "[]"
        lst.extend([3, 1, 2])
        lst.append(0)
        lst.reverse()
        assert lst[:] == [0, 2, 1, 3]
        lst.sort()
        assert list(lst) == [0, 1, 2, 3]
        assert lst.pop() == 3 and lst.pop(0) == 0
        lst[0] = "x"
        lst.insert(1, "y")
        lst.remove(2)
        assert lst[:] == ["x", "y"] and lst[-1] == "y"
        with pytest.raises(IndexError):
            lst[10]


def test_manager_sync_objects_and_namespace():
    with forkd.Manager() as manager:
        ns = manager.Namespace()
        ns.a = 1
        ns.b = "two"
        assert repr(ns) == "Namespace(a=1, b='two')"
        del ns.a
        with pytest.raises(AttributeError):
            ns.a
        for make in (manager.Lock, manager.RLock, manager.Semaphore, manager.BoundedSemaphore):
            with make():
                pass
        e = manager.Event()
        e.set()
        assert e.is_set()
        jq = manager.JoinableQueue()
        jq.put(1)
        assert jq.get(timeout=WAIT) == 1
        jq.task_done()
        jq.join()
        arr = manager.Array("i", [1, 2])
        assert arr[:] == [1, 2]
