import pytest

import forkd
import helpers

WAIT = 60


def test_duplex_pipe_sends_objects_both_ways_with_a_child():
    parent, child = forkd.Pipe()
    p = forkd.Process(target=helpers.pipe_echo, args=(child,))
    p.start()
    child.close()  # the parent lets go of its copy; the child holds the end
    for m in ([42, None, "hello"], b"bytes", {"k": 1}):
        parent.send(m)
        assert parent.recv() == ("echo", m)
    parent.close()  # the child sees end-of-file and returns
    p.join(WAIT)
    assert p.exitcode == 0


def test_recv_raises_eof_once_the_other_end_closed_and_drained():
    r, w = forkd.Pipe(duplex=False)
    p = forkd.Process(target=helpers.pipe_send_and_close, args=(w, [1, 2, 3]))
    p.start()
    got = [r.recv() for _ in range(3)]
    with pytest.raises(EOFError):
        r.recv()
    p.join(WAIT)
    assert got == [1, 2, 3]


def test_end_of_file_also_when_the_child_exits_without_closing_its_end():
    r, w = forkd.Pipe(duplex=False)
    p = forkd.Process(target=helpers.pipe_send_no_close, args=(w, ["only"]))
    p.start()
    assert r.recv() == "only"
    with pytest.raises(EOFError):
        r.recv()
    p.join(WAIT)


def test_poll_send_bytes_recv_bytes_and_one_way_ends():
    a, b = forkd.Pipe()
    assert not a.poll()
    assert not a.poll(0.2)
    b.send_bytes(b"0123456789", 2, 5)
    assert a.poll(WAIT)
    assert a.recv_bytes() == b"23456"
    b.send_bytes(b"long message")
    with pytest.raises(OSError):
        a.recv_bytes(maxlength=3)
    b.send_bytes(b"into")
    buf = bytearray(10)
    assert a.recv_bytes_into(buf, 2) == 4
    assert bytes(buf[2:6]) == b"into"
    r, w = forkd.Pipe(duplex=False)
    assert r.readable and not r.writable and w.writable and not w.readable
    with pytest.raises(OSError):
        r.send(1)
    with pytest.raises(OSError):
        w.recv()
    with a, b:
        pass
    assert a.closed and b.closed
    with pytest.raises(OSError):
        a.send(1)
