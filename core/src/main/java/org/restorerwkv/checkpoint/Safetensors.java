package org.restorerwkv.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.restorerwkv.io.AtomicFiles;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header
 * {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}}, then
 * the raw little-endian tensor data, offsets counted from the end of the header.
 *
 * <p>Reads F32, F64, F16, BF16 (and the integer and bool types, exactly up to 2^24) as float32;
 * writes F32 in the map's order. Tensors are returned in the order the header lists them. Offsets
 * are checked against the file: out of range, wrong length for the shape, or overlapping tensors
 * are errors.
 */
public final class Safetensors {

    /** The reference implementation's limit on the header size. */
    private static final long MAX_HEADER = 100L << 20;
    private static final String METADATA = "__metadata__";

    private Safetensors() {}

    private record Entry(String name, Dtype dtype, long[] shape, long begin, long end) {}

    private record Header(long dataStart, List<Entry> entries, Map<String, String> metadata) {}

    public static LinkedHashMap<String, HostTensor> read(Path file) throws IOException {
        try (FileChannel ch = open(file)) {
            Header h = header(file, ch);
            LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
            for (Entry e : h.entries()) {
                ByteBuffer b = ByteBuffer.allocate((int) (e.end() - e.begin())).order(ByteOrder.LITTLE_ENDIAN);
                long pos = h.dataStart() + e.begin();
                while (b.hasRemaining()) {
                    if (ch.read(b, pos + b.position()) < 0) {
                        throw new InvalidInputException(file, "truncated data of tensor '" + e.name() + "'");
                    }
                }
                float[] data = new float[(int) HostTensor.numel(e.shape())];
                for (int i = 0; i < data.length; i++) {
                    data[i] = e.dtype().get(b, i * e.dtype().bytes);
                }
                out.put(e.name(), new HostTensor(e.shape(), data));
            }
            return out;
        }
    }

