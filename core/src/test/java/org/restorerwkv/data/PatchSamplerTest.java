package org.restorerwkv.data;

import org.restorerwkv.domain.Modality;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Npy;

class PatchSamplerTest {

    @TempDir
    Path root;

    private PairedDataset dataset() throws Exception {
        TinyDatasets.write(root, Modality.CT, "train", 3, 1, 24, 20, 1);
        TinyDatasets.write(root, Modality.PET, "train", 1, 4, 16, 16, 2); // a 4-slice stack
        return new PairedDataset(root, Split.TRAIN, List.of(Modality.CT, Modality.PET), new NpySliceSource(), 1 << 20);
    }

    @Test
    void indexesSlicesOfEveryPairInNameOrder() throws Exception {
        PairedDataset ds = dataset();
        assertEquals(7, ds.size());
        assertEquals(List.of(Modality.CT, Modality.PET), ds.modalities());
        assertEquals("CT/case00.npy", ds.sliceName(0));
        assertEquals("PET/case00.npy#3", ds.sliceName(6));
        PairedDataset.SlicePair s = ds.slice(4);
        assertEquals(Modality.PET, s.modality());
        assertEquals(16 * 16, s.lq().length);
        for (float v : s.hq()) {
            assertTrue(v >= 0 && v <= 1, "normalized");
        }
    }

    @Test
    void augmentationScalesMriPairsByOneGainAndLeavesCtAlone() throws Exception {
        TinyDatasets.write(root, Modality.MRI, "train", 2, 1, 16, 16, 3);
        TinyDatasets.write(root, Modality.CT, "train", 2, 1, 16, 16, 4);
        PairedDataset ds = new PairedDataset(root, Split.TRAIN, List.of(Modality.CT, Modality.MRI),
                new NpySliceSource(), 1 << 20);
        PatchSampler plain = new PatchSampler(ds, 5, 4, 16, false, true);
        PatchSampler aug = new PatchSampler(ds, 5, 4, 16, true, true);
        Set<Float> gains = new HashSet<>();
        for (int it = 0; it < 6; it++) {
            Batch p = plain.batch(it);
            Batch a = aug.batch(it);
            for (int b = 0; b < 4; b++) {
                PatchSampler.Sample s = aug.sample(it, b);
                assertTrue(s.gain() >= PatchSampler.MRI_GAIN_RANGE[0] && s.gain() <= PatchSampler.MRI_GAIN_RANGE[1], "gain " + s.gain());
                // the whole 16x16 slice is the crop: a dihedral transform keeps the pixel sum
                double[] sums = new double[4];
                for (int i = b * 256; i < (b + 1) * 256; i++) {
                    sums[0] += p.lq()[i];
                    sums[1] += p.hq()[i];
                    sums[2] += a.lq()[i];
                    sums[3] += a.hq()[i];
                }
                boolean mri = a.modalities()[b] == Modality.MRI;
                double gain = mri ? s.gain() : 1;
                if (mri) {
                    gains.add(s.gain());
                }
                boolean clipped = false;
                for (int i = b * 256; i < (b + 1) * 256; i++) {
                    clipped |= a.hq()[i] == 1f || a.lq()[i] == 1f;
                }
                if (!clipped) {
                    assertEquals(sums[0] * gain, sums[2], 1e-3 * sums[2], "LQ sum, sample " + b);
                    assertEquals(sums[1] * gain, sums[3], 1e-3 * sums[3], "HQ sum, sample " + b);
                }
            }
        }
        assertTrue(gains.size() > 3, "MRI gains vary: " + gains);
    }

    @Test
    void batchesDependOnlyOnSeedAndIteration() throws Exception {
        PairedDataset ds = dataset();
        PatchSampler a = new PatchSampler(ds, 11, 4, 16, true, false);
        PatchSampler b = new PatchSampler(ds, 11, 4, 16, true, false);
        // b builds iterations in reverse order and on a background loader: same batches
        List<Batch> reverse = new ArrayList<>();
        for (int it = 9; it >= 0; it--) {
            reverse.add(0, b.batch(it));
        }
        try (BatchLoader loader = new BatchLoader(a, 0, 3, 5)) {
            for (int it = 0; it < 10; it++) {
                Batch x = loader.next();
                assertEquals(it, x.iteration());
                assertArrayEquals(reverse.get(it).lq(), x.lq());
                assertArrayEquals(reverse.get(it).hq(), x.hq());
                assertArrayEquals(reverse.get(it).names(), x.names());
            }
        }
        // a loader started at iteration 6 (a resumed run) continues identically
        try (BatchLoader loader = new BatchLoader(new PatchSampler(ds, 11, 4, 16, true, false), 6, 2, 2)) {
            assertArrayEquals(reverse.get(6).lq(), loader.next().lq());
        }
        // another seed gives another order
        assertFalse(java.util.Arrays.equals(reverse.get(0).lq(), new PatchSampler(ds, 12, 4, 16, true, false).batch(0).lq()));
    }

