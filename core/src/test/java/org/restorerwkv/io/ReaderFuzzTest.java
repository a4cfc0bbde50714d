package org.restorerwkv.io;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.checkpoint.Checkpoints;
import org.restorerwkv.checkpoint.PthWriter;

/**
 * Deterministic mutation fuzzing of every reader (NIfTI, NPY/NPZ, PNG, TIFF, InVesalius, DICOM,
 * safetensors, .pth): each mutated file is read or refused with an {@link InvalidInputException}
 * whose message is one line starting with the file's path; any other exception or error fails.
 * Compressed seeds are also mutated inside (the payload changed, then compressed again), so the
 * parsers behind the checksums are reached. Reads run under small {@link ReadLimits}, which bounds
 * their memory; the timeout only keeps a hang from stalling the build.
 *
 * <p>{@code -Dfuzz.rounds=N} (default 40 mutations per seed and kind) scales the run;
 * {@code scripts/fuzz.sh} runs long campaigns.
 */
class ReaderFuzzTest {

    private static final ReadLimits LIMITS = new ReadLimits(1 << 22, 1 << 26);

    @TempDir Path dir;

    private interface Reader {
        Object read(Path f) throws Exception;
    }

    private record Seed(String name, String fileName, byte[] bytes, boolean gzipInside, Reader reader) {}

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void everyMutationIsReadOrRefusedInOneLine() throws Exception {
        int rounds = Integer.getInteger("fuzz.rounds", 40);
        Reader volume = f -> VolumeFormats.read(f, LIMITS);
        Reader weights = Checkpoints::read;
        List<Seed> seeds = new ArrayList<>();
        seeds.add(new Seed("nii.gz int16", "s.nii.gz", resource("ch2_crop_int16.nii.gz"), true, volume));
        seeds.add(new Seed("nii int32", "s.nii", resource("ch2_crop_int32.nii"), false, volume));
        seeds.add(new Seed("nii2 uint16", "s.nii", resource("ch2_crop_uint16.nii2.nii"), false, volume));
        seeds.add(new Seed("dicom CT", "s.dcm", resource("CT_small.dcm"), false, volume));
        seeds.add(new Seed("dicom MR", "s.dcm", resource("MR_small.dcm"), false, volume));
        Volume small = Volume.of(3, 8, 8, ramp(3 * 8 * 8));
        seeds.add(new Seed("npy", "s.npy", written("a.npy", small), false, volume));
        seeds.add(new Seed("npz", "s.npz", written("a.npz", small), false, volume));
        seeds.add(new Seed("tiff", "s.tif", written("a.tif", small), false, volume));
        seeds.add(new Seed("png", "s.png", written("a.png", Volume.of(1, 8, 8, ramp(64))), false, volume));
        seeds.add(new Seed("inv3", "s.inv3", inv3(), true, volume));
        Map<String, HostTensor> state = new LinkedHashMap<>();
        state.put("a.weight", new HostTensor(new long[] {2, 3}, ramp(6)));
        state.put("b.bias", new HostTensor(new long[] {3}, ramp(3)));
        Path st = dir.resolve("w.safetensors");
        Checkpoints.write(st, state, Map.of("k", "v"));
        seeds.add(new Seed("safetensors", "s.safetensors", Files.readAllBytes(st), false, weights));
        Path pth = dir.resolve("w.pth");
        PthWriter.write(pth, state);
        seeds.add(new Seed("pth", "s.pth", Files.readAllBytes(pth), false, weights));

        List<String> failures = new ArrayList<>();
        int reads = 0;
        for (int s = 0; s < seeds.size(); s++) {
            Seed seed = seeds.get(s);
            read(seed, seed.bytes(), "seed", failures); // the seed itself must be readable
            SplittableRandom rnd = new SplittableRandom(1000 + s);
            for (int r = 0; r < rounds; r++) {
                Mutation m = mutate(seed.bytes(), rnd);
                read(seed, m.bytes(), m.what(), failures);
                reads++;
                if (seed.gzipInside()) {
                    Mutation inner = mutate(gunzip(seed.bytes()), rnd);
                    read(seed, gzip(inner.bytes()), "inside the gzip: " + inner.what(), failures);
                    reads++;
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " of " + reads + " mutated reads broke the error policy:\n"
                + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
    }

    private void read(Seed seed, byte[] bytes, String what, List<String> failures) throws IOException {
        Path f = dir.resolve(seed.fileName());
        Files.write(f, bytes);
        try {
            seed.reader().read(f);
        } catch (InvalidInputException e) {
            String msg = e.getMessage();
            if (!msg.startsWith(f + ": ") || msg.contains("\n")) {
                failures.add(seed.name() + " / " + what + ": not one line naming the file: " + msg);
            }
        } catch (Throwable t) {
            failures.add(seed.name() + " / " + what + ": " + t);
        }
    }

    private record Mutation(byte[] bytes, String what) {}

    private static Mutation mutate(byte[] b, SplittableRandom rnd) {
        byte[] m = b.clone();
        // a header-heavy choice of positions: most structure lives in the first few hundred bytes
        int pos = rnd.nextInt(4) == 0 ? rnd.nextInt(m.length) : rnd.nextInt(Math.min(m.length, 600));
        switch (rnd.nextInt(6)) {
            case 0 -> {
                int flips = 1 + rnd.nextInt(3);
                for (int i = 0; i < flips; i++) {
                    int p = i == 0 ? pos : rnd.nextInt(m.length);
                    m[p] ^= (byte) (1 << rnd.nextInt(8));
                }
                return new Mutation(m, flips + " bit flip(s) from " + pos);
            }
            case 1 -> {
                return new Mutation(java.util.Arrays.copyOf(m, pos), "truncated to " + pos);
            }
            case 2 -> {
                int n = 1 + rnd.nextInt(8);
                byte v = new byte[] {0, (byte) 0xff, 0x7f, (byte) 0x80}[rnd.nextInt(4)];
                for (int i = pos; i < Math.min(m.length, pos + n); i++) {
                    m[i] = v;
                }
                return new Mutation(m, n + " bytes set to " + v + " at " + pos);
            }
            case 3 -> {
                int n = 1 + rnd.nextInt(8);
                for (int i = pos; i < Math.min(m.length, pos + n); i++) {
                    m[i] = (byte) rnd.nextInt(256);
                }
                return new Mutation(m, n + " random bytes at " + pos);
            }
            case 4 -> {
                byte[] ins = new byte[1 + rnd.nextInt(16)];
                for (int i = 0; i < ins.length; i++) {
                    ins[i] = (byte) rnd.nextInt(256);
                }
                byte[] out = new byte[m.length + ins.length];
                System.arraycopy(m, 0, out, 0, pos);
                System.arraycopy(ins, 0, out, pos, ins.length);
                System.arraycopy(m, pos, out, pos + ins.length, m.length - pos);
                return new Mutation(out, ins.length + " bytes inserted at " + pos);
            }
            default -> {
                // a 4-byte little- or big-endian integer field set to an extreme
                int[] extremes = {Integer.MAX_VALUE, Integer.MIN_VALUE, -1, 0, 1 << 30, 65535};
                int v = extremes[rnd.nextInt(extremes.length)];
                boolean le = rnd.nextBoolean();
                for (int i = 0; i < 4 && pos + i < m.length; i++) {
                    m[pos + i] = (byte) (le ? v >> (8 * i) : v >> (8 * (3 - i)));
                }
                return new Mutation(m, "int " + v + (le ? " LE" : " BE") + " at " + pos);
            }
        }
    }

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i * 3 - 40;
        }
        return v;
    }

    private byte[] written(String name, Volume v) throws IOException {
        Path p = dir.resolve(name);
        VolumeFormats.write(p, v);
        return Files.readAllBytes(p);
    }

    private static byte[] resource(String name) throws IOException {
        return Files.readAllBytes(IoFixtures.resource(name));
    }

    private static byte[] inv3() throws IOException {
        String plist = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict><key>matrix</key><dict>"
                + "<key>dtype</key><string>int16</string><key>filename</key><string>matrix.dat</string>"
                + "<key>shape</key><array><integer>2</integer><integer>4</integer><integer>4</integer></array></dict>"
                + "<key>spacing</key><array><real>1.0</real><real>1.0</real><real>2.0</real></array></dict></plist>";
        byte[] matrix = new byte[2 * 4 * 4 * 2];
        for (int i = 0; i < matrix.length; i++) {
            matrix[i] = (byte) (i * 7);
        }
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(tar)) {
            for (Map.Entry<String, byte[]> e : Map.of("p/main.plist", plist.getBytes(StandardCharsets.UTF_8),
                    "p/matrix.dat", matrix).entrySet()) {
                TarArchiveEntry te = new TarArchiveEntry(e.getKey());
                te.setSize(e.getValue().length);
                t.putArchiveEntry(te);
                t.write(e.getValue());
                t.closeArchiveEntry();
            }
        }
        return gzip(tar.toByteArray());
    }

    private static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(b);
        }
        return out.toByteArray();
    }

    private static byte[] gunzip(byte[] b) throws IOException {
        try (GZIPInputStream z = new GZIPInputStream(new ByteArrayInputStream(b))) {
            return z.readAllBytes();
        }
    }
}
