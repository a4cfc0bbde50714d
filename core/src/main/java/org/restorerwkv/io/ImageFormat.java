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
        long size = Files.size(file);
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
                int pages = reader.getNumImages(true);
                if (pages < 1) {
                    throw new InvalidInputException(file, "image file holds no image");
                }
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                long pixels = (long) w * h * pages;
                if (w < 1 || h < 1 || pixels > Integer.MAX_VALUE - 8 || pixels > MAX_EXPANSION * size) {
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
            } catch (javax.imageio.IIOException | IndexOutOfBoundsException | IllegalArgumentException e) {
                throw new InvalidInputException(file, "corrupt image (" + e.getMessage() + ")");
            } finally {
                reader.dispose();
            }
        }
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
