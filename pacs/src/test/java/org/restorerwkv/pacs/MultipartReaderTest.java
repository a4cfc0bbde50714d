package org.restorerwkv.pacs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MultipartReaderTest {

    /** Hands out at most {@code max} bytes per read, so delimiters straddle reads. */
    private static InputStream trickle(byte[] b, int max) {
        return new FilterInputStream(new ByteArrayInputStream(b)) {
            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                return super.read(buf, off, Math.min(len, max));
            }
        };
    }

    private static byte[] body(String boundary, List<byte[]> parts, String preamble) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(preamble.getBytes(StandardCharsets.US_ASCII));
        for (byte[] p : parts) {
            o.writeBytes(("--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            o.writeBytes(p);
            o.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        o.writeBytes(("--" + boundary + "--\r\nepilogue").getBytes(StandardCharsets.US_ASCII));
        return o.toByteArray();
    }

    private static List<byte[]> read(byte[] body, String boundary, int chunk, long maxPart) throws IOException {
        List<ByteArrayOutputStream> outs = new ArrayList<>();
        List<Map<String, String>> headers = new ArrayList<>();
        int n = new MultipartReader(trickle(body, chunk), boundary, maxPart, 100).readAll((i, h) -> {
            headers.add(h);
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            outs.add(o);
            return o;
        });
        assertEquals(outs.size(), n);
        headers.forEach(h -> assertEquals("application/dicom", h.get("content-type")));
        return outs.stream().map(ByteArrayOutputStream::toByteArray).toList();
    }

    @Test
    void partsSurviveAnyReadSizeAndBoundaryLookalikes() throws IOException {
        String boundary = "b0undary-42";
        Random rnd = new Random(7);
        List<byte[]> parts = new ArrayList<>();
        for (int size : new int[] {0, 1, 100, 70_000, 200_003}) {
            byte[] p = new byte[size];
            rnd.nextBytes(p);
            parts.add(p);
        }
        // a part holding almost-delimiters, and one ending in CR LF
        parts.add(("x\r\n--b0undary-4\r\n--b0undary\r\n-").getBytes(StandardCharsets.US_ASCII));
        parts.add("tail\r\n".getBytes(StandardCharsets.US_ASCII));
        for (String preamble : new String[] {"", "preamble text\r\n"}) {
            byte[] body = body(boundary, parts, preamble);
            for (int chunk : new int[] {1, 3, 17, 4096, 1 << 20}) {
                List<byte[]> got = read(body, boundary, chunk, Long.MAX_VALUE);
                assertEquals(parts.size(), got.size(), "chunk " + chunk);
                for (int i = 0; i < parts.size(); i++) {
                    assertArrayEquals(parts.get(i), got.get(i), "part " + i + ", chunk " + chunk);
                }
            }
        }
    }

    @Test
    void truncatedBodiesAndOversizedPartsAreRefused() {
        byte[] body = body("bb", List.of(new byte[5000]), "");
        byte[] cut = java.util.Arrays.copyOf(body, 3000);
        IOException e = assertThrows(IOException.class, () -> read(cut, "bb", 64, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        IOException big = assertThrows(IOException.class, () -> read(body, "bb", 64, 4000));
        assertTrue(big.getMessage().contains("larger than 4000"), big.getMessage());
        assertThrows(IOException.class, () -> read("no boundary here".getBytes(StandardCharsets.US_ASCII), "bb", 8, 10));
    }

    @Test
    void boundaryFromContentType() {
        assertEquals("abc", MultipartReader.boundary("multipart/related; type=\"application/dicom\"; boundary=abc"));
        assertEquals("a b", MultipartReader.boundary("multipart/related;boundary=\"a b\";type=x"));
        assertEquals(null, MultipartReader.boundary("application/dicom"));
    }
}
