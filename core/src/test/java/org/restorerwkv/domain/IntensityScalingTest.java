package org.restorerwkv.domain;

import org.restorerwkv.data.PairedDataset;
import org.restorerwkv.data.Split;
import org.restorerwkv.data.TinyDatasets;
import org.restorerwkv.data.VolumeSliceSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.io.Npy;
import org.restorerwkv.eval.Evaluation;
import org.restorerwkv.eval.SliceMetrics;

class IntensityScalingTest {

    @TempDir
    Path tmp;

    @Test
    void mriPercentileMapsThe995thPercentileToTheLevel() {
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) {
            x[1000 - 1 - i] = i + 1; // 1..1000, in reverse: the order must not matter
        }
        // 99.5th percentile of 1..1000: element 995 (0-based) of the sorted values, 996
        assertEquals(IntensityScaling.MRI_LEVEL / 996, IntensityScaling.MRI_PERCENTILE.factor(Modality.MRI, x), 1e-12);
        for (Modality m : new Modality[] {Modality.CT, Modality.PET, Modality.NONE}) {
            assertEquals(1, IntensityScaling.MRI_PERCENTILE.factor(m, x), m.name());
        }
        assertEquals(1, IntensityScaling.FIXED.factor(Modality.MRI, x));
        // an empty scan keeps the fixed range instead of dividing by zero
        assertEquals(1, IntensityScaling.MRI_PERCENTILE.factor(Modality.MRI, new float[64]));
        assertEquals(1, IntensityScaling.MRI_PERCENTILE.factor(Modality.MRI, new float[0]));
    }

    @Test
    void scaledNormalizationInvertsAndLeavesTheInputAlone() {
        float[] x = {0, 12.5f, 250, 300};
        float[] copy = x.clone();
        double f = IntensityScaling.MRI_LEVEL / 250;
        float[] n = Modality.MRI.normalize(x, f);
        assertEquals(1024 / 4095f, n[2], 1e-6);
        assertArrayEquals(x, Modality.MRI.denormalize(n, f), 1e-3f);
        assertArrayEquals(copy, x);
        // factor 1 is the fixed range, bit for bit
        assertArrayEquals(Modality.MRI.normalize(x), Modality.MRI.normalize(x, 1));
    }

    @Test
    void parsesIdsAndRefusesOthers() {
        assertEquals(IntensityScaling.FIXED, IntensityScaling.parse(null));
        assertEquals(IntensityScaling.FIXED, IntensityScaling.parse("fixed"));
        assertEquals(IntensityScaling.MRI_PERCENTILE, IntensityScaling.parse(" MRI-P99.5 "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IntensityScaling.parse("zscore"));
        assertEquals("unknown intensity scaling 'zscore': expected fixed or mri-p99.5", e.getMessage());
    }

    @Test
    void datasetScalesEachMriScanByItsInputAndMetricsStayInPhysicalUnits() throws Exception {
        Path root = tmp.resolve("data");
        TinyDatasets.write(root, Modality.MRI, "test", 2, 3, 24, 20, 5);
        PairedDataset fixed = new PairedDataset(root, Split.TEST, List.of(Modality.MRI), new VolumeSliceSource(), 0);
        PairedDataset scaled = new PairedDataset(root, Split.TEST, List.of(Modality.MRI), new VolumeSliceSource(), 0,
                IntensityScaling.MRI_PERCENTILE);
        assertEquals(IntensityScaling.MRI_PERCENTILE, scaled.scaling());
        float[] lq0 = Npy.read(root.resolve("MRI/test/LQ/case00.npy")).data();
        assertEquals(IntensityScaling.MRI_PERCENTILE.factor(Modality.MRI, lq0), scaled.scaleOfPair(0), 1e-12);
        for (int i = 0; i < fixed.size(); i++) {
            PairedDataset.SlicePair a = fixed.slice(i);
            PairedDataset.SlicePair b = scaled.slice(i);
            assertEquals(1, a.scale());
            assertNotEquals(1, b.scale());
            assertNotEquals(a.lq()[0], b.lq()[0]);
            SliceMetrics ma = Evaluation.evaluateNormalized(a.modality(), a.lq(), a.hq(), a.height(), a.width(), a.scale());
            SliceMetrics mb = Evaluation.evaluateNormalized(b.modality(), b.lq(), b.hq(), b.height(), b.width(), b.scale());
            assertEquals(ma.psnr(), mb.psnr(), 1e-3);
            assertEquals(ma.ssim(), mb.ssim(), 1e-4);
            assertEquals(ma.rmse(), mb.rmse(), 1e-3 * ma.rmse()); // RMSE in intensity units, not scaled ones
        }
    }

    @Test
    void modalityNoneIgnoresTheFactor() {
        float[] x = {-3, 0.5f, 7};
        assertArrayEquals(x, Modality.NONE.normalize(x, 5));
        assertArrayEquals(x, Modality.NONE.denormalize(x, 5));
    }
}