    @Test
    void everySliceOncePerEpochAndBalancedCyclesModalities() throws Exception {
        PairedDataset ds = dataset();
        PatchSampler uniform = new PatchSampler(ds, 3, 7, 8, false, false);
        Set<Integer> seen = new HashSet<>();
        for (int b = 0; b < 7; b++) {
            seen.add(uniform.sample(0, b).slice());
        }
        assertEquals(7, seen.size());
        PatchSampler balanced = new PatchSampler(ds, 3, 4, 8, false, true);
        for (int b = 0; b < 4; b++) {
            Modality m = ds.pairs().get(ds.slices().get(balanced.sample(2, b).slice()).pair()).modality();
            assertEquals(b % 2 == 0 ? Modality.CT : Modality.PET, m);
        }
    }

    @Test
    void patchLargerThanSliceIsReflectPadded() throws Exception {
        PairedDataset ds = dataset();
        PatchSampler s = new PatchSampler(ds, 1, 1, 32, false, false);
        Batch b = s.batch(0);
        PatchSampler.Sample smp = s.sample(0, 0);
        PairedDataset.SlicePair sp = ds.slice(smp.slice());
        assertEquals(0, smp.top());
        // row 0 of the patch is the slice's row 0; column w (past the edge) mirrors column w-2
        assertEquals(sp.hq()[0], b.hq()[0]);
        int w = sp.width();
        assertEquals(sp.hq()[w - 2], b.hq()[w]);
    }

    @Test
    void augmentationIsADihedralTransformOfTheCrop() throws Exception {
        PairedDataset ds = dataset();
        PatchSampler plain = new PatchSampler(ds, 5, 1, 16, false, false);
        PatchSampler aug = new PatchSampler(ds, 5, 1, 16, true, false);
        for (int it = 0; it < 12; it++) {
            float[] p = plain.batch(it).hq();
            float[] q = aug.batch(it).hq();
            float[] ps = p.clone();
            float[] qs = q.clone();
            java.util.Arrays.sort(ps);
            java.util.Arrays.sort(qs);
            assertArrayEquals(ps, qs, "same pixels, rearranged");
        }
    }

    @Test
    void unmatchedFileIsNamed() throws Exception {
        TinyDatasets.write(root, Modality.MRI, "train", 1, 1, 8, 8, 1);
        Npy.write(root.resolve("MRI/train/LQ/extra.npy"), new HostTensor(new long[] {8, 8}, new float[64]));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new PairedDataset(root, Split.TRAIN, List.of(Modality.MRI), new NpySliceSource(), 0));
        assertTrue(e.getMessage().contains("extra.npy") && e.getMessage().contains("no HQ file"), e.getMessage());
    }

    @Test
    void mismatchedShapesAndMissingFoldersAreErrors() throws Exception {
        TinyDatasets.write(root, Modality.MRI, "train", 1, 1, 8, 8, 1);
        Npy.write(root.resolve("MRI/train/HQ/case00.npy"), new HostTensor(new long[] {8, 9}, new float[72]));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new PairedDataset(root, Split.TRAIN, List.of(Modality.MRI), new NpySliceSource(), 0));
        assertTrue(e.getMessage().contains("differs"), e.getMessage());
        assertThrows(InvalidInputException.class,
                () -> new PairedDataset(root, Split.TEST, List.of(Modality.MRI), new NpySliceSource(), 0));
        assertTrue(Files.exists(root.resolve("MRI/train/LQ/case00.npy")), "inputs untouched");
    }

    @Test
    void nanInAFileIsRejected() throws Exception {
        TinyDatasets.write(root, Modality.CT, "train", 1, 1, 8, 8, 1);
        float[] bad = new float[64];
        bad[9] = Float.NaN;
        Npy.write(root.resolve("CT/train/LQ/case00.npy"), new HostTensor(new long[] {8, 8}, bad));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new PairedDataset(root, Split.TRAIN, List.of(Modality.CT), new NpySliceSource(), 0));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    }
}
