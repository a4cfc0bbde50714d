package org.restorerwkv.infer;

import java.util.Locale;

/**
 * How a {@link Restorer} runs slices of one size: {@code slicesPerPass} slices per network pass,
 * whole ({@code tile == 0}) or in {@code tile x tile} tiles overlapping by {@code overlap}, and the
 * estimated peak memory of one pass ({@link MemoryEstimate}) against the budget.
 */
public record TilingPlan(int slicesPerPass, int tile, int overlap, long estimatedBytes, long budgetBytes) {

    /** Whether slices are cut into tiles (which limits the receptive field to a tile). */
    public boolean tiled() {
        return tile > 0;
    }

    /** One line for a user, e.g. why slices are tiled. */
    public String describe(int h, int w) {
        String mem = String.format(Locale.ROOT, "estimated peak %d MB of a %d MB budget", estimatedBytes >> 20, budgetBytes >> 20);
        return tiled()
                ? String.format(Locale.ROOT, "%d x %d slices restored in %d x %d tiles (overlap %d): %s", h, w,
                        Math.min(tile, h), Math.min(tile, w), overlap, mem)
                : String.format(Locale.ROOT, "%d x %d slices restored whole, %d per pass: %s", h, w, slicesPerPass, mem);
    }
}
