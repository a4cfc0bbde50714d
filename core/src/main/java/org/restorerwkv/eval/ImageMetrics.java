package org.restorerwkv.eval;

/**
 * PSNR, SSIM and RMSE of a prediction against a ground truth, both H x W row-major float slices,
 * as the reference's {@code measure(pred, target, data_range)}; sums in double.
 *
 * <p>Definitions for the edge cases: identical images (MSE 0) give PSNR = +Infinity; data_range 0
 * (a constant ground truth) makes PSNR and SSIM undefined, reported as NaN, while RMSE is still
 * given. Non-finite input values, a negative or non-finite data_range and mismatched sizes are
 * rejected with IllegalArgumentException. Inputs are never modified.
 */
final class ImageMetrics {

    private ImageMetrics() {}

    /** PSNR, SSIM and RMSE together, validating the inputs once. */
    public static SliceMetrics measure(float[] prediction, float[] target, int height, int width, double dataRange) {
        check(prediction, target, height, width, dataRange);
        double mse = mseUnchecked(prediction, target);
        return new SliceMetrics(psnrOf(mse, dataRange),
                dataRange == 0 ? Double.NaN : Ssim.compute(prediction, target, height, width, dataRange),
                Math.sqrt(mse));
    }

    /** Mean squared error. */
    public static double mse(float[] prediction, float[] target, int height, int width) {
        check(prediction, target, height, width, 0);
        return mseUnchecked(prediction, target);
    }

    /** Root mean squared error, in the images' units. */
    public static double rmse(float[] prediction, float[] target, int height, int width) {
        return Math.sqrt(mse(prediction, target, height, width));
    }

    /** 10 log10(data_range^2 / MSE) in dB; +Infinity for identical images, NaN when data_range is 0. */
    public static double psnr(float[] prediction, float[] target, int height, int width, double dataRange) {
        check(prediction, target, height, width, dataRange);
        return psnrOf(mseUnchecked(prediction, target), dataRange);
    }

    /** Mean SSIM (see {@link Ssim}); NaN when data_range is 0. */
    public static double ssim(float[] prediction, float[] target, int height, int width, double dataRange) {
        check(prediction, target, height, width, dataRange);
        return dataRange == 0 ? Double.NaN : Ssim.compute(prediction, target, height, width, dataRange);
    }

    private static double psnrOf(double mse, double dataRange) {
        if (dataRange == 0) {
            return Double.NaN;
        }
        if (mse == 0) {
            return Double.POSITIVE_INFINITY;
        }
        return 10 * Math.log10(dataRange * dataRange / mse);
    }

    private static double mseUnchecked(float[] p, float[] t) {
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            double d = (double) p[i] - t[i];
            sum += d * d;
        }
        return sum / p.length;
    }

    static void check(float[] prediction, float[] target, int height, int width, double dataRange) {
        if (prediction == null || target == null) {
            throw new IllegalArgumentException("prediction and ground truth must not be null");
        }
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("slice size must be positive, got " + height + "x" + width);
        }
        long n = (long) height * width;
        if (prediction.length != n || target.length != n) {
            throw new IllegalArgumentException("slice " + height + "x" + width + " holds " + n
                    + " values, but prediction has " + prediction.length + " and ground truth " + target.length);
        }
        if (!(dataRange >= 0) || Double.isInfinite(dataRange)) {
            throw new IllegalArgumentException("data_range must be finite and >= 0, got " + dataRange);
        }
        requireFinite(prediction, width, "prediction");
        requireFinite(target, width, "ground truth");
    }

    /** Throws naming the first NaN or infinite value by row and column. */
    static void requireFinite(float[] values, int width, String what) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new IllegalArgumentException(what + " contains " + (Float.isNaN(values[i]) ? "NaN" : "an infinite value")
                        + " at row " + i / width + ", column " + i % width);
            }
        }
    }
}
