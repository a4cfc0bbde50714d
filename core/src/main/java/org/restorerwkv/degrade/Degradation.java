package org.restorerwkv.degrade;

/**
 * A simulator that turns one full-quality 2-D slice into its low-quality counterpart, in the same
 * physical units and at the same size.
 *
 * <p>Slices are row-major {@code float[height * width]}. Implementations are immutable and keep no
 * state between calls, so one instance may serve many threads; the result depends only on the
 * slice and the seed (derive per-slice seeds with {@link Seeds#forSlice}).
 */
public interface Degradation {

    /**
     * Degrades one slice. The input array is not modified.
     *
     * @throws IllegalArgumentException if the sizes do not match the array or a value is NaN or
     *     infinite
     */
    float[] apply(float[] slice, int height, int width, long seed);

    /** The task name accepted by {@link Degradations#parse}, e.g. {@code "ct-lowdose"}. */
    String task();

    /** One line naming the task and every parameter with its unit, for logs and dataset metadata. */
    String describe();
}
