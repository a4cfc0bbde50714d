package org.restorerwkv.io;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Writes a map of values in [0, 1] as a PNG heat map with the perceptually uniform "inferno"
 * colormap (black-purple-orange-yellow), so equal steps in value look like equal steps in colour.
 */
public final class HeatMapPng {

    /**
     * Inferno at entries 0, 16, ..., 240 and 255 of its 256-entry table (matplotlib's
     * {@code _inferno_data}, by Nathaniel J. Smith and Stefan van der Walt, released CC0);
     * linear interpolation between these 17 anchors departs from the full table by about 2/255 at
     * most (the darkest segment, where the curve bends most).
     */
    private static final float[][] INFERNO = {
        {0.001462f, 0.000466f, 0.013866f},
        {0.042253f, 0.028139f, 0.141141f},
        {0.129285f, 0.047293f, 0.290788f},
        {0.238273f, 0.036621f, 0.396353f},
        {0.341500f, 0.062325f, 0.429425f},
        {0.441207f, 0.099338f, 0.431594f},
        {0.540920f, 0.134729f, 0.415123f},
        {0.640135f, 0.171438f, 0.381065f},
        {0.735683f, 0.215906f, 0.330245f},
        {0.822386f, 0.275197f, 0.266085f},
        {0.894305f, 0.353399f, 0.193584f},
        {0.946965f, 0.449191f, 0.115272f},
        {0.978422f, 0.557937f, 0.034931f},
        {0.987874f, 0.675267f, 0.065257f},
        {0.974638f, 0.797692f, 0.206332f},
        {0.947594f, 0.917399f, 0.410665f},
        {0.988362f, 0.998364f, 0.644924f},
    };

    /** Table positions (0..255) of the anchors. */
    private static final float[] POSITIONS = {0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 255};

    private HeatMapPng() {}

    /** The inferno colour of v in [0, 1] (clamped; NaN shows as 0) as 0xRRGGBB. */
    public static int color(float v) {
        float p = (Float.isNaN(v) ? 0f : Math.min(Math.max(v, 0f), 1f)) * 255f;
        int i = 0;
        while (i < POSITIONS.length - 2 && p > POSITIONS[i + 1]) {
            i++;
        }
        float t = (p - POSITIONS[i]) / (POSITIONS[i + 1] - POSITIONS[i]);
        int rgb = 0;
        for (int c = 0; c < 3; c++) {
            float x = INFERNO[i][c] + t * (INFERNO[i + 1][c] - INFERNO[i][c]);
            rgb = rgb << 8 | Math.round(x * 255f);
        }
        return rgb;
    }

    /** The map (row-major, height x width) as an RGB image, each value a scale x scale block. */
    public static BufferedImage render(float[] unit, int height, int width, int scale) {
        if (height < 1 || width < 1 || unit.length != height * width) {
            throw new IllegalArgumentException("map of " + height + "x" + width + " holds " + unit.length + " values");
        }
        if (scale < 1 || (long) height * scale > 1 << 15 || (long) width * scale > 1 << 15) {
            throw new IllegalArgumentException("scale " + scale + " out of range for a " + height + "x" + width + " map");
        }
        BufferedImage img = new BufferedImage(width * scale, height * scale, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height * scale; y++) {
            for (int x = 0; x < width * scale; x++) {
                img.setRGB(x, y, color(unit[(y / scale) * width + x / scale]));
            }
        }
        return img;
    }

    /** Renders and writes the PNG atomically. */
    public static void write(Path file, float[] unit, int height, int width, int scale) throws IOException {
        BufferedImage img = render(unit, height, width, scale);
        AtomicFiles.write(file, out -> {
            if (!ImageIO.write(img, "png", out)) {
                throw new IOException("no PNG writer in this JVM");
            }
        });
    }
}
