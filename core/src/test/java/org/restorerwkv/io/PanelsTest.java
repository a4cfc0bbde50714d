package org.restorerwkv.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PanelsTest {

    @TempDir Path dir;

    @Test
    void tilesAreWindowedEnlargedAndSeparated() throws Exception {
        // 2 x 3 slice: -10 (below the window), 0, 50, 100, 200 (above), NaN
        float[] a = {-10, 0, 50, 100, 200, Float.NaN};
        float[] b = {1, 1, 1, 1, 1, 1};
        ImageFormat.Window w = new ImageFormat.Window(0, 100);
        Path png = dir.resolve("p.png");
        Panels.write(png, 2, 3, List.of(new Panels.Tile(a, w), new Panels.Tile(b, new ImageFormat.Window(0, 2))));
        BufferedImage img = ImageIO.read(png.toFile());
        int zoom = 128; // 2 rows enlarged to 256
        assertEquals(2 * 3 * zoom + Panels.GAP, img.getWidth());
        assertEquals(2 * zoom, img.getHeight());
        int[] expected = {0, 0, 128, 255, 255, 0};
        for (int i = 0; i < 6; i++) {
            int y = (i / 3) * zoom + zoom / 2;
            int x = (i % 3) * zoom + zoom / 2;
            assertEquals(expected[i], img.getRaster().getSample(x, y, 0), "pixel " + i);
        }
        assertEquals(255, img.getRaster().getSample(3 * zoom, 5, 0)); // the gap
        assertEquals(128, img.getRaster().getSample(3 * zoom + Panels.GAP + 7, 5, 0)); // second tile, 1 on [0, 2]
        assertThrows(IllegalArgumentException.class, () -> Panels.render(2, 2, List.of(new Panels.Tile(a, w))));
        assertThrows(IllegalArgumentException.class, () -> Panels.render(2, 3, List.of()));
    }

    @Test
    void heatTilesAreColouredAndLabelsSitInAStripAbove() {
        float[] a = {0, 50, 100, 150};
        ImageFormat.Window w = new ImageFormat.Window(0, 100);
        BufferedImage img = Panels.render(2, 2, List.of(new Panels.Tile(a, w).labelled("ab|1.5"), Panels.Tile.heat(a, w)));
        int zoom = 128;
        int top = Panels.LABEL_HEIGHT;
        assertEquals(2 * 2 * zoom + Panels.GAP, img.getWidth());
        assertEquals(top + 2 * zoom, img.getHeight());
        int x1 = 2 * zoom + Panels.GAP; // second tile
        float[] unit = {0f, 0.5f, 1f, 1.5f};
        for (int i = 0; i < 4; i++) {
            int y = top + (i / 2) * zoom + 5;
            int x = (i % 2) * zoom + 5;
            int g = Panels.grey(a[i], w);
            assertEquals(g << 16 | g << 8 | g, img.getRGB(x, y) & 0xFFFFFF, "grey pixel " + i);
            assertEquals(HeatMapPng.color(unit[i]), img.getRGB(x1 + x, y) & 0xFFFFFF, "heat pixel " + i);
        }
        // the label: black font pixels inside the strip over the first tile only, white elsewhere
        int black = 0;
        for (int y = 0; y < top; y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xFFFFFF;
                assertTrue(rgb == 0 || rgb == 0xFFFFFF, "strip pixel " + x + "," + y);
                if (rgb == 0) {
                    black++;
                    assertTrue(x < 4 + BitmapFont.width("ab|1.5", Panels.LABEL_SCALE), "x " + x);
                }
            }
        }
        // 'A' 18 + 'B' 20 + '|' 7 + '1' 10 + '.' 4 + '5' 17 font pixels, each LABEL_SCALE^2 image pixels
        assertEquals((18 + 20 + 7 + 10 + 4 + 17) * Panels.LABEL_SCALE * Panels.LABEL_SCALE, black);
        // without labels or heat tiles the picture stays 8-bit grey
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, Panels.render(2, 2, List.of(new Panels.Tile(a, w))).getType());
    }

    @Test
    void quantileAndDifference() {
        float[] v = {5, 1, 4, 2, 3, Float.NaN};
        assertEquals(1, Panels.quantile(v, 0), 0);
        assertEquals(3, Panels.quantile(v, 0.5), 0);
        assertEquals(5, Panels.quantile(v, 1), 0);
        assertEquals(0, Panels.quantile(new float[0], 0.5), 0);
        assertArrayEquals(new float[] {1, 2}, Panels.absDifference(new float[] {1, 0}, new float[] {2, 2}));
    }
}
