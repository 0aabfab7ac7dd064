package dev.forkd.client.direct;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 frames (RFC 9113, section 4) read from and written to one socket, every wait bounded by a
 * deadline: the socket is non-blocking and waits happen in a selector.
 */
final class Http2Frames implements AutoCloseable {

    static final int DATA = 0x0;
    static final int HEADERS = 0x1;
    static final int PRIORITY = 0x2;
    static final int RST_STREAM = 0x3;
    static final int SETTINGS = 0x4;
    static final int PUSH_PROMISE = 0x5;
    static final int PING = 0x6;
    static final int GOAWAY = 0x7;
    static final int WINDOW_UPDATE = 0x8;
    static final int CONTINUATION = 0x9;

    static final int FLAG_END_STREAM = 0x1;
    static final int FLAG_ACK = 0x1;
    static final int FLAG_END_HEADERS = 0x4;
    static final int FLAG_PADDED = 0x8;
    static final int FLAG_PRIORITY = 0x20;

    /** The largest frame payload we accept: the protocol's default, which we do not raise. */
    static final int MAX_FRAME_SIZE = 16_384;

    /** One frame as it came. */
    record Frame(int type, int flags, int stream, byte[] payload) {
        boolean has(int flag) {
            return (flags & flag) != 0;
        }
    }

    /** A wait that ran past its deadline. */
    static final class DeadlineReached extends Exception {
        DeadlineReached() {
            super("deadline reached", null, false, false);
        }
    }

    private final SocketChannel socket;
    private final Selector selector;
    private final ByteBuffer in = ByteBuffer.allocate(9 + MAX_FRAME_SIZE).flip();

    Http2Frames(SocketChannel socket) throws IOException {
        this.socket = socket;
        socket.configureBlocking(false);
        this.selector = Selector.open();
    }

    /** Writes {@code bytes} whole, waiting while the socket's buffer is full. */
    void write(ByteBuffer bytes, long deadlineNanos) throws IOException, DeadlineReached {
        while (bytes.hasRemaining()) {
            if (socket.write(bytes) == 0) {
                await(SelectionKey.OP_WRITE, deadlineNanos);
            }
        }
    }

    /** Writes one frame. */
    void write(int type, int flags, int stream, byte[] payload, int offset, int length, long deadlineNanos)
            throws IOException, DeadlineReached {
        ByteBuffer frame = ByteBuffer.allocate(9 + length);
        frame.put((byte) (length >>> 16)).put((byte) (length >>> 8)).put((byte) length)
                .put((byte) type).put((byte) flags).putInt(stream & 0x7fffffff)
                .put(payload, offset, length).flip();
        write(frame, deadlineNanos);
    }

    void write(int type, int flags, int stream, byte[] payload, long deadlineNanos) throws IOException, DeadlineReached {
        write(type, flags, stream, payload, 0, payload.length, deadlineNanos);
    }

    /**
     * Reads the next frame.
     *
     * @throws Http2Exception with FRAME_SIZE_ERROR for a frame past {@link #MAX_FRAME_SIZE}
     * @throws IOException when the peer closes the connection or it fails
     */
    Frame read(long deadlineNanos) throws IOException, DeadlineReached, Http2Exception {
        fill(9, deadlineNanos);
        int length = (in.get() & 0xff) << 16 | (in.get() & 0xff) << 8 | (in.get() & 0xff);
        int type = in.get() & 0xff;
        int flags = in.get() & 0xff;
        int stream = in.getInt() & 0x7fffffff;
        if (length > MAX_FRAME_SIZE) {
            throw new Http2Exception(Http2Exception.FRAME_SIZE_ERROR, "frame of " + length + " bytes");
        }
        fill(length, deadlineNanos);
        byte[] payload = new byte[length];
        in.get(payload);
        return new Frame(type, flags, stream, payload);
    }

    /** Until {@code n} bytes are buffered. */
    private void fill(int n, long deadlineNanos) throws IOException, DeadlineReached {
        if (in.remaining() >= n) {
            return;
        }
        in.compact();
        try {
            while (in.position() < n) {
                int read = socket.read(in);
                if (read < 0) {
                    throw new java.io.EOFException("the server closed the connection");
                }
                if (read == 0) {
                    await(SelectionKey.OP_READ, deadlineNanos);
                }
            }
        } finally {
            in.flip();
        }
    }

    private void await(int op, long deadlineNanos) throws IOException, DeadlineReached {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new DeadlineReached();
        }
        SelectionKey key = socket.register(selector, op);
        try {
            selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left + 999_999)));
        } finally {
            key.interestOps(0);
            selector.selectedKeys().clear();
        }
    }

    @Override
    public void close() {
        try {
            selector.close();
        } catch (IOException ignored) {
            // nothing to do about it: the socket goes next
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a socket that failed
        }
    }
}
