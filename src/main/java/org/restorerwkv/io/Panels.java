package org.restorerwkv.io;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Side-by-side pictures of slices for documentation: each tile is one slice mapped through its own
 * {@link ImageFormat.Window} to 8-bit grey (lo black, hi white, clipped outside), tiles left to
 * right separated by a white gap, enlarged by pixel replication so that small slices stay visible.
 */
public final class Panels {

    /** One slice and the window it is shown with. */
    public record Tile(float[] pixels, ImageFormat.Window window) {}

    /** Gap between tiles, in output pixels. */
    static final int GAP = 4;

    /** Slices are enlarged by an integer factor until they are at least this tall. */
    static final int MIN_HEIGHT = 256;

    private Panels() {}

    /** The panel as an 8-bit grey image. All tiles are height x width. */
    public static BufferedImage render(int height, int width, List<Tile> tiles) {
        if (tiles.isEmpty()) {
            throw new IllegalArgumentException("a panel needs at least one slice");
        }
        for (Tile t : tiles) {
            if (t.pixels().length != (long) height * width) {
                throw new IllegalArgumentException("panel slice has " + t.pixels().length + " values, expected "
                        + height + "x" + width);
            }
        }
        int zoom = Math.max(1, (MIN_HEIGHT + height - 1) / height);
        int tw = width * zoom;
        int th = height * zoom;
        BufferedImage img = new BufferedImage(tiles.size() * tw + (tiles.size() - 1) * GAP, th,
                BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = img.getRaster();
        for (int x = 0; x < img.getWidth(); x++) {
            for (int y = 0; y < th; y++) {
                r.setSample(x, y, 0, 255); // the gaps
            }
        }
        for (int t = 0; t < tiles.size(); t++) {
            float[] px = tiles.get(t).pixels();
            ImageFormat.Window w = tiles.get(t).window();
            int x0 = t * (tw + GAP);
            for (int y = 0; y < th; y++) {
                for (int x = 0; x < tw; x++) {
                    r.setSample(x0 + x, y, 0, grey(px[(y / zoom) * width + x / zoom], w));
                }
            }
        }
        return img;
    }

    /** Renders and writes a PNG atomically. */
    public static void write(Path png, int height, int width, List<Tile> tiles) throws IOException {
        BufferedImage img = render(height, width, tiles);
        AtomicFiles.write(png, out -> {
            if (!ImageIO.write(img, "png", out)) {
                throw new IOException("no PNG writer available");
            }
        });
    }

    /** 8-bit grey level of v: lo -> 0, hi -> 255, linear, clipped; NaN is black. */
    static int grey(double v, ImageFormat.Window w) {
        if (Double.isNaN(v)) {
            return 0;
        }
        double g = (v - w.lo()) / (w.hi() - w.lo()) * 255.0;
        return (int) Math.max(0, Math.min(255, Math.rint(g)));
    }

    /** The q-quantile (0..1) of the values, nearest rank; NaN ignored, 0 for no values. */
    public static double quantile(float[] values, double q) {
        float[] s = Arrays.copyOf(values, values.length);
        Arrays.sort(s); // NaN sorts last
        int n = s.length;
        while (n > 0 && Float.isNaN(s[n - 1])) {
            n--;
        }
        if (n == 0) {
            return 0;
        }
        int idx = (int) Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
        return s[idx];
    }

    /** |a - b| per pixel. */
    public static float[] absDifference(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("slices of " + a.length + " and " + b.length + " values");
        }
        float[] d = new float[a.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = Math.abs(a[i] - b[i]);
        }
        return d;
    }
}
