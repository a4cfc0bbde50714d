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
 * {@link ImageFormat.Window} to 8-bit grey (lo black, hi white, clipped outside), or to the
 * {@link HeatMapPng} colours for a heat tile, tiles left to right separated by a white gap,
 * enlarged by pixel replication so that small slices stay visible. Tiles may carry a label, drawn
 * above them with {@link BitmapFont}. Without heat tiles or labels the picture is 8-bit grey.
 */
public final class Panels {

    /** One slice, the window it is shown with, whether in heat-map colours, and its label (or null). */
    public record Tile(float[] pixels, ImageFormat.Window window, boolean heat, String label) {

        /** A grey tile without a label. */
        public Tile(float[] pixels, ImageFormat.Window window) {
            this(pixels, window, false, null);
        }

        /** A heat-map tile (values mapped to [0, 1] by the window, then coloured). */
        public static Tile heat(float[] pixels, ImageFormat.Window window) {
            return new Tile(pixels, window, true, null);
        }

        /** This tile with a label above it. */
        public Tile labelled(String text) {
            return new Tile(pixels, window, heat, text);
        }
    }

    /** Scale of the label font, and the height of the label strip, in output pixels. */
    static final int LABEL_SCALE = 2;
    static final int LABEL_HEIGHT = BitmapFont.HEIGHT * LABEL_SCALE + 10;

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
        boolean labels = tiles.stream().anyMatch(t -> t.label() != null);
        boolean colour = labels || tiles.stream().anyMatch(Tile::heat);
        int top = labels ? LABEL_HEIGHT : 0;
        BufferedImage img = new BufferedImage(tiles.size() * tw + (tiles.size() - 1) * GAP, top + th,
                colour ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = img.getRaster();
        for (int x = 0; x < img.getWidth(); x++) {
            for (int y = 0; y < img.getHeight(); y++) {
                for (int b = 0; b < r.getNumBands(); b++) {
                    r.setSample(x, y, b, 255); // the gaps and the label strip
                }
            }
        }
        for (int t = 0; t < tiles.size(); t++) {
            Tile tile = tiles.get(t);
            float[] px = tile.pixels();
            ImageFormat.Window w = tile.window();
            int x0 = t * (tw + GAP);
            for (int y = 0; y < th; y++) {
                for (int x = 0; x < tw; x++) {
                    float v = px[(y / zoom) * width + x / zoom];
                    if (tile.heat()) {
                        img.setRGB(x0 + x, top + y, HeatMapPng.color((float) ((v - w.lo()) / (w.hi() - w.lo()))));
                    } else if (colour) {
                        int g = grey(v, w);
                        img.setRGB(x0 + x, top + y, g << 16 | g << 8 | g);
                    } else {
                        r.setSample(x0 + x, top + y, 0, grey(v, w));
                    }
                }
            }
            if (tile.label() != null) {
                // cut to the tile's width so that a long label does not run into the next tile
                int chars = Math.max(0, (tw - 4 + LABEL_SCALE) / ((BitmapFont.WIDTH + 1) * LABEL_SCALE));
                String text = tile.label().length() > chars ? tile.label().substring(0, chars) : tile.label();
                BitmapFont.draw(img, text, x0 + 4, (LABEL_HEIGHT - BitmapFont.HEIGHT * LABEL_SCALE) / 2,
                        LABEL_SCALE, 0x000000);
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
