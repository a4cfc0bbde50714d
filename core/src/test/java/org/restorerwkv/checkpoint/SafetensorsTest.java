package org.restorerwkv.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;

class SafetensorsTest {
    @TempDir Path dir;

    /** A safetensors file with the given JSON header and data bytes, as another writer would make it. */
    private Path file(String name, String header, byte[] data) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.writeBytes(h);
        out.writeBytes(data);
        Path f = dir.resolve(name);
        Files.write(f, out.toByteArray());
        return f;
    }

    @Test
    void roundTripKeepsOrderValuesAndMetadata() throws Exception {
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("z.weight", new HostTensor(new long[] {2, 3}, new float[] {1, -2, 3.5f, Float.MIN_VALUE, -0f, 1e30f}));
        t.put("a.bias", new HostTensor(new long[] {1}, new float[] {7}));
        t.put("scalar", new HostTensor(new long[0], new float[] {-3}));
        t.put("empty", new HostTensor(new long[] {0, 4}, new float[0]));
        Path f = dir.resolve("m.safetensors");
        Safetensors.write(f, t, Map.of("format", "pt", "note", "ünïcode"));
        Map<String, HostTensor> back = Safetensors.read(f);
        assertEquals(t, back);
        assertEquals(new ArrayList<>(t.keySet()), new ArrayList<>(back.keySet()));
        assertEquals(Map.of("format", "pt", "note", "ünïcode"), Safetensors.readMetadata(f));
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "data start on an 8-byte boundary");
        assertEquals(8 + headerLen + 4 * 8, Files.size(f));
    }

    @Test
    void metadataIsEmptyWhenAbsent() throws Exception {
        Path f = dir.resolve("n.safetensors");
        Safetensors.write(f, Map.of("a", new HostTensor(new long[] {1}, new float[] {1})), Map.of());
        assertEquals(Map.of(), Safetensors.readMetadata(f));
    }

    @Test
    void readsF64F16Bf16AndI64() throws Exception {
        ByteBuffer d = ByteBuffer.allocate(8 + 4 + 4 + 8).order(ByteOrder.LITTLE_ENDIAN);
        d.putDouble(-0.125);
        d.putShort((short) 0x3E00).putShort((short) 0xC100); // float16 1.5, -2.5
        d.putShort((short) 0xC010).putShort((short) 0x4049); // bfloat16 -2.25, 3.140625
        d.putLong(42);
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,1],\"data_offsets\":[12,16]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]}}";
        Map<String, HostTensor> t = Safetensors.read(file("mixed.safetensors", header, d.array()));
        assertEquals(List.of("d", "h", "b", "n"), new ArrayList<>(t.keySet()));
        assertArrayEquals(new float[] {-0.125f}, t.get("d").data());
        assertArrayEquals(new float[] {1.5f, -2.5f}, t.get("h").data());
        assertEquals(new HostTensor(new long[] {2, 1}, new float[] {-2.25f, 3.140625f}), t.get("b"));
        assertEquals(new HostTensor(new long[0], new float[] {42}), t.get("n"));
    }

    private void assertInvalid(Path f, String part) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Safetensors.read(f));
        assertTrue(e.getMessage().startsWith(f + ": ") && e.getMessage().contains(part), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void offsetsBeyondTheFileAreAnError() throws Exception {
        assertInvalid(file("beyond.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000],\"data_offsets\":[0,4000000]}}", new byte[16]),
                "outside the 16 data bytes");
    }

    @Test
    void overlappingTensorsAreAnError() throws Exception {
        assertInvalid(file("overlap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", new byte[16]),
                "overlap");
    }

    @Test
    void offsetsThatDisagreeWithTheShapeAreAnError() throws Exception {
        assertInvalid(file("len.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[16]), "needs 12 bytes");
    }

    @Test
    void headerLongerThanTheFileIsAnError() throws Exception {
        Path f = dir.resolve("hdr.safetensors");
        Files.write(f, ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertInvalid(f, "invalid safetensors header length");
    }

    @Test
    void malformedHeadersAreErrors() throws Exception {
        assertInvalid(file("json.safetensors", "{\"a\":", new byte[0]), "malformed safetensors header");
        assertInvalid(file("dtype.safetensors",
                "{\"a\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]), "unsupported dtype C64");
        assertInvalid(file("shape.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":\"x\",\"data_offsets\":[0,4]}}", new byte[4]), "malformed");
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[3]);
        assertInvalid(tiny, "not a safetensors file");
    }

    @Test
    void pthToSafetensorsToPthKeepsEveryTensor() throws Exception {
        Map<String, HostTensor> sd = PthReader.read(PthTestFiles.resource("parity/tiny-32x32/weights.pth"));
        Path st = dir.resolve("w.safetensors");
        Safetensors.write(st, sd, Map.of("format", "pt"));
        Map<String, HostTensor> viaSt = Safetensors.read(st);
        Path pth = dir.resolve("w.pth");
        PthWriter.write(pth, viaSt);
        Map<String, HostTensor> back = PthReader.read(pth);
        assertEquals(new ArrayList<>(sd.keySet()), new ArrayList<>(back.keySet()));
        assertEquals(sd, back);
    }
}
