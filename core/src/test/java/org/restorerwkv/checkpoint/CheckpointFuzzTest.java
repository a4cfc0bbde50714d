package org.restorerwkv.checkpoint;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;

/**
 * Damaged files must end in either a result or an {@link InvalidInputException}: never another
 * exception (ClassCastException, IndexOutOfBounds, OutOfMemoryError, ...).
 */
class CheckpointFuzzTest {
    @TempDir Path dir;

    private interface Reader {
        Object read(Path f) throws Exception;
    }

    private static void mustFailCleanly(Reader r, Path f, String what) {
        try {
            r.read(f);
        } catch (InvalidInputException e) {
            assertTrue(e.getMessage().startsWith(f + ": ") && !e.getMessage().contains("\n"), e.getMessage());
        } catch (Throwable t) {
            fail(what + ": " + t, t);
        }
    }

    @Test
    void mutatedPicklesAreReadOrRejectedCleanly() throws Exception {
        Path src = PthTestFiles.resource("checkpoint/training_checkpoint_dataparallel.pth");
        Map<String, byte[]> entries = new LinkedHashMap<>();
        String pkl = null;
        try (ZipFile z = new ZipFile(src.toFile())) {
            for (ZipEntry e : z.stream().toList()) {
                try (InputStream in = z.getInputStream(e)) {
                    entries.put(e.getName(), in.readAllBytes());
                }
                if (e.getName().endsWith("data.pkl")) {
                    pkl = e.getName();
                }
            }
        }
        byte[] original = entries.get(pkl);
        Random rnd = new Random(42);
        Path f = dir.resolve("fuzz.pth");
        for (int round = 0; round < 200; round++) {
            byte[] p = original.clone();
            int flips = 1 + rnd.nextInt(3);
            for (int i = 0; i < flips; i++) {
                int at = rnd.nextInt(p.length);
                p[at] = switch (rnd.nextInt(3)) {
                    case 0 -> (byte) rnd.nextInt(256);
                    case 1 -> (byte) (p[at] ^ (1 << rnd.nextInt(8)));
                    default -> (byte) 0xff;
                };
            }
            if (rnd.nextInt(8) == 0) {
                p = java.util.Arrays.copyOf(p, rnd.nextInt(p.length));
            }
            entries.put(pkl, p);
            PthTestFiles.zip(f, entries);
            mustFailCleanly(PthReader::read, f, "pickle round " + round);
        }
    }

    @Test
    void mutatedArchiveBytesAreReadOrRejectedCleanly() throws Exception {
        byte[] original = Files.readAllBytes(PthTestFiles.resource("checkpoint/dtypes_p2.pth"));
        Random rnd = new Random(7);
        Path f = dir.resolve("fuzz.pth");
        for (int round = 0; round < 200; round++) {
            byte[] b = original.clone();
            for (int i = 0; i < 1 + rnd.nextInt(4); i++) {
                b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            }
            Files.write(f, b);
            mustFailCleanly(PthReader::read, f, "archive round " + round);
        }
    }

    @Test
    void mutatedSafetensorsAreReadOrRejectedCleanly() throws Exception {
        Path good = dir.resolve("good.safetensors");
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("a", new HostTensor(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}));
        t.put("b", new HostTensor(new long[] {4}, new float[] {-1, -2, -3, -4}));
        Safetensors.write(good, t, Map.of("format", "pt"));
        byte[] original = Files.readAllBytes(good);
        Random rnd = new Random(3);
        Path f = dir.resolve("fuzz.safetensors");
        for (int round = 0; round < 200; round++) {
            byte[] b = original.clone();
            for (int i = 0; i < 1 + rnd.nextInt(3); i++) {
                int at = rnd.nextInt(Math.min(b.length, 8 + 140));
                b[at] = (byte) (rnd.nextBoolean() ? rnd.nextInt(256) : "0123456789[]{},:\"".charAt(rnd.nextInt(17)));
            }
            Files.write(f, b);
            mustFailCleanly(Safetensors::read, f, "safetensors round " + round);
        }
    }
}
