package org.restorerwkv.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.restorerwkv.io.AtomicFiles;
import org.restorerwkv.io.HostTensor;

/**
 * Writes a state dict as {@code torch.save} does (zip format, pickle protocol 2), so that
 * {@code torch.load} and {@link PthReader} read it: an OrderedDict of
 * {@code torch._utils._rebuild_tensor_v2} calls over little-endian {@code FloatStorage}s, one
 * storage per tensor, in {@code archive/data.pkl}, {@code archive/data/N},
 * {@code archive/byteorder} and {@code archive/version}. Entries are stored uncompressed with their
 * data aligned to 64 bytes, as torch writes them.
 */
public final class PthWriter {

    private static final String ARCHIVE = "archive/";
    private static final int ALIGNMENT = 64;
    /** Fixed entry time so that equal state dicts give byte-identical files. */
    private static final long ENTRY_TIME = 315532800000L + 86_400_000L; // 1980-01-02 UTC

    private PthWriter() {}

    public static void write(Path file, Map<String, HostTensor> stateDict) throws IOException {
        byte[] pickle = pickle(stateDict);
        AtomicFiles.write(file, out -> {
            CountingStream counted = new CountingStream(out);
            try (ZipOutputStream zip = new ZipOutputStream(counted)) {
                put(zip, counted, ARCHIVE + "data.pkl", pickle);
                put(zip, counted, ARCHIVE + "byteorder", "little".getBytes(StandardCharsets.US_ASCII));
                int key = 0;
                for (HostTensor t : stateDict.values()) {
                    put(zip, counted, ARCHIVE + "data/" + key++, littleEndian(t.data()));
                }
                put(zip, counted, ARCHIVE + "version", "3\n".getBytes(StandardCharsets.US_ASCII));
            }
        });
    }

    /** The data.pkl of a state dict: storage keys are the tensors' positions "0", "1", ... */
    static byte[] pickle(Map<String, HostTensor> stateDict) {
        Pickler p = new Pickler();
        p.op(0x80).op(2); // PROTO 2
        p.global("collections", "OrderedDict").op(')').op('R');
        p.op('(');
        int key = 0;
        for (Map.Entry<String, HostTensor> e : stateDict.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("state dict with a null key or tensor");
            }
            long[] shape = e.getValue().shape();
            p.string(e.getKey());
            p.global("torch._utils", "_rebuild_tensor_v2");
            p.op('(');
            // persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
            p.op('(').string("storage").global("torch", "FloatStorage").string(Integer.toString(key++))
                    .string("cpu").integer(e.getValue().data().length).op('t');
            p.op('Q'); // BINPERSID
            p.integer(0); // storage offset
            p.op('(');
            for (long d : shape) {
                p.integer(d);
            }
            p.op('t');
            p.op('(');
            long stride = 1;
            long[] strides = new long[shape.length];
            for (int k = shape.length - 1; k >= 0; k--) {
                strides[k] = stride;
                stride *= shape[k];
            }
            for (long s : strides) {
                p.integer(s);
            }
            p.op('t');
            p.op(0x89); // requires_grad False
            p.global("collections", "OrderedDict").op(')').op('R'); // backward hooks
            p.op('t').op('R');
        }
        p.op('u'); // SETITEMS
        p.op('.');
        return p.bytes.toByteArray();
    }

    private static byte[] littleEndian(float[] data) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(data.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        return b.array();
    }

    /** One stored entry whose data start on a 64-byte boundary (padding in an "FB" extra field, as torch). */
    private static void put(ZipOutputStream zip, CountingStream counted, String name, byte[] data) throws IOException {
        CRC32 crc = new CRC32();
        crc.update(data);
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        e.setCrc(crc.getValue());
        e.setTime(ENTRY_TIME);
        zip.flush();
        long headerEnd = counted.count + 30 + name.getBytes(StandardCharsets.UTF_8).length + 4;
        int pad = (int) ((ALIGNMENT - headerEnd % ALIGNMENT) % ALIGNMENT);
        byte[] extra = new byte[4 + pad];
        extra[0] = 'F';
        extra[1] = 'B';
        extra[2] = (byte) pad;
        extra[3] = (byte) (pad >> 8);
        e.setExtra(extra);
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    /** Counts bytes so that entry data can be aligned. */
    private static final class CountingStream extends FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }

    /** The few pickle opcodes a state dict needs. */
    private static final class Pickler {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Pickler op(int code) {
            bytes.write(code);
            return this;
        }

        Pickler global(String module, String name) {
            op('c');
            bytes.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickler string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            le(b.length, 4);
            bytes.writeBytes(b);
            return this;
        }

        Pickler integer(long v) {
            if (v >= 0 && v < 0x100) {
                op('K').le(v, 1);
            } else if (v >= 0 && v < 0x10000) {
                op('M').le(v, 2);
            } else if (v == (int) v) {
                op('J').le(v, 4);
            } else {
                op(0x8a).op(8).le(v, 8); // LONG1, two's complement
            }
            return this;
        }

        Pickler le(long v, int n) {
            for (int i = 0; i < n; i++) {
                bytes.write((int) (v >>> (8 * i)) & 0xff);
            }
            return this;
        }
    }
}
