package org.restorerwkv.io;

import java.awt.image.BufferedImage;
import java.util.Locale;
import java.util.Map;

/**
 * A 5 x 7 pixel font (upper case, digits, a little punctuation) for labels on pictures. Built in,
 * not AWT's text rendering, because headless JVMs without system fonts cannot draw text, and so
 * the pixels are the same on every machine.
 */
final class BitmapFont {

    /** Glyph size in font pixels; characters advance by WIDTH + 1. */
    public static final int WIDTH = 5;
    public static final int HEIGHT = 7;

    /** Each glyph: 7 rows, top first, 5 bits each (bit 4 = left column), as hex pairs. */
    private static final Map<Character, String> GLYPHS = Map.ofEntries(
            Map.entry('A', "0E1111 1F1111 11"), Map.entry('B', "1E1111 1E1111 1E"), Map.entry('C', "0E1110 101011 0E"),
            Map.entry('D', "1C1211 111112 1C"), Map.entry('E', "1F1010 1E1010 1F"), Map.entry('F', "1F1010 1E1010 10"),
            Map.entry('G', "0E1110 171111 0F"), Map.entry('H', "111111 1F1111 11"), Map.entry('I', "0E0404 040404 0E"),
            Map.entry('J', "070202 020212 0C"), Map.entry('K', "111214 181412 11"), Map.entry('L', "101010 101010 1F"),
            Map.entry('M', "111B15 151111 11"), Map.entry('N', "111119 151311 11"), Map.entry('O', "0E1111 111111 0E"),
            Map.entry('P', "1E1111 1E1010 10"), Map.entry('Q', "0E1111 111512 0D"), Map.entry('R', "1E1111 1E1412 11"),
            Map.entry('S', "0F1010 0E0101 1E"), Map.entry('T', "1F0404 040404 04"), Map.entry('U', "111111 111111 0E"),
            Map.entry('V', "111111 11110A 04"), Map.entry('W', "111111 151515 0A"), Map.entry('X', "11110A 040A11 11"),
            Map.entry('Y', "111111 0A0404 04"), Map.entry('Z', "1F0102 040810 1F"),
            Map.entry('0', "0E1113 151911 0E"), Map.entry('1', "040C04 040404 0E"), Map.entry('2', "0E1101 020408 1F"),
            Map.entry('3', "1F0204 020111 0E"), Map.entry('4', "02060A 121F02 02"), Map.entry('5', "1F101E 010111 0E"),
            Map.entry('6', "060810 1E1111 0E"), Map.entry('7', "1F0102 040808 08"), Map.entry('8', "0E1111 0E1111 0E"),
            Map.entry('9', "0E1111 0F0102 0C"),
            Map.entry(' ', "000000 000000 00"), Map.entry('|', "040404 040404 04"), Map.entry('.', "000000 00000C 0C"),
            Map.entry('-', "000000 1F0000 00"), Map.entry(':', "000C0C 000C0C 00"), Map.entry(',', "000000 000C04 08"),
            Map.entry('/', "000102 040810 00"), Map.entry('(', "020408 080804 02"), Map.entry(')', "080402 020204 08"),
            Map.entry('[', "0E0808 080808 0E"), Map.entry(']', "0E0202 020202 0E"), Map.entry('=', "00001F 001F00 00"),
            Map.entry('+', "000404 1F0404 00"), Map.entry('%', "181902 040813 03"), Map.entry('?', "0E1101 020400 04"));

    private BitmapFont() {}

    /** Width in image pixels of {@code text} drawn at {@code scale}. */
    public static int width(String text, int scale) {
        return text.isEmpty() ? 0 : (text.length() * (WIDTH + 1) - 1) * scale;
    }

    /**
     * Draws {@code text} (lower case shown as upper case, other unknown characters as '?') with its
     * top-left corner at (x, y), each font pixel a scale x scale block of colour {@code rgb};
     * pixels outside the image are skipped.
     */
    public static void draw(BufferedImage img, String text, int x, int y, int scale, int rgb) {
        String t = text.toUpperCase(Locale.ROOT);
        for (int i = 0; i < t.length(); i++) {
            String g = GLYPHS.getOrDefault(t.charAt(i), GLYPHS.get('?')).replace(" ", "");
            int x0 = x + i * (WIDTH + 1) * scale;
            for (int row = 0; row < HEIGHT; row++) {
                int bits = Integer.parseInt(g.substring(2 * row, 2 * row + 2), 16);
                for (int col = 0; col < WIDTH; col++) {
                    if ((bits >> (WIDTH - 1 - col) & 1) != 0) {
                        fill(img, x0 + col * scale, y + row * scale, scale, rgb);
                    }
                }
            }
        }
    }

    private static void fill(BufferedImage img, int x, int y, int scale, int rgb) {
        for (int dy = 0; dy < scale; dy++) {
            for (int dx = 0; dx < scale; dx++) {
                int px = x + dx;
                int py = y + dy;
                if (px >= 0 && py >= 0 && px < img.getWidth() && py < img.getHeight()) {
                    img.setRGB(px, py, rgb);
                }
            }
        }
    }
}
