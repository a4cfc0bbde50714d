package org.restorerwkv.io;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * PNG and TIFF greyscale images through javax.imageio (Java 17 ships a TIFF plugin).
 *
 * <p>Reading: 8- or 16-bit grey (also signed or float TIFF samples), or RGB/palette images whose
 * pixels are all grey; every page of a multi-page TIFF becomes a slice. Spacing is 1 mm.
 *
 * <p>Writing: 16-bit grey. Without a window each voxel value is rounded to the nearest integer and
 * clipped to [0, 65535], so integer data in that range round-trips exactly; with a
 * {@link Window} [lo, hi] values are mapped linearly so that lo becomes 0 and hi 65535 (clipped
 * outside). PNG holds one slice; TIFF writes one page per slice.
 */
public final class ImageFormat {

    /** Linear value-to-grey mapping: lo maps to 0, hi to 65535. */
    public record Window(double lo, double hi) {
        public Window {
            if (!(hi > lo) || !Double.isFinite(lo) || !Double.isFinite(hi)) {
                throw new IllegalArgumentException("window needs finite lo < hi, got [" + lo + ", " + hi + "]");
            }
        }
    }

    /** Deflate and LZW expand at most a few thousand times; a bigger claim is a corrupt header. */
    private static final long MAX_EXPANSION = 4096;

    private ImageFormat() {}

    static boolean isPng(byte[] h) {
        return h.length >= 8 && (h[0] & 0xff) == 0x89 && h[1] == 'P' && h[2] == 'N' && h[3] == 'G';
    }

    static boolean isTiff(byte[] h) {
        return h.length >= 4 && ((h[0] == 'I' && h[1] == 'I' && h[2] == 42 && h[3] == 0)
                || (h[0] == 'M' && h[1] == 'M' && h[2] == 0 && h[3] == 42));
    }

    private static boolean isJdkReader(ImageReader r) {
        return r.getOriginatingProvider() != null
                && r.getOriginatingProvider().getClass().getModule() == ImageIO.class.getModule();
    }

    /** The JDK's writer for a format when there is one (see isJdkReader), else the first. */
    private static ImageWriter jdkWriter(String format) {
        ImageWriter chosen = null;
        for (Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName(format); it.hasNext();) {
            ImageWriter w = it.next();
            if (chosen == null || w.getOriginatingProvider().getClass().getModule() == ImageIO.class.getModule()) {
                chosen = w;
            }
        }
        return chosen;
    }

    public static Volume read(Path file) throws IOException {
        return read(file, ReadLimits.DEFAULT);
    }

    /**
     * Reads a PNG or TIFF within {@code limits}: the dimensions every page declares are checked
     * before any page is decoded, and a TIFF's page chain is walked first ({@link #tiffPages}).
     */
    public static Volume read(Path file, ReadLimits limits) throws IOException {
        long size = Files.size(file);
        byte[] head;
        try (java.io.InputStream s = Files.newInputStream(file)) {
            head = s.readNBytes(8);
        }
        // the JDK's TIFF reader follows a looping page chain forever, so the chain is checked here first
        int tiffPages = isTiff(head) ? tiffPages(file, Math.min(limits.maxVoxels(), MAX_PAGES)) : -1;
        if (isPng(head)) {
            checkPngChunks(file, size);
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> it = in == null ? null : ImageIO.getImageReaders(in);
            if (it == null || !it.hasNext()) {
                throw new InvalidInputException(file, "not a readable PNG or TIFF image");
            }
            ImageReader reader = it.next();
            while (it.hasNext() && !isJdkReader(reader)) {
                // the JDK's own PNG/TIFF readers, not plugins that codec libraries (io.dicom's
                // jai-imageio) put on the class path, whose behaviour on damaged files differs
                reader.dispose();
                reader = it.next();
            }
            try {
                reader.setInput(in, false, true);
                int pages = tiffPages >= 0 ? tiffPages : reader.getNumImages(true);
                if (pages < 1) {
                    throw new InvalidInputException(file, "image file holds no image");
                }
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w < 1 || h < 1) {
                    throw new InvalidInputException(file, "invalid image size " + w + "x" + h);
                }
                long pixels = (long) w * h * pages;
                limits.checkVoxels(file, pixels, w + "x" + h + "x" + pages);
                if (pixels > MAX_EXPANSION * size) {
                    throw new InvalidInputException(file, "implausible image size " + w + "x" + h + "x" + pages
                            + " for a " + size + "-byte file");
                }
                float[] vox = new float[(int) pixels];
                for (int p = 0; p < pages; p++) {
                    if (reader.getWidth(p) != w || reader.getHeight(p) != h) {
                        throw new InvalidInputException(file, "page " + p + " is " + reader.getWidth(p) + "x"
                                + reader.getHeight(p) + ", page 0 is " + w + "x" + h);
                    }
                    BufferedImage img = reader.read(p);
                    greyInto(img, vox, p * w * h, file);
                }
                return Volume.of(pages, h, w, vox);
            } catch (InvalidInputException e) {
                throw e;
            } catch (java.io.EOFException e) {
                throw new InvalidInputException(file, "truncated image (the data end before the image does)", e);
            } catch (javax.imageio.IIOException e) {
                throw new InvalidInputException(file, "corrupt image (" + e.getMessage() + ")", e);
            } catch (RuntimeException e) {
                // the JDK's decoders report some corrupt data only as runtime exceptions (an LZW-tagged
                // TIFF strip holding raw bytes: NullPointerException); ours are all checked before
                throw new InvalidInputException(file, "corrupt image (" + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
            } finally {
                reader.dispose();
            }
        }
    }

