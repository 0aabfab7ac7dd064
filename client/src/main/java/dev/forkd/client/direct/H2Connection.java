package dev.forkd.client.direct;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The client end of one HTTP/2 cleartext connection (prior knowledge, RFC 9113 3.3) that carries one
 * request at a time: each {@link #exchange} opens the next stream, sends a request and reads until
 * that stream ends, answering the peer's SETTINGS and PINGs and keeping both directions' flow-control
 * windows on the way. Not thread-safe: its user calls it from one thread at a time.
 */
final class H2Connection implements AutoCloseable {

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int SETTINGS_HEADER_TABLE_SIZE = 0x1;
    private static final int SETTINGS_ENABLE_PUSH = 0x2;
    private static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
    private static final int SETTINGS_MAX_FRAME_SIZE = 0x5;
    private static final int SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;
    private static final int DEFAULT_WINDOW = 65_535;
    private static final int CANCEL = 0x8;
    /** The header table we let the server use (the protocol's default). */
    private static final int HEADER_TABLE_SIZE = 4_096;

    /** An answer: its headers, its body, and its trailers (empty for a trailers-only answer). */
    record Response(List<Header> headers, byte[] body, List<Header> trailers) {}

    private final Http2Frames frames;
    private final HpackDecoder decoder;
    private final int receiveWindow;
    private final int maxHeaderListSize;
    private int nextStream = 1;
    private long connectionSendWindow = DEFAULT_WINDOW;
    private long initialStreamSendWindow = DEFAULT_WINDOW;
    private int peerMaxFrameSize = Http2Frames.MAX_FRAME_SIZE;
    private int connectionUnacknowledged;
    private boolean usable = true;

    private H2Connection(Http2Frames frames, int receiveWindow, int maxHeaderListSize) {
        this.frames = frames;
        this.receiveWindow = receiveWindow;
        this.maxHeaderListSize = maxHeaderListSize;
        this.decoder = new HpackDecoder(HEADER_TABLE_SIZE, maxHeaderListSize);
    }

    /**
     * Connects to {@code address} (a Unix socket or TCP) and sends the preface and our settings.
     *
     * @param receiveWindow what the server may send before we acknowledge, per stream and in all
     * @param maxHeaderListSize the bound of one header or trailer block, decoded
     */
    static H2Connection open(SocketAddress address, int receiveWindow, int maxHeaderListSize, long deadlineNanos)
            throws ExchangeFailed {
        SocketChannel socket = null;
        try {
            socket = SocketChannel.open(address);
            H2Connection connection = new H2Connection(new Http2Frames(socket), receiveWindow, maxHeaderListSize);
            connection.start(deadlineNanos);
            return connection;
        } catch (IOException e) {
            closeQuietly(socket);
            throw new ExchangeFailed(new ExchangeFailed.Unreachable(address, e));
        } catch (Http2Frames.DeadlineReached e) {
            closeQuietly(socket);
            throw new ExchangeFailed(new ExchangeFailed.TimedOut());
        }
    }

    private void start(long deadlineNanos) throws IOException, Http2Frames.DeadlineReached {
        ByteBuffer settings = ByteBuffer.allocate(4 * 6);
        settings.putShort((short) SETTINGS_ENABLE_PUSH).putInt(0);
        settings.putShort((short) SETTINGS_INITIAL_WINDOW_SIZE).putInt(receiveWindow);
        settings.putShort((short) SETTINGS_MAX_HEADER_LIST_SIZE).putInt(maxHeaderListSize);
        byte[] payload = java.util.Arrays.copyOf(settings.array(), settings.position());
        frames.write(ByteBuffer.wrap(PREFACE), deadlineNanos);
        frames.write(Http2Frames.SETTINGS, 0, 0, payload, deadlineNanos);
        if (receiveWindow > DEFAULT_WINDOW) { // the connection's window starts at 65,535 whatever SETTINGS say
            frames.write(Http2Frames.WINDOW_UPDATE, 0, 0, int32(receiveWindow - DEFAULT_WINDOW), deadlineNanos);
        }
    }

    /** False once the server said it is going away, or the connection failed: open another. */
    boolean usable() {
        return usable;
    }

    /**
     * Sends one request on a new stream and reads its whole answer.
     *
     * @param maxBody the most body bytes accepted; more ends the stream with {@link ExchangeFailed.TooLarge}
     */
    Response exchange(List<Header> headers, byte[] body, int maxBody, long deadlineNanos) throws ExchangeFailed {
        int stream = nextStream;
        nextStream += 2;
        StreamState state = new StreamState(stream, initialStreamSendWindow, maxBody);
        try {
            sendHeaders(stream, HpackEncoder.encode(headers), deadlineNanos);
            int sent = 0;
            while (state.result == null && sent < body.length) {
                int chunk = (int) Math.min(Math.min(body.length - sent, peerMaxFrameSize),
                        Math.min(connectionSendWindow, state.sendWindow));
                if (chunk <= 0) { // windows closed: read until the server opens them (or answers)
                    handle(frames.read(deadlineNanos), state, deadlineNanos);
                    continue;
                }
                boolean last = sent + chunk == body.length;
                frames.write(Http2Frames.DATA, last ? Http2Frames.FLAG_END_STREAM : 0, stream, body, sent, chunk,
                        deadlineNanos);
                sent += chunk;
                connectionSendWindow -= chunk;
                state.sendWindow -= chunk;
            }
            while (state.result == null) {
                handle(frames.read(deadlineNanos), state, deadlineNanos);
            }
            return state.result;
        } catch (Http2Frames.DeadlineReached e) {
            cancel(stream);
            throw new ExchangeFailed(new ExchangeFailed.TimedOut());
        } catch (IOException e) {
            usable = false;
            close();
            throw new ExchangeFailed(new ExchangeFailed.Broken(e));
        } catch (Http2Exception e) {
            fail(e.code(), e.getMessage());
            throw new ExchangeFailed(new ExchangeFailed.ProtocolError(e.code(), e.getMessage()));
        } catch (HpackException e) {
            fail(Http2Exception.COMPRESSION_ERROR, e.getMessage());
            throw new ExchangeFailed(new ExchangeFailed.ProtocolError(Http2Exception.COMPRESSION_ERROR, e.getMessage()));
        } catch (StreamEnded e) {
            throw e.failure;
        }
    }

    private void sendHeaders(int stream, byte[] block, long deadlineNanos) throws IOException, Http2Frames.DeadlineReached {
        int first = Math.min(block.length, peerMaxFrameSize);
        frames.write(Http2Frames.HEADERS, first == block.length ? Http2Frames.FLAG_END_HEADERS : 0, stream, block, 0,
                first, deadlineNanos);
        for (int sent = first; sent < block.length; ) {
            int chunk = Math.min(block.length - sent, peerMaxFrameSize);
            frames.write(Http2Frames.CONTINUATION, sent + chunk == block.length ? Http2Frames.FLAG_END_HEADERS : 0,
                    stream, block, sent, chunk, deadlineNanos);
            sent += chunk;
        }
    }

    /** What one stream has received so far. */
    private static final class StreamState {
        final int id;
        final int maxBody;
        long sendWindow;
        int unacknowledged;
        List<Header> headers;
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        /** Set when the stream has ended with an answer. */
        Response result;

        StreamState(int id, long sendWindow, int maxBody) {
            this.id = id;
            this.sendWindow = sendWindow;
            this.maxBody = maxBody;
        }
    }

    /** Ends an exchange with a failure from inside the frame loop. */
    private static final class StreamEnded extends Exception {
        final ExchangeFailed failure;

        StreamEnded(ExchangeFailed.Reason reason) {
            super(null, null, false, false);
            this.failure = new ExchangeFailed(reason);
        }
    }

    private void handle(Http2Frames.Frame frame, StreamState state, long deadlineNanos) throws IOException,
            Http2Frames.DeadlineReached, Http2Exception, HpackException, StreamEnded {
        switch (frame.type()) {
            case Http2Frames.DATA -> data(frame, state, deadlineNanos);
            case Http2Frames.HEADERS -> headers(frame, state, deadlineNanos);
            case Http2Frames.SETTINGS -> settings(frame, deadlineNanos);
            case Http2Frames.PING -> {
                if (frame.payload().length != 8) {
                    throw new Http2Exception(Http2Exception.FRAME_SIZE_ERROR, "PING of " + frame.payload().length + " bytes");
                }
                if (!frame.has(Http2Frames.FLAG_ACK)) {
                    frames.write(Http2Frames.PING, Http2Frames.FLAG_ACK, 0, frame.payload(), deadlineNanos);
                }
            }
            case Http2Frames.WINDOW_UPDATE -> {
                long increment = ByteBuffer.wrap(frame.payload()).getInt() & 0x7fffffffL;
                if (frame.stream() == 0) {
                    connectionSendWindow += increment;
                } else if (frame.stream() == state.id) {
                    state.sendWindow += increment;
                }
            }
            case Http2Frames.RST_STREAM -> {
                if (frame.stream() == state.id) {
                    throw new StreamEnded(new ExchangeFailed.Reset(ByteBuffer.wrap(frame.payload()).getInt()));
                }
            }
            case Http2Frames.GOAWAY -> {
                ByteBuffer p = ByteBuffer.wrap(frame.payload());
                int lastStream = p.getInt() & 0x7fffffff;
                int code = p.getInt();
                String debug = new String(frame.payload(), 8, frame.payload().length - 8, StandardCharsets.UTF_8);
                usable = false;
                if (state.id > lastStream) {
                    throw new StreamEnded(new ExchangeFailed.GoingAway(code, debug, true));
                }
                if (code != Http2Exception.NO_ERROR) {
                    close();
                    throw new StreamEnded(new ExchangeFailed.GoingAway(code, debug, false));
                }
            }
            case Http2Frames.PUSH_PROMISE -> throw new Http2Exception(Http2Exception.PROTOCOL_ERROR, "PUSH_PROMISE, though push is off");
            case Http2Frames.CONTINUATION -> throw new Http2Exception(Http2Exception.PROTOCOL_ERROR, "CONTINUATION without HEADERS");
            default -> {
                // PRIORITY and unknown types are ignored (RFC 9113 4.1, 5.5).
            }
        }
    }

    private void data(Http2Frames.Frame frame, StreamState state, long deadlineNanos) throws IOException,
            Http2Frames.DeadlineReached, Http2Exception, StreamEnded {
        int flowed = frame.payload().length;
        connectionUnacknowledged += flowed;
        if (connectionUnacknowledged >= receiveWindow / 2) {
            frames.write(Http2Frames.WINDOW_UPDATE, 0, 0, int32(connectionUnacknowledged), deadlineNanos);
            connectionUnacknowledged = 0;
        }
        if (frame.stream() != state.id) {
            return; // a stream reset earlier; its data still counted for the connection
        }
        if (state.headers == null) {
            throw new Http2Exception(Http2Exception.PROTOCOL_ERROR, "DATA before HEADERS");
        }
        int[] range = unpadded(frame);
        if (state.body.size() + range[1] > state.maxBody) {
            state.body.write(frame.payload(), range[0], Math.min(range[1], 5));
            cancel(state.id);
            throw new StreamEnded(new ExchangeFailed.TooLarge(java.util.Arrays.copyOf(state.body.toByteArray(), 5)));
        }
        state.body.write(frame.payload(), range[0], range[1]);
        if (frame.has(Http2Frames.FLAG_END_STREAM)) {
            state.result = new Response(state.headers, state.body.toByteArray(), List.of());
            return;
        }
        state.unacknowledged += flowed;
        if (state.unacknowledged >= receiveWindow / 2) {
            frames.write(Http2Frames.WINDOW_UPDATE, 0, state.id, int32(state.unacknowledged), deadlineNanos);
            state.unacknowledged = 0;
        }
    }

    private void headers(Http2Frames.Frame frame, StreamState state, long deadlineNanos) throws IOException,
            Http2Frames.DeadlineReached, Http2Exception, HpackException {
        int[] range = unpadded(frame);
        int skip = frame.has(Http2Frames.FLAG_PRIORITY) ? 5 : 0;
        if (skip > range[1]) {
            throw new Http2Exception(Http2Exception.PROTOCOL_ERROR, "HEADERS too short for its priority");
        }
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        block.write(frame.payload(), range[0] + skip, range[1] - skip);
        boolean endHeaders = frame.has(Http2Frames.FLAG_END_HEADERS);
        while (!endHeaders) {
            Http2Frames.Frame next = frames.read(deadlineNanos);
            if (next.type() != Http2Frames.CONTINUATION || next.stream() != frame.stream()) {
                throw new Http2Exception(Http2Exception.PROTOCOL_ERROR, "a header block interrupted");
            }
            if (block.size() + next.payload().length > maxHeaderListSize + Http2Frames.MAX_FRAME_SIZE) {
                throw new Http2Exception(Http2Exception.PROTOCOL_ERROR, "header block past " + maxHeaderListSize + " bytes");
            }
            block.writeBytes(next.payload());
            endHeaders = next.has(Http2Frames.FLAG_END_HEADERS);
        }
        List<Header> decoded = decoder.decode(block.toByteArray()); // always: the table follows every block
        if (frame.stream() != state.id) {
            return;
        }
        boolean end = frame.has(Http2Frames.FLAG_END_STREAM);
        if (state.headers == null) {
            state.headers = decoded;
            if (end) {
                state.result = new Response(decoded, new byte[0], List.of());
            }
        } else if (!end) {
            throw new Http2Exception(Http2Exception.PROTOCOL_ERROR, "trailers without END_STREAM");
        } else {
            state.result = new Response(state.headers, state.body.toByteArray(), decoded);
        }
    }

    private void settings(Http2Frames.Frame frame, long deadlineNanos) throws IOException,
            Http2Frames.DeadlineReached, Http2Exception {
        if (frame.has(Http2Frames.FLAG_ACK)) {
            return;
        }
        if (frame.payload().length % 6 != 0) {
            throw new Http2Exception(Http2Exception.FRAME_SIZE_ERROR, "SETTINGS of " + frame.payload().length + " bytes");
        }
        ByteBuffer p = ByteBuffer.wrap(frame.payload());
        while (p.hasRemaining()) {
            int id = p.getShort() & 0xffff;
            long value = p.getInt() & 0xffffffffL;
            switch (id) {
                case SETTINGS_INITIAL_WINDOW_SIZE -> {
                    if (value > Integer.MAX_VALUE) {
                        throw new Http2Exception(Http2Exception.FLOW_CONTROL_ERROR, "initial window " + value);
                    }
                    initialStreamSendWindow = value;
                }
                case SETTINGS_MAX_FRAME_SIZE -> {
                    if (value < Http2Frames.MAX_FRAME_SIZE || value > 16_777_215) {
                        throw new Http2Exception(Http2Exception.PROTOCOL_ERROR, "max frame size " + value);
                    }
                    peerMaxFrameSize = (int) Math.min(value, Http2Frames.MAX_FRAME_SIZE);
                }
                default -> {
                    // The table size we never use (we do not index), push we do not receive, and
                    // limits we stay far below.
                }
            }
        }
        frames.write(Http2Frames.SETTINGS, Http2Frames.FLAG_ACK, 0, new byte[0], deadlineNanos);
    }

    /** The payload range of a frame without its padding (RFC 9113 6.1): offset and length. */
    private static int[] unpadded(Http2Frames.Frame frame) throws Http2Exception {
        byte[] p = frame.payload();
        if (!frame.has(Http2Frames.FLAG_PADDED)) {
            return new int[] {0, p.length};
        }
        if (p.length < 1 || (p[0] & 0xff) >= p.length) {
            throw new Http2Exception(Http2Exception.PROTOCOL_ERROR, "padding past the frame");
        }
        return new int[] {1, p.length - 1 - (p[0] & 0xff)};
    }

    /** Resets our stream, best effort: the caller has already given up on it. */
    private void cancel(int stream) {
        try {
            frames.write(Http2Frames.RST_STREAM, 0, stream, int32(CANCEL), System.nanoTime() + 100_000_000L);
        } catch (IOException | Http2Frames.DeadlineReached e) {
            usable = false;
            close();
        }
    }

    /** A connection error: tell the server (best effort) and close. */
    private void fail(int code, String message) {
        usable = false;
        byte[] debug = message.getBytes(StandardCharsets.UTF_8);
        // Last stream: the last one the server started, and it starts none.
        ByteBuffer p = ByteBuffer.allocate(8 + debug.length).putInt(0).putInt(code).put(debug);
        try {
            frames.write(Http2Frames.GOAWAY, 0, 0, p.array(), System.nanoTime() + 100_000_000L);
        } catch (IOException | Http2Frames.DeadlineReached e) {
            // closing anyway
        }
        close();
    }

    private static byte[] int32(int value) {
        return ByteBuffer.allocate(4).putInt(value).array();
    }

    private static void closeQuietly(SocketChannel socket) {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // it failed already
            }
        }
    }

    @Override
    public void close() {
        usable = false;
        frames.close();
    }
}
