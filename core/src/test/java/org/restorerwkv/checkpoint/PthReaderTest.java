package org.restorerwkv.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.restorerwkv.checkpoint.PthTestFiles.Pickle;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;

class PthReaderTest {
    @TempDir Path dir;

    @Test
    void readsEveryParityKeyInFileOrderWithItsShape() throws Exception {
        Map<String, HostTensor> sd = PthReader.read(PthTestFiles.resource("parity/tiny-32x32/weights.pth"));
        String meta = Files.readString(PthTestFiles.resource("parity/tiny-32x32/meta.json"));
        var expected = JsonParser.parseString(meta).getAsJsonObject().getAsJsonObject("state_dict_keys");
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(sd.keySet()));
        for (Map.Entry<String, JsonElement> e : expected.entrySet()) {
            long[] shape = new long[e.getValue().getAsJsonArray().size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = e.getValue().getAsJsonArray().get(i).getAsLong();
            }
            assertArrayEquals(shape, sd.get(e.getKey()).shape(), e.getKey());
        }
        assertEquals(225729, sd.values().stream().mapToInt(t -> t.data().length).sum());
        // values printed once by torch 1.13 torch.load(weights.pth)[key].flatten() (float32, exact)
        float[] pe = sd.get("patch_embed.weight").data();
        assertEquals(-0.0024956068955361843f, pe[0]);
        assertEquals(0.17881453037261963f, pe[1]);
        assertEquals(-0.12215658277273178f, pe[pe.length - 1]);
        assertEquals(-0.8249130845069885f, sd.get("encoder_level1.0.att.spatial_decay").data()[8 + 3]);
        float[] ow = sd.get("output.weight").data();
        assertEquals(0.06385477632284164f, ow[ow.length - 1]);
    }

    /** The fixture base tensor: arange(24).reshape(2,3,4) * 0.5 - 3. */
    private static float base(int i, int j, int k) {
        return (12 * i + 4 * j + k) * 0.5f - 3;
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 5})
    void readsDtypesAndViewsOfEveryPickleProtocol(int protocol) throws Exception {
        Map<String, HostTensor> sd = PthReader.read(PthTestFiles.resource("checkpoint/dtypes_p" + protocol + ".pth"));
        assertEquals(List.of("f32", "f64", "f16", "bf16", "i64", "transposed", "sliced", "expanded", "empty", "scalar"),
                new ArrayList<>(sd.keySet()));
        float[] dense = new float[24];
        for (int n = 0; n < 24; n++) {
            dense[n] = base(n / 12, n / 4 % 3, n % 4);
        }
        for (String k : List.of("f32", "f64", "f16", "bf16")) {
            assertArrayEquals(new long[] {2, 3, 4}, sd.get(k).shape(), k);
            assertArrayEquals(dense, sd.get(k).data(), k);
        }
        assertEquals(new HostTensor(new long[0], new float[] {7}), sd.get("i64"));
        HostTensor tr = sd.get("transposed"); // base.transpose(0, 2): shape (4,3,2)
        assertArrayEquals(new long[] {4, 3, 2}, tr.shape());
        for (int k = 0; k < 4; k++) {
            for (int j = 0; j < 3; j++) {
                for (int i = 0; i < 2; i++) {
                    assertEquals(base(i, j, k), tr.data()[k * 6 + j * 2 + i]);
                }
            }
        }
        HostTensor sl = sd.get("sliced"); // base[1, :, 1:3]: offset 13, strides (4, 1)
        assertArrayEquals(new long[] {3, 2}, sl.shape());
        assertArrayEquals(new float[] {base(1, 0, 1), base(1, 0, 2), base(1, 1, 1), base(1, 1, 2), base(1, 2, 1),
            base(1, 2, 2)}, sl.data());
        assertEquals(new HostTensor(new long[] {2, 3}, new float[] {1, 2, 3, 1, 2, 3}), sd.get("expanded"));
        assertEquals(new HostTensor(new long[] {0, 5}, new float[0]), sd.get("empty"));
        assertEquals(new HostTensor(new long[0], new float[] {2.5f}), sd.get("scalar"));
    }

    @Test
    void takesTheStateDictOutOfATrainingCheckpointAndDropsTheDataParallelPrefix() throws Exception {
        Map<String, HostTensor> sd = PthReader.read(PthTestFiles.resource("checkpoint/training_checkpoint_dataparallel.pth"));
        assertEquals(List.of("weight", "bias"), new ArrayList<>(sd.keySet()));
        float[] w = new float[54];
        for (int i = 0; i < 54; i++) {
            w[i] = i / 8f; // set by the generator: arange(54).reshape(3,2,3,3) / 8
        }
        assertEquals(new HostTensor(new long[] {3, 2, 3, 3}, w), sd.get("weight"));
        assertEquals(new HostTensor(new long[] {3}, new float[] {-1, 0, 1}), sd.get("bias"));
    }

    @Test
    void readsParametersSavedDirectly() throws Exception {
        Map<String, HostTensor> sd = PthReader.read(PthTestFiles.resource("checkpoint/parameters.pth"));
        assertEquals(Map.of("w", new HostTensor(new long[] {2, 2}, new float[] {1.5f, -2, 0.25f, 8})), sd);
    }

    @Test
    void readsStoragesSavedOnAGpuToHostMemory() throws Exception {
        // parameters.pth with the storage location 'cpu' rewritten to 'cuda:0', as a GPU run saves it
        Path f = dir.resolve("gpu.pth");
        byte[] cpu = {'X', 3, 0, 0, 0, 'c', 'p', 'u'};
        byte[] cuda = {'X', 6, 0, 0, 0, 'c', 'u', 'd', 'a', ':', '0'};
        PthTestFiles.rezip(PthTestFiles.resource("checkpoint/parameters.pth"), f,
                (name, data) -> name.endsWith("data.pkl") ? replace(data, cpu, cuda) : data);
        assertEquals(Map.of("w", new HostTensor(new long[] {2, 2}, new float[] {1.5f, -2, 0.25f, 8})), PthReader.read(f));
    }

    private static byte[] replace(byte[] data, byte[] what, byte[] with) {
        for (int i = 0; i + what.length <= data.length; i++) {
            if (Arrays.equals(Arrays.copyOfRange(data, i, i + what.length), what)) {
                byte[] out = Arrays.copyOf(data, data.length - what.length + with.length);
                System.arraycopy(with, 0, out, i, with.length);
                System.arraycopy(data, i + what.length, out, i + with.length, data.length - i - what.length);
                return out;
            }
        }
        throw new AssertionError("pattern not in pickle");
    }

    @Test
    void honoursBigEndianByteorder() throws Exception {
        Map<String, HostTensor> sd = PthReader.read(PthTestFiles.resource("checkpoint/bigendian.pth"));
        assertEquals(new HostTensor(new long[] {3}, new float[] {1.5f, -2.25f, 1e-3f}), sd.get("be32"));
        assertEquals(new HostTensor(new long[] {2}, new float[] {3, -0.5f}), sd.get("be64"));
    }

    @Test
    void legacyFormatIsNamedInTheError() {
        Path f = PthTestFiles.resource("checkpoint/legacy_format.pth");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().startsWith(f.toString() + ": legacy torch.save format"), e.getMessage());
    }

    private Path pth(String name, byte[] pickle, Map<String, byte[]> storages) throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("weights/data.pkl", pickle);
        storages.forEach((k, v) -> entries.put("weights/data/" + k, v));
        entries.put("weights/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        Path f = dir.resolve(name);
        PthTestFiles.zip(f, entries);
        return f;
    }

    private void assertRefused(Path f, String global) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> PthReader.read(f));
        assertEquals(f + ": refused pickle global " + global + " (only state_dict types are allowed)", e.getMessage());
    }

    @Test
    void refusesOsSystem() throws Exception {
        // the classic payload: os.system('touch pwned') via REDUCE
        Path marker = dir.resolve("pwned");
        byte[] p = new Pickle().op(0x80, 2).global("os", "system").str("touch " + marker).op(0x85, 'R', '.').bytes();
        Path f = pth("os_system.pth", p, Map.of());
        assertRefused(f, "os.system");
        assertTrue(Files.notExists(marker));
    }

    @Test
    void refusesBuiltinsEvalNamedByStackGlobal() throws Exception {
        byte[] p = new Pickle().op(0x80, 4).shortStr("builtins").shortStr("eval").op(0x93)
                .shortStr("1+1").op(0x85, 'R', '.').bytes();
        assertRefused(pth("eval.pth", p, Map.of()), "builtins.eval");
    }

    @Test
    void refusesAForbiddenGlobalHiddenInsideAStateDict() throws Exception {
        // a valid tensor first, then posix.system as a value: refused before anything is called
        byte[] p = new Pickle().op(0x80, 2).global("collections", "OrderedDict").op(')', 'R', '(')
                .str("w").global("torch._utils", "_rebuild_tensor_v2").op('(').floatStorage("0", 1)
                .int1(0).op(')', ')', 0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R')
                .str("x").global("posix", "system").str("id").op(0x85, 'R', 'u', '.').bytes();
        assertRefused(pth("posix.pth", p, Map.of("0", new byte[4])), "posix.system");
    }

    @Test
    void unsupportedOpcodeIsNamed() throws Exception {
        byte[] p = new Pickle().op(0x80, 2, 'i', 'o', 's', '\n').bytes(); // INST os ...
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> PthReader.read(pth("inst.pth", p, Map.of())));
        assertTrue(e.getMessage().contains("unsupported pickle opcode INST (0x69)"), e.getMessage());
    }

    @Test
    void truncatedZipIsAnErrorNamingTheFile() throws Exception {
        Path good = dir.resolve("good.pth");
        PthWriter.write(good, Map.of("a", new HostTensor(new long[] {64}, new float[64])));
        byte[] all = Files.readAllBytes(good);
        Path f = dir.resolve("truncated.pth");
        Files.write(f, Arrays.copyOf(all, all.length / 2));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
    }

    @Test
    void storageShorterThanThePickleClaimsIsAnError() throws Exception {
        Path good = dir.resolve("good.pth");
        PthWriter.write(good, Map.of("a", new HostTensor(new long[] {4}, new float[] {1, 2, 3, 4})));
        Path f = dir.resolve("short.pth");
        PthTestFiles.rezip(good, f, (name, data) -> name.endsWith("data/0") ? Arrays.copyOf(data, 8) : data);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().startsWith(f + ": storage 0 holds at most 8 bytes"), e.getMessage());
    }

    @Test
    void tensorReachingPastItsStorageIsAnError() throws Exception {
        // storage of 4 floats, tensor of size (5,) stride (1,)
        byte[] p = new Pickle().op(0x80, 2).global("collections", "OrderedDict").op(')', 'R', '(')
                .str("w").global("torch._utils", "_rebuild_tensor_v2").op('(').floatStorage("0", 4)
                .int1(0).int1(5).op(0x85).int1(1).op(0x85, 0x89).global("collections", "OrderedDict")
                .op(')', 'R', 't', 'R', 'u', '.').bytes();
        Path f = pth("past.pth", p, Map.of("0", new byte[16]));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().contains("reaches past its storage 0 of 4 elements"), e.getMessage());
    }

    @Test
    void hugeClaimedStorageInATinyFileIsAnErrorNotAnAllocation() throws Exception {
        byte[] p = new Pickle().op(0x80, 2).global("collections", "OrderedDict").op(')', 'R', '(')
                .str("w").global("torch._utils", "_rebuild_tensor_v2").op('(')
                .op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu")
                .op('J', 0, 0, 0, 0x20).op('t', 'Q') // numel 2^29 (2 GiB of float32)
                .int1(0).op(')', ')', 0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R', 'u', '.')
                .bytes();
        Path f = pth("huge.pth", p, Map.of("0", new byte[4]));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().contains("storage 0"), e.getMessage());
    }

    @Test
    void truncatedPickleIsAnError() throws Exception {
        byte[] p = new Pickle().op(0x80, 2).global("collections", "OrderedDict").op(')', 'R', 'X', 100, 0, 0, 0)
                .bytes();
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> PthReader.read(pth("cut.pth", p, Map.of())));
        assertTrue(e.getMessage().contains("truncated pickle"), e.getMessage());
    }

    @Test
    void plainFilesAndZipsWithoutAPickleAreRejected() throws Exception {
        Path text = dir.resolve("text.pth");
        Files.writeString(text, "not a checkpoint");
        assertThrows(InvalidInputException.class, () -> PthReader.read(text));
        Path npz = dir.resolve("other.zip");
        PthTestFiles.zip(npz, Map.of("a.npy", new byte[10]));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> PthReader.read(npz));
        assertTrue(e.getMessage().contains("no <name>/data.pkl"), e.getMessage());
    }

    @Test
    void torchScriptArchivesAreNamed() throws Exception {
        Path f = dir.resolve("scripted.pt");
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("scripted/data.pkl", new Pickle().op(0x80, 2).global("__torch__.Net", "Net").op('.').bytes());
        entries.put("scripted/code/__torch__/net.py", "def forward(self): ...".getBytes(StandardCharsets.US_ASCII));
        entries.put("scripted/constants.pkl", new Pickle().op(0x80, 2, ')', '.').bytes());
        PthTestFiles.zip(f, entries);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().contains("TorchScript model"), e.getMessage());
    }

    @Test
    void writerOutputReadsBackExactly() throws Exception {
        Map<String, HostTensor> sd = new LinkedHashMap<>();
        float[] big = new float[70000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (float) Math.sin(i) * 1e3f;
        }
        sd.put("z.last_in_name_order", new HostTensor(new long[] {7, 10000}, big));
        sd.put("a.bias", new HostTensor(new long[] {3}, new float[] {-0f, Float.MIN_VALUE, Float.MAX_VALUE}));
        sd.put("scalar", new HostTensor(new long[0], new float[] {-1}));
        sd.put("empty", new HostTensor(new long[] {2, 0}, new float[0]));
        Path f = dir.resolve("out.pth");
        PthWriter.write(f, sd);
        assertEquals(sd, PthReader.read(f));
        assertEquals(new ArrayList<>(sd.keySet()), new ArrayList<>(PthReader.read(f).keySet()));
        Path g = dir.resolve("again.pth");
        PthWriter.write(g, sd);
        assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(g), "writing is deterministic");
    }

    @Test
    void writerAlignsStorageDataTo64Bytes() throws Exception {
        Path f = dir.resolve("aligned.pth");
        PthWriter.write(f, Map.of("a", new HostTensor(new long[] {3}, new float[] {1.25f, 2.5f, -7})));
        byte[] all = Files.readAllBytes(f);
        byte[] data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.25f).putFloat(2.5f)
                .putFloat(-7).array();
        int at = -1;
        for (int i = 0; i + data.length <= all.length && at < 0; i++) {
            if (Arrays.equals(Arrays.copyOfRange(all, i, i + data.length), data)) {
                at = i;
            }
        }
        assertTrue(at > 0 && at % 64 == 0, "storage data at byte " + at);
    }
}