    /**
     * Walks a PNG's chunks up to IEND, checking each one's length against the file and its CRC-32:
     * the JDK's decoder fills the rest of a truncated image with zeros and ignores CRCs, which would
     * turn a damaged file into a silently wrong image.
     */
    static void checkPngChunks(Path file, long size) throws IOException {
        try (java.io.DataInputStream in = new java.io.DataInputStream(
                new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            in.skipNBytes(8);
            long pos = 8;
            byte[] buf = new byte[1 << 16];
            while (true) {
                if (pos + 12 > size) {
                    throw new InvalidInputException(file, "truncated PNG (it ends before its IEND chunk)");
                }
                long len = in.readInt() & 0xffffffffL;
                byte[] type = in.readNBytes(4);
                if (len > size - pos - 12) {
                    throw new InvalidInputException(file, "truncated PNG: chunk " + new String(type, java.nio.charset.StandardCharsets.ISO_8859_1)
                            + " declares " + len + " bytes, the file has " + (size - pos - 12) + " left");
                }
                java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                crc.update(type);
                for (long left = len; left > 0; ) {
                    int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                    if (n < 0) {
                        throw new InvalidInputException(file, "truncated PNG");
                    }
                    crc.update(buf, 0, n);
                    left -= n;
                }
                if ((in.readInt() & 0xffffffffL) != crc.getValue()) {
                    throw new InvalidInputException(file, "PNG chunk " + new String(type, java.nio.charset.StandardCharsets.ISO_8859_1)
                            + " fails its CRC-32 check (the file is corrupt)");
                }
                pos += 12 + len;
                if (type[0] == 'I' && type[1] == 'E' && type[2] == 'N' && type[3] == 'D') {
                    return;
                }
            }
        } catch (java.io.EOFException e) {
            throw new InvalidInputException(file, "truncated PNG", e);
        }
    }

    /** At most this many TIFF pages (slices), whatever the voxel limit. */
    static final int MAX_PAGES = 1 << 16;

    /**
     * The pages of a classic TIFF, counted by walking its chain of image file directories with loop
     * detection and a page limit; the strip and tile byte counts of each page must lie within the
     * file (the JDK's decoder allocates what they claim).
     */
    static int tiffPages(Path file, long maxPages) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
            long size = ch.size();
            java.nio.ByteBuffer h = readAt(file, ch, 0, 8, java.nio.ByteOrder.LITTLE_ENDIAN);
            java.nio.ByteOrder order = h.get(0) == 'M' ? java.nio.ByteOrder.BIG_ENDIAN : java.nio.ByteOrder.LITTLE_ENDIAN;
            h.order(order);
            if (h.getShort(2) == 43) {
                throw new InvalidInputException(file, "BigTIFF is not supported");
            }
            long off = h.getInt(4) & 0xffffffffL;
            java.util.Map<Long, Integer> seen = new java.util.HashMap<>();
            int pages = 0;
            while (off != 0) {
                if (off < 8 || off + 2 > size) {
                    throw new InvalidInputException(file, "TIFF page " + pages + " starts at offset " + off
                            + ", outside the " + size + "-byte file");
                }
                Integer earlier = seen.put(off, pages);
                if (earlier != null) {
                    throw new InvalidInputException(file, "TIFF page chain loops: page " + pages
                            + " is page " + earlier + " again");
                }
                if (pages >= maxPages) {
                    throw new InvalidInputException(file, "TIFF holds more than " + maxPages + " pages");
                }
                int entries = readAt(file, ch, off, 2, order).getShort(0) & 0xffff;
                long next = off + 2 + 12L * entries;
                if (next + 4 > size) {
                    throw new InvalidInputException(file, "truncated TIFF directory of page " + pages);
                }
                java.nio.ByteBuffer dir = readAt(file, ch, off + 2, 12 * entries + 4, order);
                for (int e = 0; e < entries; e++) {
                    int tag = dir.getShort(12 * e) & 0xffff;
                    if (tag == 279 || tag == 325) { // StripByteCounts, TileByteCounts
                        long total = byteCounts(file, ch, dir, 12 * e, order, size);
                        if (total > size) {
                            throw new InvalidInputException(file, "TIFF page " + pages + " declares " + total
                                    + " bytes of image data, more than the " + size + "-byte file holds");
                        }
                    }
                }
                off = dir.getInt(12 * entries) & 0xffffffffL;
                pages++;
            }
            return pages;
        }
    }

    /** The sum of a SHORT or LONG byte-count field's values (stopping once it exceeds the file). */
    private static long byteCounts(Path file, java.nio.channels.FileChannel ch, java.nio.ByteBuffer dir, int at,
            java.nio.ByteOrder order, long size) throws IOException {
        int type = dir.getShort(at + 2) & 0xffff;
        long count = dir.getInt(at + 4) & 0xffffffffL;
        int item = type == 3 ? 2 : type == 4 ? 4 : 0;
        if (item == 0 || count * item > size || count * item > (1 << 26)) {
            return type == 3 || type == 4 ? Long.MAX_VALUE : 0; // other types: the decoder rejects them
        }
        java.nio.ByteBuffer values = count * item <= 4 ? dir.slice(at + 8, 4).order(order)
                : readAt(file, ch, dir.getInt(at + 8) & 0xffffffffL, (int) (count * item), order);
        long total = 0;
        for (int i = 0; i < count && total <= size; i++) {
            total += item == 2 ? values.getShort(2 * i) & 0xffff : values.getInt(4 * i) & 0xffffffffL;
        }
        return total;
    }

    private static java.nio.ByteBuffer readAt(Path file, java.nio.channels.FileChannel ch, long pos, int n,
            java.nio.ByteOrder order) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(n).order(order);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw new InvalidInputException(file, "truncated TIFF (a directory or value lies past the end)");
            }
        }
        return b;
    }

    private static void greyInto(BufferedImage img, float[] out, int off, Path file) throws InvalidInputException {
        int w = img.getWidth();
        int h = img.getHeight();
        Raster r = img.getRaster();
        int bands = r.getNumBands();
        if (img.getColorModel() instanceof IndexColorModel) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = img.getRGB(x, y);
                    int red = rgb >> 16 & 0xff;
                    if (red != (rgb >> 8 & 0xff) || red != (rgb & 0xff)) {
                        throw new InvalidInputException(file, "colour palette image; only greyscale is supported");
                    }
                    out[off + y * w + x] = red;
                }
            }
            return;
        }
        int colour = bands >= 3 ? 3 : 1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double v = r.getSampleDouble(x, y, 0);
                for (int b = 1; b < colour; b++) {
                    if (r.getSampleDouble(x, y, b) != v) {
                        throw new InvalidInputException(file, "colour image; only greyscale is supported");
                    }
                }
                out[off + y * w + x] = (float) v;
            }
        }
    }

    /** Writes with the default mapping (values rounded and clipped to [0, 65535]). */
    public static void write(Path file, Volume v) throws IOException {
        write(file, v, null);
    }

    public static void write(Path file, Volume v, Window window) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean png = name.endsWith(".png");
        if (png && v.depth() != 1) {
            throw new InvalidInputException(file, "PNG holds one slice, the volume has " + v.depth()
                    + "; write .tif for a multi-page image");
        }
        for (float x : v.voxels()) {
            if (Float.isNaN(x)) {
                throw new InvalidInputException(file, "volume contains NaN, which has no grey level");
            }
        }
        List<BufferedImage> pages = new ArrayList<>();
        for (int k = 0; k < v.depth(); k++) {
            BufferedImage img = new BufferedImage(v.width(), v.height(), BufferedImage.TYPE_USHORT_GRAY);
            WritableRaster r = img.getRaster();
            for (int y = 0; y < v.height(); y++) {
                for (int x = 0; x < v.width(); x++) {
                    r.setSample(x, y, 0, grey(v.get(k, y, x), window));
                }
            }
            pages.add(img);
        }
        ImageWriter writer = jdkWriter(png ? "png" : "tiff");
        try {
            AtomicFiles.write(file, out -> {
                try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                    writer.setOutput(ios);
                    if (pages.size() == 1) {
                        writer.write(pages.get(0));
                    } else {
                        writer.prepareWriteSequence(null);
                        for (BufferedImage p : pages) {
                            writer.writeToSequence(new IIOImage(p, null, null), null);
                        }
                        writer.endWriteSequence();
                    }
                }
            });
        } finally {
            writer.dispose();
        }
    }

    /** The 16-bit grey level of a value under the documented mapping. */
    static int grey(double v, Window w) {
        double g = w == null ? v : (v - w.lo()) / (w.hi() - w.lo()) * 65535.0;
        return (int) Math.max(0, Math.min(65535, Math.rint(g)));
    }
}
