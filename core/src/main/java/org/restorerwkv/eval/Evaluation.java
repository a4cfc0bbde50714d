package org.restorerwkv.eval;

import java.util.Arrays;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.HostTensor;

/**
 * The reference's test-time protocol for one slice in physical units: clip prediction and ground
 * truth to the modality's truncation window, take data_range = max - min of the truncated ground
 * truth, then PSNR / SSIM / RMSE on the truncated pair (make_metric_golden.py).
 *
 * <p>A constant truncated ground truth (data_range 0) gives PSNR and SSIM NaN (undefined), see
 * {@link ImageMetrics}. A NaN anywhere is an IllegalArgumentException; infinite values are clipped by
 * the window (for {@link Modality#NONE}, which has no window, they are rejected).
 */
public final class Evaluation {

    private Evaluation() {}

    /** Metrics of an H x W prediction against its ground truth, both in physical units. */
    public static SliceMetrics evaluate(Modality modality, float[] prediction, float[] groundTruth, int height, int width) {
        if (prediction == null || groundTruth == null) {
            throw new IllegalArgumentException("prediction and ground truth must not be null");
        }
        requireNoNaN(prediction, width, "prediction");
        requireNoNaN(groundTruth, width, "ground truth");
        float[] p = modality.truncate(prediction);
        float[] t = modality.truncate(groundTruth);
        return ImageMetrics.measure(p, t, height, width, range(t));
    }

    /**
     * Same, for tensors of shape (H, W), (1, H, W) or (1, 1, H, W); both shapes must be equal.
     */
    public static SliceMetrics evaluate(Modality modality, HostTensor prediction, HostTensor groundTruth) {
        if (!Arrays.equals(prediction.shape(), groundTruth.shape())) {
            throw new IllegalArgumentException("prediction shape " + prediction.shapeString()
                    + " differs from ground truth shape " + groundTruth.shapeString());
        }
        int[] hw = sliceSize(prediction.shape());
        return evaluate(modality, prediction.data(), groundTruth.data(), hw[0], hw[1]);
    }

    /**
     * Metrics of a network output and target both in normalized [0,1] units: each is mapped back to
     * physical units (and clipped to the normalization range) by {@link Modality#denormalize}, then
     * evaluated as {@link #evaluate(Modality, float[], float[], int, int)}.
     */
    public static SliceMetrics evaluateNormalized(Modality modality, float[] prediction, float[] groundTruth,
            int height, int width) {
        return evaluateNormalized(modality, prediction, groundTruth, height, width, 1);
    }

    /** As above for a scan normalized with intensity factor {@code scale} ({@link Modality#normalize(float[], double)}). */
    public static SliceMetrics evaluateNormalized(Modality modality, float[] prediction, float[] groundTruth,
            int height, int width, double scale) {
        if (prediction == null || groundTruth == null) {
            throw new IllegalArgumentException("prediction and ground truth must not be null");
        }
        requireNoNaN(prediction, width, "prediction");
        requireNoNaN(groundTruth, width, "ground truth");
        return evaluate(modality, modality.denormalize(prediction, scale), modality.denormalize(groundTruth, scale),
                height, width);
    }

    /**
     * PSNR alone of {@link #evaluateNormalized}: same denormalization, window and data_range, without
     * the cost of SSIM (for searches that rank many candidates by PSNR).
     */
    public static double psnrNormalized(Modality modality, float[] prediction, float[] groundTruth, int height, int width) {
        return psnrNormalized(modality, prediction, groundTruth, height, width, 1);
    }

    /** As above for a scan normalized with intensity factor {@code scale}. */
    public static double psnrNormalized(Modality modality, float[] prediction, float[] groundTruth, int height, int width,
            double scale) {
        if (prediction == null || groundTruth == null) {
            throw new IllegalArgumentException("prediction and ground truth must not be null");
        }
        requireNoNaN(prediction, width, "prediction");
        requireNoNaN(groundTruth, width, "ground truth");
        float[] p = modality.truncate(modality.denormalize(prediction, scale));
        float[] t = modality.truncate(modality.denormalize(groundTruth, scale));
        return ImageMetrics.psnr(p, t, height, width, range(t));
    }

    /** data_range of a ground truth slice in physical units: max - min after truncation. */
    public static double dataRange(Modality modality, float[] groundTruth) {
        requireNoNaN(groundTruth, Math.max(1, groundTruth.length), "ground truth");
        return range(modality.truncate(groundTruth));
    }

    private static double range(float[] t) {
        if (t.length == 0) {
            return 0;
        }
        float lo = t[0];
        float hi = t[0];
        for (float v : t) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        return (double) hi - lo;
    }

    private static int[] sliceSize(long[] shape) {
        if (shape.length < 2 || shape.length > 4) {
            throw new IllegalArgumentException("expected a slice of shape (H, W), (1, H, W) or (1, 1, H, W), got "
                    + Arrays.toString(shape));
        }
        for (int i = 0; i < shape.length - 2; i++) {
            if (shape[i] != 1) {
                throw new IllegalArgumentException("expected a single slice, got shape " + Arrays.toString(shape));
            }
        }
        long h = shape[shape.length - 2];
        long w = shape[shape.length - 1];
        if (h <= 0 || w <= 0 || h > Integer.MAX_VALUE || w > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bad slice size in shape " + Arrays.toString(shape));
        }
        return new int[] {(int) h, (int) w};
    }

    private static void requireNoNaN(float[] values, int width, String what) {
        int w = Math.max(1, width);
        for (int i = 0; i < values.length; i++) {
            if (Float.isNaN(values[i])) {
                throw new IllegalArgumentException(what + " contains NaN at row " + i / w + ", column " + i % w);
            }
        }
    }
}
