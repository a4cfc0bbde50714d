package org.restorerwkv.io;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * How much one input may make the readers allocate, checked against what a file declares
 * (dimensions, member sizes) before anything is allocated or inflated, and enforced again while
 * compressed data inflate (a stream that inflates past {@link #maxBytes} is refused where it
 * crosses the bound, whatever its header said).
 *
 * <p>{@link #DEFAULT}: 2^27 voxels (134,217,728: a 512 x 512 x 512 scan, 512 MiB as float32) and
 * 2^30 decoded bytes (1 GiB) per input. The command line raises them with {@code --max-voxels} and
 * {@code --max-input-bytes}.
 *
 * @param maxVoxels the most voxels one image may declare
 * @param maxBytes the most bytes one input may decode to (decompressed, all members together)
 */
public record ReadLimits(long maxVoxels, long maxBytes) {

    public static final ReadLimits DEFAULT = new ReadLimits(1L << 27, 1L << 30);

    public ReadLimits {
        if (maxVoxels < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("read limits must be positive, got " + maxVoxels + " voxels, "
                    + maxBytes + " bytes");
        }
        if (maxVoxels > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("at most " + (Integer.MAX_VALUE - 8) + " voxels fit one volume, got "
                    + maxVoxels);
        }
    }

    /** Refuses an image that declares more than {@link #maxVoxels} voxels ({@code what}: e.g. "512x512x900"). */
    public void checkVoxels(Path file, long voxels, String what) throws InvalidInputException {
        if (voxels < 0 || voxels > maxVoxels) {
            throw new InvalidInputException(file, "the image declares " + what + " = " + Long.toUnsignedString(voxels)
                    + " voxels, above the limit of " + maxVoxels + " (--max-voxels raises it)");
        }
    }

    /** Refuses content that declares more than {@link #maxBytes} decoded bytes. */
    public void checkBytes(Path file, long bytes, String what) throws InvalidInputException {
        if (bytes < 0 || bytes > maxBytes) {
            throw new InvalidInputException(file, what + " declares " + Long.toUnsignedString(bytes)
                    + " bytes, above the limit of " + maxBytes + " (--max-input-bytes raises it)");
        }
    }

    /**
     * {@code in} (typically an inflating stream), refused with an {@link InvalidInputException} as
     * soon as more than {@link #maxBytes} bytes come out of it. Hand-written because the bounded
     * streams of commons-io and commons-compress stop silently at the bound, which would turn a
     * bomb into a truncated read instead of a refusal.
     */
    public InputStream bound(InputStream in, Path file, String what) {
        return new Bounded(in, maxBytes, file, what + " inflates past the limit of " + maxBytes
                + " bytes (--max-input-bytes raises it)");
    }

    /** {@code in}, refused with {@code problem} as soon as more than {@code limit} bytes come out of it. */
    static InputStream bound(InputStream in, long limit, Path file, String problem) {
        return new Bounded(in, limit, file, problem);
    }

    /** Reads a stream to its end, at most {@link #maxBytes} of it (to reach a trailer's checksum). */
    static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[1 << 16];
        while (in.read(buf) >= 0) {
            // discard: only the checks at the end of the stream matter
        }
    }

    private static final class Bounded extends FilterInputStream {
        private final long limit;
        private final Path file;
        private final String problem;
        private long count;

        Bounded(InputStream in, long limit, Path file, String problem) {
            super(in);
            this.limit = limit;
            this.file = file;
            this.problem = problem;
        }

        private void add(long n) throws InvalidInputException {
            count += n;
            if (count > limit) {
                throw new InvalidInputException(file, problem);
            }
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                add(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                add(n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = super.skip(n);
            if (s > 0) {
                add(s);
            }
            return s;
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}
