package org.restorerwkv.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/** Helpers that craft checkpoint files for the tests: raw pickles and rewritten zips. */
final class PthTestFiles {

    private PthTestFiles() {}

    static Path resource(String name) {
        try {
            return Path.of(PthTestFiles.class.getResource("/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource " + name, e);
        }
    }

    /** Writes a zip with the given entries, in order. */
    static void zip(Path file, Map<String, byte[]> entries) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
    }

    /** Copies a zip, letting {@code edit} replace each entry's bytes (by entry name). */
    static void rezip(Path from, Path to, BiFunction<String, byte[], byte[]> edit) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(from.toFile())) {
            for (ZipEntry e : z.stream().toList()) {
                try (InputStream in = z.getInputStream(e)) {
                    entries.put(e.getName(), edit.apply(e.getName(), in.readAllBytes()));
                }
            }
        }
        zip(to, entries);
    }

    /** A minimal pickle writer for hand-made (and hostile) data.pkl files. */
    static final class Pickle {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Pickle op(int... codes) {
            for (int c : codes) {
                b.write(c);
            }
            return this;
        }

        Pickle global(String module, String name) {
            op('c');
            b.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickle str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            op('X', u.length & 0xff, u.length >> 8 & 0xff, u.length >> 16 & 0xff, u.length >>> 24);
            b.writeBytes(u);
            return this;
        }

        Pickle shortStr(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            op(0x8c, u.length);
            b.writeBytes(u);
            return this;
        }

        Pickle int1(int v) {
            return op('K', v);
        }

        /** ('storage', torch.FloatStorage, key, 'cpu', numel) BINPERSID */
        Pickle floatStorage(String key, int numel) {
            return op('(').str("storage").global("torch", "FloatStorage").str(key).str("cpu").int1(numel)
                    .op('t', 'Q');
        }

        byte[] bytes() {
            return b.toByteArray();
        }
    }
}
