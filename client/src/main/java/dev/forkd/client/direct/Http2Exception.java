package dev.forkd.client.direct;

/** A connection error of HTTP/2 (RFC 9113 5.4.1): what went wrong and the code it is reported with. */
final class Http2Exception extends Exception {

    static final int NO_ERROR = 0x0;
    static final int PROTOCOL_ERROR = 0x1;
    static final int FLOW_CONTROL_ERROR = 0x3;
    static final int FRAME_SIZE_ERROR = 0x6;
    static final int COMPRESSION_ERROR = 0x9;

    private final int code;

    Http2Exception(int code, String message) {
        super(message);
        this.code = code;
    }

    int code() {
        return code;
    }
}
