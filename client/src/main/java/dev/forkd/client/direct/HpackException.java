package dev.forkd.client.direct;

/** A header block that does not decode: an HTTP/2 COMPRESSION_ERROR, which ends the connection. */
final class HpackException extends Exception {
    HpackException(String message) {
        super(message);
    }
}
