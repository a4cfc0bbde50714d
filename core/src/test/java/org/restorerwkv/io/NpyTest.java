package org.restorerwkv.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir Path dir;

    @Test
    void roundTripsFloat32() throws Exception {
        HostTensor t = new HostTensor(new long[] {2, 3}, new float[] {1, -2, 3.5f, 4, 5, Float.MIN_VALUE});
        Path f = dir.resolve("a.npy");
        Npy.write(f, t);
        HostTensor back = Npy.read(f);
        assertArrayEquals(t.shape(), back.shape());
        assertArrayEquals(t.data(), back.data());
    }

    @Test
    void headerIsAlignedTo64Bytes() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(out, new HostTensor(new long[] {4}, new float[4]));
        assertTrue((out.size() - 16) % 64 == 0, "header + data: " + out.size());
    }

    @Test
    void truncatedFileIsAOneLineErrorNamingTheFile() throws Exception {
        Path f = dir.resolve("t.npy");
        Npy.write(f, new HostTensor(new long[] {100}, new float[100]));
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 7));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void hugeClaimedShapeInSmallFileIsAnErrorNotAnAllocation() throws Exception {
        Path f = dir.resolve("huge.npy");
        Npy.write(f, new HostTensor(new long[] {4}, new float[4]));
        String s = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1)
                .replace("(4,)", "(99999,99999)".substring(0, 4) + ")");
        // (9999) keeps the header length; the data are far shorter than it claims
        Files.write(f, s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThrows(InvalidInputException.class, () -> Npy.read(f));
    }

    @Test
    void notNpyIsRejected() throws Exception {
        Path f = dir.resolve("x.npy");
        Files.writeString(f, "hello world, not numpy");
        assertThrows(InvalidInputException.class, () -> Npy.read(f));
    }
}
