package org.restorerwkv.pacs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a {@code multipart/related} body (RFC 2046 5.1, RFC 2387) part by part from a stream,
 * handing each part's bytes to a sink as they arrive: memory stays at one buffer whatever the
 * parts' sizes. Hand-written because the JDK has no multipart parser and the libraries that do
 * (commons-fileupload, mime4j) either assume a servlet request or buffer parts in memory.
 * Not thread-safe.
 */
final class MultipartReader {

    /** Where a part's bytes go. */
    interface PartSink {
        /** Opens the output of part {@code index} (0-based) with its headers (lower-case names). */
        OutputStream open(int index, Map<String, String> headers) throws IOException;
    }

    private static final int MAX_HEADER_BYTES = 16 * 1024;
    private static final int BUFFER = 64 * 1024;

    private final InputStream in;
    private final byte[] delimiter; // CRLF "--" boundary
    private final long maxPartBytes;
    private final int maxParts;
    private final byte[] buf;
    private int start;
    private int end;
    private boolean eof;

    MultipartReader(InputStream in, String boundary, long maxPartBytes, int maxParts) {
        this.in = in;
        this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        this.maxPartBytes = maxPartBytes;
        this.maxParts = maxParts;
        this.buf = new byte[Math.max(BUFFER, 2 * delimiter.length + MAX_HEADER_BYTES)];
    }

    /** The boundary parameter of a multipart Content-Type, or null. */
    static String boundary(String contentType) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/")) {
            return null;
        }
        for (String p : contentType.split(";")) {
            String t = p.trim();
            if (t.toLowerCase(Locale.ROOT).startsWith("boundary=")) {
                String b = t.substring("boundary=".length()).trim();
                if (b.length() >= 2 && b.startsWith("\"") && b.endsWith("\"")) {
                    b = b.substring(1, b.length() - 1);
                }
                return b.isEmpty() || b.length() > 70 ? null : b;
            }
        }
        return null;
    }

    /** Reads every part into the sink; returns the number of parts. */
    int readAll(PartSink sink) throws IOException {
        // the body may start directly with "--boundary" (no preamble): pretend a CRLF came before it
        buf[0] = '\r';
        buf[1] = '\n';
        start = 0;
        end = 2;
        if (!scan(null)) {
            throw new IOException("multipart body without its boundary");
        }
        int parts = 0;
        while (true) {
            fill(2);
            if (end - start >= 2 && buf[start] == '-' && buf[start + 1] == '-') {
                return parts; // close delimiter; the epilogue is ignored
            }
            skipLine(); // transport padding and the CRLF after the delimiter
            Map<String, String> headers = readHeaders();
            if (parts >= maxParts) {
                throw new IOException("multipart body with more than " + maxParts + " parts");
            }
            try (OutputStream out = sink.open(parts, headers)) {
                copyToDelimiter(out);
            }
            parts++;
        }
    }

    private boolean fill(int want) throws IOException {
        while (end - start < want && !eof) {
            readMore();
        }
        return end - start >= want;
    }

    /** Moves the unread bytes to the front when the buffer is full, and reads once more. */
    private void readMore() throws IOException {
        if (end == buf.length) {
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
        }
        int n = in.read(buf, end, buf.length - end);
        if (n < 0) {
            eof = true;
        } else {
            end += n;
        }
    }

    private void copyToDelimiter(OutputStream out) throws IOException {
        if (!scan(out)) {
            throw new IOException("multipart body ends inside a part (truncated response)");
        }
    }

    /** Passes bytes to out (or drops them) up to the next delimiter, which is consumed; false at end of stream. */
    private boolean scan(OutputStream out) throws IOException {
        long written = 0;
        while (true) {
            fill(delimiter.length);
            int i = indexOf(buf, start, end, delimiter);
            int upTo = i >= 0 ? i : Math.max(start, end - delimiter.length + 1);
            if (upTo > start) {
                written += upTo - start;
                if (out != null) {
                    if (written > maxPartBytes) {
                        throw new IOException("multipart part larger than " + maxPartBytes + " bytes");
                    }
                    out.write(buf, start, upTo - start);
                }
                start = upTo;
            }
            if (i >= 0) {
                start = i + delimiter.length;
                return true;
            }
            if (eof) {
                return false;
            }
            // what is left may be the start of a delimiter: keep it and read on
            readMore();
        }
    }

    private void skipLine() throws IOException {
        while (true) {
            if (!fill(1)) {
                throw new IOException("multipart body ends after a boundary");
            }
            byte b = buf[start++];
            if (b == '\n') {
                return;
            }
            if (b != ' ' && b != '\t' && b != '\r') {
                throw new IOException("malformed multipart boundary line");
            }
        }
    }

    private Map<String, String> readHeaders() throws IOException {
        Map<String, String> h = new LinkedHashMap<>();
        int total = 0;
        StringBuilder line = new StringBuilder();
        while (true) {
            if (!fill(1)) {
                throw new IOException("multipart body ends inside part headers");
            }
            byte b = buf[start++];
            if (++total > MAX_HEADER_BYTES) {
                throw new IOException("multipart part headers longer than " + MAX_HEADER_BYTES + " bytes");
            }
            if (b == '\n') {
                String l = line.toString().strip();
                line.setLength(0);
                if (l.isEmpty()) {
                    return h;
                }
                int c = l.indexOf(':');
                if (c > 0) {
                    h.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
                }
            } else {
                line.append((char) (b & 0xff));
            }
        }
    }

    static int indexOf(byte[] a, int from, int to, byte[] needle) {
        outer:
        for (int i = from; i <= to - needle.length; i++) {
            if (a[i] != needle[0]) {
                continue;
            }
            for (int j = 1; j < needle.length; j++) {
                if (a[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
