package org.restorerwkv.domain;

import java.util.Locale;

/**
 * The imaging modality of a slice, and the only home of its constants (REFERENCE.md, "Data and
 * evaluation protocol").
 *
 * <ul>
 *   <li>Normalization range: intensities are clipped to it and scaled to [0,1] before the network;
 *       outputs are mapped back and clipped to it. CT [-1024, 3072] HU, MRI [0, 4095], PET [0, 20]
 *       SUV.
 *   <li>Truncation window: both prediction and ground truth are clipped to it before metrics. CT
 *       [-160, 240] HU (abdomen window), MRI [0, 4095], PET [0, 20] SUV.
 * </ul>
 *
 * <p>{@link #NONE} is for images of no known modality that are already in [0,1]-like units: its
 * normalization is the identity (no clipping, no scaling) and its window is unbounded, so metrics
 * are computed on the values as given. It has no dataset folder.
 */
public enum Modality {
    CT(-1024, 3072, -160, 240, "HU", "CT"),
    MRI(0, 4095, 0, 4095, "intensity", "MRI"),
    PET(0, 20, 0, 20, "SUV", "PET"),
    NONE(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, "", null);

    private final double normLow;
    private final double normHigh;
    private final double windowLow;
    private final double windowHigh;
    private final String units;
    private final String folder;

    Modality(double normLow, double normHigh, double windowLow, double windowHigh, String units, String folder) {
        this.normLow = normLow;
        this.normHigh = normHigh;
        this.windowLow = windowLow;
        this.windowHigh = windowHigh;
        this.units = units;
        this.folder = folder;
    }

    /** Lower end of the normalization range in physical units (-Infinity for NONE). */
    public double normLow() {
        return normLow;
    }

    /** Upper end of the normalization range in physical units (+Infinity for NONE). */
    public double normHigh() {
        return normHigh;
    }

    /** Lower end of the test-time truncation window (-Infinity for NONE: no truncation). */
    public double windowLow() {
        return windowLow;
    }

    /** Upper end of the test-time truncation window (+Infinity for NONE: no truncation). */
    public double windowHigh() {
        return windowHigh;
    }

    /** Physical units of the intensities ("HU", "intensity", "SUV"; empty for NONE). */
    public String units() {
        return units;
    }

    /** Whether normalize/denormalize are the identity (NONE only). */
    public boolean isIdentity() {
        return this == NONE;
    }

    /** Folder of this modality in the dataset layout (CT, MRI, PET). */
    public String folderName() {
        if (folder == null) {
            throw new IllegalStateException("modality NONE has no dataset folder");
        }
        return folder;
    }

    /**
     * Physical units to [0,1]: clip to the normalization range, then scale. Returns a new array;
     * the input is not modified. NONE returns a copy unchanged.
     *
     * @throws IllegalArgumentException if a value is NaN
     */
    public float[] normalize(float[] physical) {
        return normalize(physical, 1);
    }

    /**
     * As {@link #normalize(float[])} after multiplying by {@code factor} (the scan's
     * {@link IntensityScaling#factor}; 1 is the fixed range). NONE ignores the factor.
     */
    public float[] normalize(float[] physical, double factor) {
        requireNoNaN(physical, "normalize");
        float[] out = new float[physical.length];
        if (isIdentity()) {
            System.arraycopy(physical, 0, out, 0, physical.length);
            return out;
        }
        double span = normHigh - normLow;
        for (int i = 0; i < out.length; i++) {
            double x = Math.min(Math.max(physical[i] * factor, normLow), normHigh);
            out[i] = (float) ((x - normLow) / span);
        }
        return out;
    }

    /**
     * [0,1] back to physical units: scale, then clip to the normalization range (network outputs may
     * leave [0,1]). Returns a new array; the input is not modified. NONE returns a copy unchanged.
     *
     * @throws IllegalArgumentException if a value is NaN
     */
    public float[] denormalize(float[] normalized) {
        return denormalize(normalized, 1);
    }

    /** The inverse of {@link #normalize(float[], double)}: as {@link #denormalize(float[])}, then divided by {@code factor}. */
    public float[] denormalize(float[] normalized, double factor) {
        requireNoNaN(normalized, "denormalize");
        float[] out = new float[normalized.length];
        if (isIdentity()) {
            System.arraycopy(normalized, 0, out, 0, normalized.length);
            return out;
        }
        double span = normHigh - normLow;
        for (int i = 0; i < out.length; i++) {
            double x = normalized[i] * span + normLow;
            out[i] = (float) (Math.min(Math.max(x, normLow), normHigh) / factor);
        }
        return out;
    }

    /**
     * Clips physical values to the truncation window, as the reference does to prediction and
     * ground truth before computing metrics. Returns a new array; NONE returns a copy unchanged.
     *
     * @throws IllegalArgumentException if a value is NaN
     */
    public float[] truncate(float[] physical) {
        requireNoNaN(physical, "truncate");
        float[] out = new float[physical.length];
        for (int i = 0; i < out.length; i++) {
            // windowLow/High are small integers, exactly representable as float
            out[i] = (float) Math.min(Math.max(physical[i], windowLow), windowHigh);
        }
        return out;
    }

    /**
     * Parses a modality name, case-insensitively, ignoring surrounding blanks: ct, mri, pet or none.
     *
     * @throws IllegalArgumentException naming the bad value and the accepted ones
     */
    public static Modality parse(String name) {
        if (name != null) {
            switch (name.strip().toLowerCase(Locale.ROOT)) {
                case "ct":
                    return CT;
                case "mri":
                    return MRI;
                case "pet":
                    return PET;
                case "none":
                    return NONE;
                default:
                    break;
            }
        }
        throw new IllegalArgumentException(
                "unknown modality " + (name == null ? "null" : "'" + name + "'") + ": expected one of ct, mri, pet, none");
    }

    private void requireNoNaN(float[] values, String op) {
        for (int i = 0; i < values.length; i++) {
            if (Float.isNaN(values[i])) {
                throw new IllegalArgumentException(name() + " " + op + ": NaN at index " + i);
            }
        }
    }
}
