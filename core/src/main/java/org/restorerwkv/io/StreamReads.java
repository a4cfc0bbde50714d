package org.restorerwkv.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;

/** Reading a claimed number of bytes without trusting the claim: memory grows only as bytes arrive. */
final class StreamReads {

    private static final int CHUNK = 1 << 22;

    private StreamReads() {}

    /**
     * Reads exactly {@code n} bytes; a stream that ends early is reported as truncated {@code what}.
     * Never allocates much more than what the stream actually delivered, so a header claiming
     * gigabytes in a small (or compressed) file fails cleanly instead of exhausting memory.
     */
    static byte[] readExactly(InputStream in, long n, Path file, String what) throws IOException {
        if (n < 0 || n > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(file, what + " of " + n + " bytes is too large");
        }
        byte[] buf = new byte[(int) Math.min(n, CHUNK)];
        int got = 0;
        while (got < n) {
            if (got == buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(n, (long) buf.length * 2));
            }
            int r = in.read(buf, got, buf.length - got);
            if (r < 0) {
                throw new InvalidInputException(file, "truncated " + what + ": " + got + " of " + n + " bytes present");
            }
            got += r;
        }
        return buf;
    }

    /** Skips exactly {@code n} bytes or reports truncation. */
    static void skipExactly(InputStream in, long n, Path file, String what) throws IOException {
        long left = n;
        while (left > 0) {
            long s = in.skip(left);
            if (s <= 0) {
                if (in.read() < 0) {
                    throw new InvalidInputException(file, "truncated " + what);
                }
                s = 1;
            }
            left -= s;
        }
    }
}
