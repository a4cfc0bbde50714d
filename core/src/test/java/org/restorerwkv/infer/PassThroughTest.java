package org.restorerwkv.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Volume;
import org.restorerwkv.model.RestoreRwkv;

/**
 * Voxels outside the normalization range leave the restoration as they came in (the network sees
 * them clipped, as in the reference, and its output there would be clipped too): a CT with a
 * 4000 HU metal insert, a PET with a 40 SUV hot spot; the count is reported.
 */
class PassThroughTest {

    private static Volume phantom(float background, float insert, int[] box, int depth) {
        int h = 40;
        int w = 36;
        float[] v = new float[depth * h * w];
        for (int k = 0; k < depth; k++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    boolean in = y >= box[0] && y < box[1] && x >= box[2] && x < box[3];
                    v[(k * h + y) * w + x] = in ? insert : background + ((x * 7 + y * 3 + k) % 11);
                }
            }
        }
        return Volume.of(depth, h, w, v);
    }

    private static void check(Modality m, float background, float insert, long expectedKept) {
        int[] box = {10, 14, 20, 25};
        Volume in = phantom(background, insert, box, 2);
        try (NDManager manager = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(RestorerTest.TINY, manager, 7);
            ScanRestorer r = new ScanRestorer(new Restorer(model, manager, 2), org.restorerwkv.domain.IntensityScaling.FIXED);
            for (int axis = 0; axis < 3; axis++) {
                ScanRestorer.Restored<Volume> out = r.restoreCounted(in, m, axis, RestoreListener.NONE);
                assertEquals(expectedKept, out.passedThrough(), m + " axis " + axis);
                float[] x = in.voxels();
                float[] y = out.result().voxels();
                for (int i = 0; i < x.length; i++) {
                    if (x[i] > m.normHigh() || x[i] < m.normLow()) {
                        assertEquals(x[i], y[i], m + ": out-of-range voxel " + i + " passes through unchanged");
                    } else {
                        assertTrue(y[i] >= m.normLow() && y[i] <= m.normHigh(), m + ": voxel " + i + " = " + y[i]);
                    }
                }
            }
            HostTensor raw = new HostTensor(new long[] {2, 40, 36}, in.voxels());
            ScanRestorer.Restored<HostTensor> t = r.restoreCounted(raw, m, RestoreListener.NONE);
            assertEquals(expectedKept, t.passedThrough());
        }
    }

    @Test
    void ctMetalInsertAt4000HuPassesThrough() {
        check(Modality.CT, 40, 4000, 2 * 4 * 5);
    }

    @Test
    void petHotSpotAt40SuvPassesThrough() {
        check(Modality.PET, 1, 40, 2 * 4 * 5);
    }

    @Test
    void inRangeScansPassNothingThrough() {
        check(Modality.MRI, 100, 3000, 0);
    }
}
