package org.restorerwkv.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;

/**
 * Reads PyTorch checkpoints written by {@code torch.save(model.state_dict())} (the zip format of
 * torch 1.6 and later, pickle protocols 2-5) without running any of the pickle's code.
 *
 * <p>The pickle may only name the globals a state dict needs (OrderedDict, the tensor and
 * parameter rebuild functions, storage classes and dtypes); any other global is refused before
 * anything is built. Tensors of every stored dtype are returned as float32 in C order, whatever
 * their storage offset and strides; integer tensors (e.g. BatchNorm's {@code num_batches_tracked})
 * are read as float too, exactly up to 2^24. A training checkpoint whose top-level dict holds the
 * state dict under "state_dict", "model_state_dict", "model" or "params" is accepted, and a
 * "module." prefix that every key carries (DataParallel) is removed.
 */
final class PthReader {

    /** Keys under which training scripts commonly nest the state dict, in order of preference. */
    private static final List<String> WRAPPER_KEYS = List.of("state_dict", "model_state_dict", "model", "params");

    private static final String DP_PREFIX = "module.";
    /** A state dict's pickle is a few bytes per tensor; anything near this is not one. */
    private static final long MAX_PICKLE = 256L << 20;
    private static final Pattern STORAGE_KEY = Pattern.compile("[A-Za-z0-9_]{1,64}");
    private static final Pattern PICKLE_ENTRY = Pattern.compile("([^/]+/)data\\.pkl");

    private static final Map<String, Dtype> STORAGE_TYPES = storageTypes();
    private static final Set<String> DTYPES = Set.of(
            "float32", "float", "float64", "double", "float16", "half", "bfloat16",
            "int64", "long", "int32", "int", "int16", "short", "int8", "uint8", "bool");

    private PthReader() {}

    /** A global the pickle may name: "module.name". */
    private record Global(String qualname) {}

    /** One storage of the checkpoint: raw bytes of {@code numel} elements of {@code dtype}. */
    private record Storage(String key, Dtype dtype, long numel, ByteBuffer bytes) {}

    /** A tensor as the pickle describes it: a strided view of a storage. */
    private record TensorRef(Storage storage, long offset, long[] size, long[] stride) {}

