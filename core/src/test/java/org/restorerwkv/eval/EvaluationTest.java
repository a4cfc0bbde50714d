package org.restorerwkv.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.HostTensor;

class EvaluationTest {

    @Test
    void truncatesBothImagesBeforeMeasuring() {
        // outside the CT window the two slices differ, inside they agree: after truncation they are equal
        float[] gt = {-1000, 0, 100, 240, 300, -160};
        float[] pred = {-500, 0, 100, 900, 2000, -170};
        SliceMetrics s = Evaluation.evaluate(Modality.CT, pred, gt, 2, 3);
        assertEquals(Double.POSITIVE_INFINITY, s.psnr());
        assertEquals(0.0, s.rmse());
        assertEquals(400.0, Evaluation.dataRange(Modality.CT, gt));
    }

    @Test
    void dataRangeComesFromTheTruncatedGroundTruth() {
        float[] gt = {-1000, 0, 100, 50};
        float[] pred = {-160, 10, 100, 50};
        assertEquals(260.0, Evaluation.dataRange(Modality.CT, gt));
        SliceMetrics s = Evaluation.evaluate(Modality.CT, pred, gt, 2, 2);
        // only one pixel differs, by 10 HU: MSE 25
        assertEquals(5.0, s.rmse(), 1e-12);
        assertEquals(10 * Math.log10(260.0 * 260.0 / 25), s.psnr(), 1e-9);
        assertEquals(ImageMetrics.ssim(new float[] {-160, 10, 100, 50}, new float[] {-160, 0, 100, 50}, 2, 2, 260),
                s.ssim(), 0);
    }

    @Test
    void constantTruncatedGroundTruthIsUndefined() {
        float[] gt = {-900, -500, -300, -1000};
        float[] pred = {-900, -100, -300, -1000};
        SliceMetrics s = Evaluation.evaluate(Modality.CT, pred, gt, 2, 2);
        assertTrue(Double.isNaN(s.psnr()));
        assertTrue(Double.isNaN(s.ssim()));
        assertEquals(Math.sqrt(60.0 * 60.0 / 4), s.rmse(), 1e-12);
    }

    @Test
    void noneMeasuresTheValuesAsGiven() {
        float[] gt = {-5, 0, 5, 10};
        float[] pred = {-5, 0, 5, 12};
        SliceMetrics s = Evaluation.evaluate(Modality.NONE, pred, gt, 1, 4);
        assertEquals(1.0, s.rmse(), 1e-12);
        assertEquals(10 * Math.log10(15.0 * 15.0 / 1.0), s.psnr(), 1e-9);
        float[] inf = {-5, 0, 5, Float.POSITIVE_INFINITY};
        assertThrows(IllegalArgumentException.class, () -> Evaluation.evaluate(Modality.NONE, inf, gt, 1, 4));
        // with a window, an infinite prediction is clipped like any other value
        assertEquals(Double.POSITIVE_INFINITY,
                Evaluation.evaluate(Modality.PET, new float[] {0, 1, 2, Float.POSITIVE_INFINITY},
                        new float[] {0, 1, 2, 20}, 2, 2).psnr());
    }

    @Test
    void normalizedInputsAreMappedBackFirst() {
        float[] gtNorm = {0.2f, 0.4f, 0.6f, 0.8f};
        float[] predNorm = {0.2f, 0.4f, 0.6f, 1.3f};
        SliceMetrics s = Evaluation.evaluateNormalized(Modality.PET, predNorm, gtNorm, 2, 2);
        SliceMetrics direct = Evaluation.evaluate(Modality.PET, new float[] {4, 8, 12, 20},
                new float[] {4, 8, 12, 16}, 2, 2);
        assertEquals(direct.psnr(), s.psnr(), 1e-4);
        assertEquals(direct.ssim(), s.ssim(), 1e-6);
        assertEquals(direct.rmse(), s.rmse(), 1e-5);
        assertEquals(2.0, s.rmse(), 1e-5);
    }

    @Test
    void nanIsRejectedNamingTheImageAndPixel() {
        float[] ok = {1, 2, 3, 4, 5, 6};
        float[] bad = {1, 2, 3, 4, Float.NaN, 6};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Evaluation.evaluate(Modality.MRI, bad, ok, 2, 3));
        assertEquals("prediction contains NaN at row 1, column 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Evaluation.evaluate(Modality.MRI, ok, bad, 2, 3));
        assertEquals("ground truth contains NaN at row 1, column 1", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Evaluation.evaluateNormalized(Modality.MRI, bad, ok, 2, 3));
    }

    @Test
    void inputsAreNotModified() {
        float[] gt = {-1000, 0, 100, 300};
        float[] pred = {-500, 0, 100, 900};
        float[] gtCopy = gt.clone();
        float[] predCopy = pred.clone();
        Evaluation.evaluate(Modality.CT, pred, gt, 2, 2);
        assertArrayEquals(gtCopy, gt, 0f);
        assertArrayEquals(predCopy, pred, 0f);
    }

    @Test
    void tensorShapes() {
        float[] gt = {0, 1, 2, 3, 4, 5};
        float[] pred = {0, 1, 2, 3, 4, 7};
        SliceMetrics expected = Evaluation.evaluate(Modality.PET, pred, gt, 2, 3);
        for (long[] shape : new long[][] {{2, 3}, {1, 2, 3}, {1, 1, 2, 3}}) {
            assertEquals(expected, Evaluation.evaluate(Modality.PET, new HostTensor(shape, pred), new HostTensor(shape, gt)));
        }
        assertThrows(IllegalArgumentException.class, () -> Evaluation.evaluate(Modality.PET,
                new HostTensor(new long[] {2, 3}, pred), new HostTensor(new long[] {3, 2}, gt)));
        assertThrows(IllegalArgumentException.class, () -> Evaluation.evaluate(Modality.PET,
                new HostTensor(new long[] {2, 1, 3}, pred), new HostTensor(new long[] {2, 1, 3}, gt)));
        assertThrows(IllegalArgumentException.class, () -> Evaluation.evaluate(Modality.PET,
                new HostTensor(new long[] {6}, pred), new HostTensor(new long[] {6}, gt)));
    }
}
