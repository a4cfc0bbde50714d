package org.restorerwkv.domain;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a model's inputs are brought into its modality's fixed normalization range. A model is
 * trained with one policy and must be run with the same one, so the policy is stored with the
 * weights (safetensors metadata {@link #METADATA}; absent means {@link #FIXED}).
 *
 * <p>CT (HU) and PET (SUV) have physical units and always use the fixed ranges. MRI has none: the
 * reference's fixed [0, 4095] suits IXI's scanner, but a T1 template peaks near 250 (6% of that
 * range) and a clinical series near 1000. A network with layer norms cannot scale its residual
 * output with the input's intensity, so the same relative error costs a dim scan far more PSNR.
 * {@link #MRI_PERCENTILE} therefore scales each MRI scan so that the 99.5th percentile of its
 * degraded input sits at {@link #MRI_LEVEL} (a quarter of the range, leaving room for bright
 * outliers), and divides the factor out again after the network. The factor comes from the input
 * alone, so it is available at inference; training pairs use their LQ's factor for both images.
 */
public enum IntensityScaling {
    /** The reference protocol: fixed ranges only. */
    FIXED("fixed"),
    /** MRI scans scaled to put the 99.5th percentile of the input at {@link #MRI_LEVEL}. */
    MRI_PERCENTILE("mri-p99.5");

    /** safetensors metadata key of the policy a model was trained with. */
    public static final String METADATA = "restore_rwkv.intensity_scaling";
    /** Percentile of the input that {@link #MRI_PERCENTILE} maps to {@link #MRI_LEVEL}. */
    public static final double MRI_PERCENTILE_Q = 99.5;
    /** MRI intensity (in the [0, 4095] range) that the percentile is mapped to. */
    public static final double MRI_LEVEL = 1024;
    /** At most this many voxels are sorted for the percentile (an even subsample beyond). */
    private static final int MAX_SAMPLES = 1 << 20;

    private final String id;

    IntensityScaling(String id) {
        this.id = id;
    }

    /** The name used on the command line and in metadata. */
    public String id() {
        return id;
    }

    /**
     * The factor that multiplies a scan's physical intensities before {@link Modality#normalize(float[], double)}:
     * 1 except for MRI under {@link #MRI_PERCENTILE}, where it is {@code MRI_LEVEL / p99.5(input)};
     * 1 when that percentile is not positive (an empty scan).
     *
     * @param input the degraded scan in physical units (never modified)
     */
    public double factor(Modality modality, float[] input) {
        if (this != MRI_PERCENTILE || modality != Modality.MRI || input.length == 0) {
            return 1;
        }
        int step = Math.max(1, (input.length + MAX_SAMPLES - 1) / MAX_SAMPLES);
        float[] sample = new float[(input.length + step - 1) / step];
        for (int i = 0, j = 0; i < input.length; i += step, j++) {
            sample[j] = input[i];
        }
        Arrays.sort(sample);
        double p = sample[(int) Math.min(sample.length - 1, Math.floor(MRI_PERCENTILE_Q / 100 * sample.length))];
        return p > 0 && Double.isFinite(p) ? MRI_LEVEL / p : 1;
    }

    /** Parses an id ("fixed", "mri-p99.5"); null means {@link #FIXED} (weights without the key). */
    public static IntensityScaling parse(String id) {
        if (id == null) {
            return FIXED;
        }
        String s = id.strip().toLowerCase(Locale.ROOT);
        for (IntensityScaling v : values()) {
            if (v.id.equals(s)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown intensity scaling '" + id + "': expected fixed or mri-p99.5");
    }

    @Override
    public String toString() {
        return id;
    }
}