    /** Reads the state dict of a checkpoint, keys in the order the file lists them. */
    public static LinkedHashMap<String, HostTensor> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file, "no such checkpoint file");
        }
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new InvalidInputException(file, notZipProblem(file), e);
        }
        try (zip) {
            return readZip(file, zip, Files.size(file));
        } catch (ZipException e) {
            throw new InvalidInputException(file, "corrupt checkpoint archive (" + e.getMessage() + ")", e);
        }
    }

    private static LinkedHashMap<String, HostTensor> readZip(Path file, ZipFile zip, long fileSize) throws IOException {
        String prefix = null;
        for (ZipEntry e : zip.stream().toList()) {
            var m = PICKLE_ENTRY.matcher(e.getName());
            if (m.matches()) {
                if (prefix != null) {
                    throw new InvalidInputException(file, "archive holds more than one data.pkl");
                }
                prefix = m.group(1);
            }
        }
        if (prefix == null) {
            throw new InvalidInputException(file, "not a torch.save checkpoint (the zip has no <name>/data.pkl)");
        }
        if (zip.getEntry(prefix + "constants.pkl") != null) {
            throw new InvalidInputException(file, "a TorchScript model (torch.jit.save), not a state_dict; "
                    + "save model.state_dict() with torch.save instead");
        }
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        ZipEntry bo = zip.getEntry(prefix + "byteorder");
        if (bo != null) {
            String s = new String(readEntry(file, zip, bo, 16), StandardCharsets.US_ASCII).trim();
            if (s.equals("big")) {
                order = ByteOrder.BIG_ENDIAN;
            } else if (!s.equals("little")) {
                throw new InvalidInputException(file, "unknown byteorder '" + s + "'");
            }
        }
        ZipEntry pkl = zip.getEntry(prefix + "data.pkl");
        byte[] pickle = readEntry(file, zip, pkl, (int) Math.min(MAX_PICKLE, maxInflated(pkl, fileSize)));
        TorchHost host = new TorchHost(file, zip, prefix, order, fileSize);
        Object top = Unpickler.load(pickle, file, host);
        return toHostTensors(file, stateDict(file, top));
    }

    /** Why a file that is not a zip cannot be read: the pre-1.6 format gets its own message. */
    private static String notZipProblem(Path file) {
        byte[] head = new byte[16];
        int n = 0;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException ignored) {
            // the generic message below still applies
        }
        // legacy torch.save: PROTO 2, LONG1 of 10 bytes holding the magic 0x1950a86a20f9469cfc6c
        byte[] legacy = {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20,
            0x6a, (byte) 0xa8, 0x50, 0x19};
        if (n >= legacy.length && Arrays.equals(Arrays.copyOf(head, legacy.length), legacy)) {
            return "legacy torch.save format (before torch 1.6) is not supported; re-save it with a newer torch";
        }
        return n == 0 ? "empty file, not a PyTorch checkpoint" : "not a PyTorch checkpoint (not a zip archive, or truncated)";
    }

    /**
     * The most bytes an entry can hold given the file's size: a stored entry no more than the file,
     * a deflated one no more than deflate's largest ratio (1032:1) allows.
     */
    private static long maxInflated(ZipEntry e, long fileSize) {
        long packed = e.getCompressedSize() >= 0 ? Math.min(e.getCompressedSize(), fileSize) : fileSize;
        return e.getMethod() == ZipEntry.STORED ? packed : packed * 1032L;
    }

    /** Reads a whole entry, refusing more than {@code max} bytes; grows only as data actually arrive. */
    private static byte[] readEntry(Path file, ZipFile zip, ZipEntry e, int max) throws IOException {
        if (e.getSize() > max) {
            throw new InvalidInputException(file, "entry " + e.getName() + " is too large (" + e.getSize() + " bytes)");
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes(max);
            if (e.getSize() >= 0 && b.length != e.getSize()) {
                throw new InvalidInputException(file, "truncated entry " + e.getName() + ": " + b.length + " of "
                        + e.getSize() + " bytes");
            }
            checkCrc(file, e, b);
            return b;
        } catch (ZipException | java.io.EOFException ex) {
            throw new InvalidInputException(file, "corrupt entry " + e.getName() + " (" + ex.getMessage() + ")", ex);
        }
    }

    /** java.util.zip.ZipFile does not check CRCs itself: a whole entry's bytes against its directory's CRC-32. */
    private static void checkCrc(Path file, ZipEntry e, byte[] whole) throws InvalidInputException {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(whole);
        if (e.getCrc() >= 0 && crc.getValue() != e.getCrc()) {
            throw new InvalidInputException(file, "entry " + e.getName() + " fails its CRC-32 check (the archive is corrupt)");
        }
    }

    /** The state dict inside the unpickled top-level object. */
    private static Map<?, ?> stateDict(Path file, Object top) throws InvalidInputException {
        if (!(top instanceof Map<?, ?> map)) {
            throw new InvalidInputException(file, "checkpoint holds a " + Unpickler.typeName(top)
                    + ", not a state_dict");
        }
        if (map.values().stream().anyMatch(v -> v instanceof TensorRef)) {
            return map;
        }
        for (String k : WRAPPER_KEYS) {
            if (map.get(k) instanceof Map<?, ?> inner && inner.values().stream().anyMatch(v -> v instanceof TensorRef)) {
                return inner;
            }
        }
        List<String> keys = map.keySet().stream().limit(12).map(String::valueOf).toList();
        throw new InvalidInputException(file, "no state_dict in checkpoint (top-level keys: " + keys
                + (map.size() > keys.size() ? ", ..." : "") + ")");
    }

    private static LinkedHashMap<String, HostTensor> toHostTensors(Path file, Map<?, ?> sd) throws InvalidInputException {
        boolean strip = sd.keySet().stream().allMatch(k -> k instanceof String s && s.startsWith(DP_PREFIX));
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : sd.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new InvalidInputException(file, "state_dict key " + e.getKey() + " is not a string");
            }
            if (!(e.getValue() instanceof TensorRef t)) {
                throw new InvalidInputException(file, "state_dict entry '" + key + "' is a "
                        + Unpickler.typeName(e.getValue()) + ", not a tensor");
            }
            out.put(strip ? key.substring(DP_PREFIX.length()) : key, gather(t));
        }
        return out;
    }

    /** Copies a strided view into a dense C-order float32 array. */
    private static HostTensor gather(TensorRef t) {
        int rank = t.size().length;
        int n = (int) HostTensor.numel(t.size());
        float[] data = new float[n];
        Dtype dt = t.storage().dtype();
        ByteBuffer b = t.storage().bytes();
        long[] contiguous = new long[rank];
        long s = 1;
        for (int k = rank - 1; k >= 0; k--) {
            contiguous[k] = s;
            s *= t.size()[k];
        }
        if (n == 0) {
            return new HostTensor(t.size(), data);
        }
        if (Arrays.equals(contiguous, t.stride()) || n == 1) {
            for (int i = 0; i < n; i++) {
                data[i] = dt.get(b, (int) ((t.offset() + i) * dt.bytes));
            }
            return new HostTensor(t.size(), data);
        }
        int[] idx = new int[rank];
        long pos = t.offset();
        for (int i = 0; i < n; i++) {
            data[i] = dt.get(b, (int) (pos * dt.bytes));
            for (int k = rank - 1; k >= 0; k--) {
                pos += t.stride()[k];
                if (++idx[k] < t.size()[k]) {
                    break;
                }
                pos -= t.stride()[k] * idx[k];
                idx[k] = 0;
            }
        }
        return new HostTensor(t.size(), data);
    }

    private static Map<String, Dtype> storageTypes() {
        Map<String, Dtype> m = new HashMap<>();
        Object[][] names = {
            {"Float", Dtype.FLOAT32}, {"Double", Dtype.FLOAT64}, {"Half", Dtype.FLOAT16},
            {"BFloat16", Dtype.BFLOAT16}, {"Long", Dtype.INT64}, {"Int", Dtype.INT32}, {"Short", Dtype.INT16},
            {"Char", Dtype.INT8}, {"Byte", Dtype.UINT8}, {"Bool", Dtype.BOOL}
        };
        for (Object[] p : names) {
            // torch >= 1.13 names the CPU class whatever the device; older torch wrote torch.cuda.*
            m.put("torch." + p[0] + "Storage", (Dtype) p[1]);
            m.put("torch.cuda." + p[0] + "Storage", (Dtype) p[1]);
        }
        m.put("torch.UntypedStorage", Dtype.UINT8);
        m.put("torch.storage.UntypedStorage", Dtype.UINT8);
        return m;
    }

    /** What a state-dict pickle may build, and nothing else. */
    private static final class TorchHost implements Unpickler.Host {
        private final Path file;
        private final ZipFile zip;
        private final String prefix;
        private final ByteOrder order;
        private final long fileSize;
        private final Map<String, Storage> storages = new HashMap<>();

        TorchHost(Path file, ZipFile zip, String prefix, ByteOrder order, long fileSize) {
            this.fileSize = fileSize;
            this.file = file;
            this.zip = zip;
            this.prefix = prefix;
            this.order = order;
        }

        @Override
        public Object global(String module, String name) throws InvalidInputException {
            String q = module + "." + name;
            boolean allowed = switch (q) {
                case "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
                        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> true;
                default -> STORAGE_TYPES.containsKey(q) || (module.equals("torch") && DTYPES.contains(name));
            };
            if (!allowed) {
                throw new InvalidInputException(file, "refused pickle global " + q
                        + " (only state_dict types are allowed)");
            }
            return new Global(q);
        }

        @Override
        public Object call(Object callable, List<Object> args) throws InvalidInputException {
            if (!(callable instanceof Global g)) {
                throw error("pickle calls a " + Unpickler.typeName(callable) + ", which is not callable");
            }
            return switch (g.qualname()) {
                case "collections.OrderedDict" -> orderedDict(args);
                case "torch._utils._rebuild_tensor" -> tensor(args, 4, 4);
                case "torch._utils._rebuild_tensor_v2" -> tensor(args, 6, 7);
                case "torch._utils._rebuild_parameter" -> parameter(args, 3);
                case "torch._utils._rebuild_parameter_with_state" -> parameter(args, 4);
                default -> throw error("pickle calls " + g.qualname() + ", which is not callable");
            };
        }

        @Override
        public Object build(Object obj, Object state) throws InvalidInputException {
            // torch.save sets the state dict's _metadata (version numbers) with BUILD: not needed here
            if (obj instanceof Map<?, ?> || (obj instanceof TensorRef
                    && (state == Unpickler.NONE || state instanceof Map<?, ?> m && m.isEmpty()))) {
                return obj;
            }
            throw error("pickle BUILD on a " + Unpickler.typeName(obj) + " is not supported");
        }

        @Override
        public Object persistentLoad(Object pid) throws InvalidInputException {
            // ('storage', storage_type, key, location, numel)
            if (!(pid instanceof List<?> t) || t.size() != 5 || !"storage".equals(t.get(0))
                    || !(t.get(1) instanceof Global type) || !(t.get(2) instanceof String key)
                    || !(t.get(4) instanceof Long numel)) {
                throw error("unsupported persistent id in pickle (expected ('storage', type, key, location, numel))");
            }
            Dtype dtype = STORAGE_TYPES.get(type.qualname());
            if (dtype == null) {
                throw error("persistent id names " + type.qualname() + ", which is not a storage type");
            }
            if (!STORAGE_KEY.matcher(key).matches()) {
                throw error("invalid storage key '" + key + "'");
            }
            Storage cached = storages.get(key);
            if (cached != null) {
                if (cached.dtype() != dtype || cached.numel() != numel) {
                    throw error("storage " + key + " is named with two different types or sizes");
                }
                return cached;
            }
            ZipEntry e = zip.getEntry(prefix + "data/" + key);
            if (e == null) {
                throw error("storage " + key + " is missing (no entry " + prefix + "data/" + key + ")");
            }
            if (numel < 0 || numel > (Integer.MAX_VALUE - 8) / dtype.bytes) {
                throw error("storage " + key + " claims " + numel + " elements, more than can be read");
            }
            long need = numel * dtype.bytes;
            long holds = Math.min(e.getSize() >= 0 ? e.getSize() : Long.MAX_VALUE, maxInflated(e, fileSize));
            if (holds < need) {
                throw error("storage " + key + " holds at most " + holds + " bytes, the pickle claims " + numel + " "
                        + dtype.name().toLowerCase() + " elements (" + need + " bytes)");
            }
            byte[] raw;
            try (InputStream in = zip.getInputStream(e)) {
                raw = in.readNBytes((int) need);
            } catch (ZipException | java.io.EOFException ex) {
                throw new InvalidInputException(file, "corrupt storage entry " + e.getName() + " (" + ex.getMessage()
                        + ")", ex);
            } catch (IOException ex) {
                throw new InvalidInputException(file, "cannot read storage " + key + " (" + ex.getMessage() + ")", ex);
            }
            if (raw.length < need) {
                throw error("storage " + key + " is truncated: " + raw.length + " of " + need + " bytes");
            }
            if (e.getSize() == need) {
                checkCrc(file, e, raw);
            }
            Storage s = new Storage(key, dtype, numel, ByteBuffer.wrap(raw).order(order));
            storages.put(key, s);
            return s;
        }

        private Object orderedDict(List<Object> args) throws InvalidInputException {
            Map<Object, Object> m = new LinkedHashMap<>();
            if (args.isEmpty()) {
                return m;
            }
            if (args.size() == 1 && args.get(0) instanceof List<?> items) {
                for (Object item : items) {
                    if (!(item instanceof List<?> pair) || pair.size() != 2
                            || !(pair.get(0) instanceof String || pair.get(0) instanceof Long)) {
                        throw error("OrderedDict items must be (key, value) pairs");
                    }
                    m.put(pair.get(0), pair.get(1));
                }
                return m;
            }
            throw error("unsupported OrderedDict arguments in pickle");
        }

        /** _rebuild_tensor(storage, offset, size, stride) and _v2(..., requires_grad, hooks[, metadata]). */
        private Object tensor(List<Object> args, int min, int max) throws InvalidInputException {
            if (args.size() < min || args.size() > max || !(args.get(0) instanceof Storage s)
                    || !(args.get(1) instanceof Long offset)) {
                throw error("malformed tensor in pickle (unexpected _rebuild_tensor arguments)");
            }
            long[] size = longs(args.get(2), "size");
            long[] stride = longs(args.get(3), "stride");
            if (size.length != stride.length) {
                throw error("tensor size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride)
                        + " differ in rank");
            }
            long numel;
            long last = offset;
            try {
                numel = HostTensor.numel(size);
                for (int k = 0; k < size.length; k++) {
                    if (stride[k] < 0) {
                        throw error("negative tensor stride " + Arrays.toString(stride));
                    }
                    if (size[k] > 0) {
                        last = Math.addExact(last, Math.multiplyExact(size[k] - 1, stride[k]));
                    }
                }
            } catch (ArithmeticException | IllegalArgumentException e) {
                throw error("invalid tensor size " + Arrays.toString(size) + " / stride " + Arrays.toString(stride));
            }
            if (offset < 0 || (numel > 0 && last >= s.numel())) {
                throw error("tensor of size " + Arrays.toString(size) + " (offset " + offset + ", stride "
                        + Arrays.toString(stride) + ") reaches past its storage " + s.key() + " of " + s.numel()
                        + " elements");
            }
            if (numel > Integer.MAX_VALUE - 8) {
                throw error("tensor of size " + Arrays.toString(size) + " is too large");
            }
            return new TensorRef(s, offset, size, stride);
        }

        private Object parameter(List<Object> args, int count) throws InvalidInputException {
            if (args.size() != count || !(args.get(0) instanceof TensorRef t)) {
                throw error("malformed parameter in pickle");
            }
            return t;
        }

        private long[] longs(Object o, String what) throws InvalidInputException {
            if (!(o instanceof List<?> l)) {
                throw error("tensor " + what + " is a " + Unpickler.typeName(o) + ", not a tuple");
            }
            List<Long> out = new ArrayList<>();
            for (Object v : l) {
                if (!(v instanceof Long x)) {
                    throw error("tensor " + what + " holds a " + Unpickler.typeName(v));
                }
                out.add(x);
            }
            return out.stream().mapToLong(Long::longValue).toArray();
        }

        private InvalidInputException error(String problem) {
            return new InvalidInputException(file, problem);
        }
    }
}
