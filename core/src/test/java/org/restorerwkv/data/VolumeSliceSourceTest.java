package org.restorerwkv.data;

import org.restorerwkv.domain.Modality;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

class VolumeSliceSourceTest {

    @TempDir
    Path root;

    @Test
    void niftiPairsBecomeSlices() throws Exception {
        float[] hq = new float[3 * 8 * 6];
        float[] lq = new float[hq.length];
        for (int i = 0; i < hq.length; i++) {
            hq[i] = i % 40 - 10;
            lq[i] = hq[i] + 3;
        }
        Path dir = root.resolve("CT/validation");
        VolumeFormats.write(dir.resolve("HQ/vol.nii.gz"), Volume.of(3, 8, 6, hq));
        VolumeFormats.write(dir.resolve("LQ/vol.nii.gz"), Volume.of(3, 8, 6, lq));
        VolumeSliceSource src = new VolumeSliceSource();
        assertFalse(src.accepts(Path.of("notes.txt")));
        PairedDataset ds = new PairedDataset(root, Split.VALIDATION, List.of(Modality.CT), src, 1 << 20);
        assertEquals(3, ds.size());
        assertEquals("CT/vol.nii.gz#2", ds.sliceName(2));
        float[] expected = Modality.CT.normalize(java.util.Arrays.copyOfRange(hq, 2 * 48, 3 * 48));
        assertArrayEquals(expected, ds.slice(2).hq(), 1e-6f);
    }
}
