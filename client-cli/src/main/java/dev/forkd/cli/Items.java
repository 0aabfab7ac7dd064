package dev.forkd.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Optional;

/** Items on stdin and stdout: one per line, or NUL-terminated with {@code --null}. */
final class Items {

    private final InputStream in;
    private final int separator;
    private final byte[] buf = new byte[64 * 1024];
    private int pos;
    private int end;
    private boolean eof;

    Items(InputStream in, boolean nul) {
        this.in = in;
        this.separator = nul ? 0 : '\n';
    }

    /** The next item without its separator; a last item without one counts too. */
    Optional<byte[]> next() throws IOException {
        ByteArrayOutputStream item = null;
        while (true) {
            if (pos == end) {
                if (eof) {
                    return Optional.ofNullable(item).map(ByteArrayOutputStream::toByteArray);
                }
                int n = in.read(buf);
                if (n < 0) {
                    eof = true;
                    continue;
                }
                pos = 0;
                end = n;
            }
            int start = pos;
            while (pos < end && buf[pos] != separator) {
                pos++;
            }
            if (item == null) {
                item = new ByteArrayOutputStream(Math.max(16, pos - start));
            }
            item.write(buf, start, pos - start);
            if (pos < end) {
                pos++; // the separator
                return Optional.of(item.toByteArray());
            }
        }
    }

    /** Whether an item's first byte is already read (so {@link #next} will not wait on the stream). */
    boolean buffered() {
        return pos < end;
    }

    static void write(PrintStream out, byte[] item, boolean nul) {
        out.write(item, 0, item.length);
        out.write(nul ? 0 : '\n');
    }
}
