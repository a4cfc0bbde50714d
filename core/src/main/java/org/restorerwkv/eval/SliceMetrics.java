package org.restorerwkv.eval;

/**
 * Quality of one predicted slice against its ground truth, as the reference evaluates it.
 *
 * @param psnr peak signal-to-noise ratio in dB, 10 log10(data_range^2 / MSE); +Infinity when the
 *     images are identical (MSE 0); NaN (undefined) when data_range is 0
 * @param ssim mean structural similarity; NaN (undefined) when data_range is 0
 * @param rmse root mean squared error in the images' units; always defined
 */
public record SliceMetrics(double psnr, double ssim, double rmse) {}