    /** The header's "__metadata__" string map (empty when absent). */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        try (FileChannel ch = open(file)) {
            return header(file, ch).metadata();
        }
    }

    /** Writes little-endian float32 tensors in the map's order, with optional string metadata. */
    public static void write(Path file, Map<String, HostTensor> tensors, Map<String, String> metadata)
            throws IOException {
        JsonObject json = new JsonObject();
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject m = new JsonObject();
            metadata.forEach((k, v) -> m.addProperty(k, v));
            json.add(METADATA, m);
        }
        long offset = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            if (METADATA.equals(e.getKey())) {
                throw new IllegalArgumentException("a tensor may not be named " + METADATA);
            }
            JsonObject t = new JsonObject();
            t.addProperty("dtype", "F32");
            JsonArray shape = new JsonArray();
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            t.add("shape", shape);
            JsonArray offsets = new JsonArray();
            long end = offset + 4L * e.getValue().data().length;
            offsets.add(offset);
            offsets.add(end);
            t.add("data_offsets", offsets);
            json.add(e.getKey(), t);
            offset = end;
        }
        byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
        // pad the header with spaces so that the data start on an 8-byte boundary, as the reference does
        int padded = (text.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(text, padded);
        Arrays.fill(header, text.length, padded, (byte) ' ');
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(header);
            for (HostTensor t : tensors.values()) {
                ByteBuffer b = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(t.data());
                out.write(b.array());
            }
        });
    }

    private static FileChannel open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file, "no such safetensors file");
        }
        return FileChannel.open(file, StandardOpenOption.READ);
    }

    private static Header header(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new InvalidInputException(file, "not a safetensors file (shorter than its 8-byte header length)");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n < 2 || n > MAX_HEADER || n > size - 8) {
            throw new InvalidInputException(file, "invalid safetensors header length " + Long.toUnsignedString(n)
                    + " (file has " + size + " bytes)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(file, ch, hb, 8);
        String text = new String(hb.array(), StandardCharsets.UTF_8);
        int depth = nesting(text);
        if (depth > MAX_DEPTH) {
            throw new InvalidInputException(file, "safetensors header JSON nests " + depth + " levels deep; a valid one nests 3");
        }
        JsonObject json;
        try {
            JsonElement el = JsonParser.parseString(text);
            if (!el.isJsonObject()) {
                throw new InvalidInputException(file, "safetensors header is not a JSON object");
            }
            json = el.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            // Gson's message names the position, then adds a second line with a link: keep the first
            Throwable why = e.getCause() != null ? e.getCause() : e;
            String first = String.valueOf(why.getMessage()).lines().findFirst().orElse("").trim();
            throw new InvalidInputException(file, "malformed safetensors header JSON (" + first + ")");
        }
        long dataStart = 8 + n;
        long dataSize = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : json.entrySet()) {
            if (e.getKey().equals(METADATA)) {
                if (!e.getValue().isJsonObject()) {
                    throw new InvalidInputException(file, "safetensors __metadata__ is not an object");
                }
                for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
                    if (!(m.getValue() instanceof JsonPrimitive p) || !p.isString()) {
                        throw new InvalidInputException(file, "safetensors metadata '" + m.getKey()
                                + "' is not a string");
                    }
                    metadata.put(m.getKey(), p.getAsString());
                }
            } else {
                entries.add(entry(file, e.getKey(), e.getValue(), dataSize));
            }
        }
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        for (int i = 1; i < byOffset.size(); i++) {
            Entry a = byOffset.get(i - 1);
            Entry b = byOffset.get(i);
            if (b.begin() < a.end()) {
                throw new InvalidInputException(file, "safetensors tensors '" + a.name() + "' and '" + b.name()
                        + "' overlap");
            }
        }
        return new Header(dataStart, entries, metadata);
    }

    /** Deeper JSON is refused before Gson parses it (Gson recurses once per level). */
    private static final int MAX_DEPTH = 16;

    /** The deepest nesting of arrays and objects in a JSON text, strings skipped (stops counting past MAX_DEPTH). */
    static int nesting(String json) {
        int depth = 0;
        int max = 0;
        boolean inString = false;
        for (int i = 0; i < json.length() && max <= MAX_DEPTH; i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '[' || c == '{') {
                max = Math.max(max, ++depth);
            } else if (c == ']' || c == '}') {
                depth--;
            }
        }
        return max;
    }

    private static Entry entry(Path file, String name, JsonElement el, long dataSize) throws InvalidInputException {
        String where = "safetensors tensor '" + name + "'";
        try {
            JsonObject o = el.getAsJsonObject();
            String dt = o.get("dtype").getAsString();
            Dtype dtype = switch (dt) {
                case "F32" -> Dtype.FLOAT32;
                case "F64" -> Dtype.FLOAT64;
                case "F16" -> Dtype.FLOAT16;
                case "BF16" -> Dtype.BFLOAT16;
                case "I64" -> Dtype.INT64;
                case "I32" -> Dtype.INT32;
                case "I16" -> Dtype.INT16;
                case "I8" -> Dtype.INT8;
                case "U8" -> Dtype.UINT8;
                case "BOOL" -> Dtype.BOOL;
                default -> throw new InvalidInputException(file, where + " has unsupported dtype " + dt);
            };
            JsonArray s = o.get("shape").getAsJsonArray();
            long[] shape = new long[s.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = s.get(i).getAsLong();
            }
            JsonArray off = o.get("data_offsets").getAsJsonArray();
            if (off.size() != 2) {
                throw new InvalidInputException(file, where + " needs two data_offsets");
            }
            long begin = off.get(0).getAsLong();
            long end = off.get(1).getAsLong();
            if (begin < 0 || end < begin || end > dataSize) {
                throw new InvalidInputException(file, where + " has data_offsets [" + begin + ", " + end
                        + "] outside the " + dataSize + " data bytes of the file");
            }
            long numel = HostTensor.numel(shape);
            if (numel > Integer.MAX_VALUE - 8 || end - begin != numel * dtype.bytes) {
                throw new InvalidInputException(file, where + " of shape " + Arrays.toString(shape) + " " + dt
                        + " needs " + Math.multiplyExact(numel, dtype.bytes) + " bytes, data_offsets give "
                        + (end - begin));
            }
            return new Entry(name, dtype, shape, begin, end);
        } catch (IllegalStateException | UnsupportedOperationException | NullPointerException
                | NumberFormatException | ClassCastException | ArithmeticException e) {
            throw new InvalidInputException(file, where + " has a malformed header entry");
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file, where + " has an invalid shape (" + e.getMessage() + ")");
        }
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw new InvalidInputException(file, "truncated safetensors file");
            }
        }
    }
}
