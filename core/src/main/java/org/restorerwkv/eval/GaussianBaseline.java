package org.restorerwkv.eval;

import java.io.IOException;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.PairedDataset;
import org.restorerwkv.degrade.GaussianBlur;
import org.restorerwkv.eval.Evaluation;
import org.restorerwkv.eval.MetricAccumulator;

/**
 * The classical baseline a restoration is compared with: each degraded slice smoothed by a Gaussian
 * filter (mirrored borders, as {@code scipy.ndimage.gaussian_filter}), with one sigma per modality
 * chosen to maximize the mean PSNR over the validation split. The filter runs on the same
 * normalized [0,1] slices the network sees, and metrics follow {@link Evaluation#evaluateNormalized},
 * so its numbers compare directly with a model's.
 */
public final class GaussianBaseline {

    /** The default search grid in pixels: 0 (the degraded input itself), then 0.25 to 3 in steps of 0.25. */
    public static final double[] DEFAULT_SIGMAS = {0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3};

    /**
     * The sigma chosen for one modality.
     *
     * @param sigma the chosen sigma in pixels
     * @param sigmas the grid searched, ascending
     * @param meanPsnr mean validation PSNR (dB) per grid sigma; slices with an undefined PSNR are skipped
     * @param slices validation slices of the modality
     */
    public record Choice(Modality modality, double sigma, double[] sigmas, double[] meanPsnr, int slices) {

        /** Mean validation PSNR at the chosen sigma. */
        public double bestPsnr() {
            return meanPsnr[Arrays.binarySearch(sigmas, sigma)];
        }
    }

    private GaussianBaseline() {}

    /** A normalized H x W slice smoothed with a Gaussian of std {@code sigmaPx} pixels; sigma 0 gives a copy. */
    public static float[] filter(float[] slice, int height, int width, double sigmaPx) {
        double[] img = new double[slice.length];
        for (int i = 0; i < img.length; i++) {
            img[i] = slice[i];
        }
        double[] smooth = GaussianBlur.blur(img, height, width, sigmaPx, GaussianBlur.Border.REFLECT);
        float[] out = new float[smooth.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) smooth[i];
        }
        return out;
    }

    /**
     * For each modality of {@code validation}, the grid sigma with the highest mean PSNR of the
     * filtered LQ slices against their HQ slices; ties go to the smaller sigma.
     *
     * @param sigmas candidate sigmas in pixels, each finite and >= 0 (duplicates are ignored)
     * @throws IllegalArgumentException for an empty grid or a negative or non-finite sigma
     */
    public static Map<Modality, Choice> choose(PairedDataset validation, double[] sigmas) throws IOException {
        double[] grid = grid(sigmas);
        Map<Modality, Choice> out = new EnumMap<>(Modality.class);
        for (Modality m : validation.modalities()) {
            List<Integer> slices = validation.slicesOf(m);
            double[] sum = new double[grid.length];
            int[] defined = new int[grid.length];
            for (int i : slices) {
                PairedDataset.SlicePair s = validation.slice(i);
                for (int g = 0; g < grid.length; g++) {
                    double psnr = Evaluation.psnrNormalized(m, filter(s.lq(), s.height(), s.width(), grid[g]), s.hq(),
                            s.height(), s.width(), s.scale());
                    // a constant ground truth has no PSNR; skipped as MetricAccumulator's means skip it
                    if (!Double.isNaN(psnr)) {
                        sum[g] += psnr;
                        defined[g]++;
                    }
                }
            }
            double[] mean = new double[grid.length];
            int best = 0;
            for (int g = 0; g < grid.length; g++) {
                mean[g] = defined[g] == 0 ? Double.NaN : sum[g] / defined[g];
                if (mean[g] > mean[best] || Double.isNaN(mean[best]) && !Double.isNaN(mean[g])) {
                    best = g;
                }
            }
            out.put(m, new Choice(m, grid[best], grid, mean, slices.size()));
        }
        return out;
    }

    /**
     * Metrics of the filtered LQ slices of {@code dataset} against their HQ slices, with the sigma of
     * each slice's modality.
     *
     * @throws IllegalArgumentException if a modality of the dataset has no sigma
     */
    public static MetricAccumulator evaluate(PairedDataset dataset, Map<Modality, Double> sigmaPx) throws IOException {
        for (Modality m : dataset.modalities()) {
            if (!sigmaPx.containsKey(m)) {
                throw new IllegalArgumentException("no Gaussian sigma for " + m + " (no " + m
                        + " slices in the validation split?)");
            }
        }
        MetricAccumulator acc = new MetricAccumulator();
        for (int i = 0; i < dataset.size(); i++) {
            PairedDataset.SlicePair s = dataset.slice(i);
            float[] smooth = filter(s.lq(), s.height(), s.width(), sigmaPx.get(s.modality()));
            acc.add(s.name(), s.modality(), Evaluation.evaluateNormalized(s.modality(), smooth, s.hq(), s.height(), s.width(), s.scale()));
        }
        return acc;
    }

    /** The chosen sigmas by modality. */
    public static Map<Modality, Double> sigmas(Map<Modality, Choice> choices) {
        Map<Modality, Double> out = new EnumMap<>(Modality.class);
        choices.forEach((m, c) -> out.put(m, c.sigma()));
        return out;
    }

    private static double[] grid(double[] sigmas) {
        if (sigmas == null || sigmas.length == 0) {
            throw new IllegalArgumentException("the Gaussian sigma grid is empty");
        }
        for (double s : sigmas) {
            if (!(s >= 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException("Gaussian sigma must be finite and >= 0 px, got " + s);
            }
        }
        return Arrays.stream(sigmas).map(s -> s + 0.0).sorted().distinct().toArray(); // + 0.0: -0 is 0
    }
}
