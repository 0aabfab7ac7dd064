package dev.forkd.client.direct;

/**
 * One header field. Names and values are kept as ISO-8859-1 strings, one char a byte, so a value's
 * bytes survive whatever they are; {@code -bin} values are base64 text anyway.
 */
record Header(String name, String value) {}
