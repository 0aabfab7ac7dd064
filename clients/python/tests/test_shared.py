import ctypes

import pytest

import forkd
import helpers

WAIT = 60


def test_value_and_array_changed_by_a_child():
    num = forkd.Value("d", 0.0)
    arr = forkd.Array("i", range(10))
    p = forkd.Process(target=helpers.negate, args=(num, arr))
    p.start()
    p.join(WAIT)
    assert num.value == 3.1415927
    assert arr[:] == [0, -1, -2, -3, -4, -5, -6, -7, -8, -9]


def test_get_lock_makes_increments_from_two_processes_exact():
    v = forkd.Value("i", 0)
    ps = [forkd.Process(target=helpers.increment, args=(v, True, 50)) for _ in range(2)]
    for p in ps:
        p.start()
    for p in ps:
        p.join(WAIT)
        assert p.exitcode == 0
    assert v.value == 100


def test_value_types_and_raw_values():
    assert forkd.Value(ctypes.c_bool, True).value is True
    assert forkd.Value("c", b"x").value == b"x"
    assert forkd.Value("u", "z").value == "z"
    assert forkd.Value(ctypes.c_double).value == 0.0
    raw = forkd.RawValue("q", 7)
    raw.value = 8
    assert raw.value == 8
    with pytest.raises(AttributeError):
        raw.get_lock()
    with forkd.Value("i", 1) as _:
        pass


def test_array_indexing_slicing_and_errors():
    a = forkd.Array("d", 5)
    assert len(a) == 5 and a[:] == [0.0] * 5
    a[1] = 2.5
    a[-1] = 4.0
    a[2:4] = [7, 8]
    assert list(a) == [0.0, 2.5, 7.0, 8.0, 4.0]
    assert a[::2] == [0.0, 7.0, 4.0]
    a[::2] = [1, 1, 1]
    assert a[0] == 1.0 and a[-1] == 1.0
    with pytest.raises(IndexError):
        a[5]
    with pytest.raises(ValueError):
        a[0:2] = [1]
    c = forkd.Array("c", b"hi\x00\x00")
    assert c.value == b"hi" and c.raw == b"hi\x00\x00"
    with forkd.Array("i", 2).get_lock():
        pass
    assert forkd.RawArray("i", [5, 6])[:] == [5, 6]
