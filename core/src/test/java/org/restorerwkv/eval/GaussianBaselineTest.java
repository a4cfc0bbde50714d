package org.restorerwkv.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.NpySliceSource;
import org.restorerwkv.data.PairedDataset;
import org.restorerwkv.data.Split;
import org.restorerwkv.data.TinyDatasets;
import org.restorerwkv.eval.Evaluation;
import org.restorerwkv.eval.MetricAccumulator;
import org.restorerwkv.eval.SplitEvaluator;

class GaussianBaselineTest {

    @TempDir
    Path tmp;

    private PairedDataset dataset(Split split, Modality... mods) throws Exception {
        return new PairedDataset(tmp, split, List.of(mods), new NpySliceSource(), 1 << 20);
    }

    /** Mean PSNR of the filtered LQ over a modality's slices, through the full evaluation protocol. */
    private static double meanPsnr(PairedDataset ds, Modality m, double sigma) throws Exception {
        double sum = 0;
        for (int i : ds.slicesOf(m)) {
            PairedDataset.SlicePair s = ds.slice(i);
            float[] smooth = GaussianBaseline.filter(s.lq(), s.height(), s.width(), sigma);
            sum += Evaluation.evaluateNormalized(m, smooth, s.hq(), s.height(), s.width()).psnr();
        }
        return sum / ds.slicesOf(m).size();
    }

    @Test
    void noiseIsSmoothedWithTheSigmaBestOnValidation() throws Exception {
        TinyDatasets.writeNoisy(tmp, Modality.PET, "validation", 2, 2, 32, 24, 0.06, 1);
        TinyDatasets.writeNoisy(tmp, Modality.PET, "test", 2, 1, 28, 32, 0.06, 2);
        PairedDataset val = dataset(Split.VALIDATION, Modality.PET);
        GaussianBaseline.Choice c = GaussianBaseline.choose(val, GaussianBaseline.DEFAULT_SIGMAS).get(Modality.PET);
        assertEquals(4, c.slices());
        assertTrue(c.sigma() > 0, "sigma " + c.sigma());
        // the reported means are the protocol's, and the chosen one is the largest of the grid
        for (int g = 0; g < c.sigmas().length; g++) {
            double direct = meanPsnr(val, Modality.PET, c.sigmas()[g]);
            assertEquals(direct, c.meanPsnr()[g], 1e-9, "sigma " + c.sigmas()[g]);
            assertTrue(direct <= c.bestPsnr(), "sigma " + c.sigmas()[g] + " beats the chosen " + c.sigma());
        }
        PairedDataset test = dataset(Split.TEST, Modality.PET);
        MetricAccumulator input = SplitEvaluator.evaluateInput(test);
        MetricAccumulator smoothed = GaussianBaseline.evaluate(test, GaussianBaseline.sigmas(Map.of(Modality.PET, c)));
        assertEquals(2, smoothed.count(Modality.PET));
        double gain = smoothed.mean(Modality.PET).psnr() - input.mean(Modality.PET).psnr();
        assertTrue(gain > 3, "PSNR gain " + gain + " dB");
        assertTrue(smoothed.mean(Modality.PET).ssim() > input.mean(Modality.PET).ssim());
    }

    @Test
    void anUndegradedInputKeepsSigmaZero() throws Exception {
        TinyDatasets.writeNoisy(tmp, Modality.MRI, "validation", 1, 2, 16, 16, 0, 3);
        GaussianBaseline.Choice c = GaussianBaseline.choose(dataset(Split.VALIDATION, Modality.MRI),
                GaussianBaseline.DEFAULT_SIGMAS).get(Modality.MRI);
        assertEquals(0.0, c.sigma());
        assertEquals(Double.POSITIVE_INFINITY, c.bestPsnr());
    }

    @Test
    void eachModalityGetsItsOwnSigma() throws Exception {
        TinyDatasets.writeNoisy(tmp, Modality.MRI, "validation", 2, 1, 32, 32, 0.01, 4);
        TinyDatasets.writeNoisy(tmp, Modality.PET, "validation", 2, 1, 32, 32, 0.1, 5);
        Map<Modality, GaussianBaseline.Choice> c = GaussianBaseline.choose(
                dataset(Split.VALIDATION, Modality.MRI, Modality.PET), GaussianBaseline.DEFAULT_SIGMAS);
        assertTrue(c.get(Modality.MRI).sigma() < c.get(Modality.PET).sigma(),
                c.get(Modality.MRI).sigma() + " < " + c.get(Modality.PET).sigma());
    }

    @Test
    void badGridsAndMissingSigmasAreRefused() throws Exception {
        TinyDatasets.writeNoisy(tmp, Modality.PET, "validation", 1, 1, 8, 8, 0.05, 6);
        PairedDataset val = dataset(Split.VALIDATION, Modality.PET);
        assertThrows(IllegalArgumentException.class, () -> GaussianBaseline.choose(val, new double[0]));
        assertThrows(IllegalArgumentException.class, () -> GaussianBaseline.choose(val, new double[] {1, -0.5}));
        assertThrows(IllegalArgumentException.class, () -> GaussianBaseline.choose(val, new double[] {Double.NaN}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GaussianBaseline.evaluate(val, Map.of(Modality.MRI, 1.0)));
        assertTrue(e.getMessage().contains("PET"), e.getMessage());
    }
}
