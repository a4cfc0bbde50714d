package org.restorerwkv.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeatMapPngTest {

    @TempDir Path dir;

    @Test
    void colormapRunsFromNearBlackToPaleYellowGettingBrighter() {
        assertEquals(0x000004, HeatMapPng.color(0f)); // inferno's first entry
        assertEquals(0xFCFFA4, HeatMapPng.color(1f)); // inferno's last entry
        assertEquals(0xBC3754, HeatMapPng.color(128 / 255f)); // the anchor at entry 128
        assertEquals(HeatMapPng.color(0f), HeatMapPng.color(-3f));
        assertEquals(HeatMapPng.color(1f), HeatMapPng.color(7f));
        double previous = -1;
        for (int i = 0; i <= 100; i++) {
            int c = HeatMapPng.color(i / 100f);
            double luma = 0.2126 * (c >> 16) + 0.7152 * (c >> 8 & 0xff) + 0.0722 * (c & 0xff);
            assertTrue(luma > previous, "luminance must rise, at " + i);
            previous = luma;
        }
    }

    @Test
    void writesAReadablePngWithEachValueAScaledBlock() throws Exception {
        float[] map = {0f, 0.25f, 0.5f, 0.75f, 1f, 0.1f};
        Path png = dir.resolve("sub/map.png");
        HeatMapPng.write(png, map, 2, 3, 4);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(12, img.getWidth());
        assertEquals(8, img.getHeight());
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 12; x++) {
                assertEquals(HeatMapPng.color(map[(y / 4) * 3 + x / 4]), img.getRGB(x, y) & 0xffffff, "pixel " + x + "," + y);
            }
        }
        try (var files = Files.list(png.getParent())) {
            assertEquals(1, files.count(), "no temporary file left");
        }
    }

    @Test
    void wrongSizesAreRejectedAndNothingIsWritten() {
        Path png = dir.resolve("bad.png");
        assertThrows(IllegalArgumentException.class, () -> HeatMapPng.write(png, new float[5], 2, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> HeatMapPng.write(png, new float[6], 2, 3, 0));
        assertFalse(Files.exists(png));
    }
}
