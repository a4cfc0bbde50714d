package org.restorerwkv.data;

import org.restorerwkv.domain.Modality;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.restorerwkv.TestResources;
import org.restorerwkv.degrade.Phantoms;
import org.restorerwkv.degrade.Seeds;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

class SimulationTest {

    private static final Path SRC = Path.of("test-volume");

    private static Simulation sim(String task, String params) {
        return Simulation.parse(task, org.restorerwkv.degrade.Degradations.parseParams(params));
    }

    @Test
    void pixelSpacingComesFromTheVolumeWhenItsGeometryIsKnown() throws Exception {
        Volume ct = VolumeFormats.read(TestResources.path("io/CT_small.dcm"));
        assertEquals(ct.spacing()[1], ct.spacing()[2], 1e-9);
        assertTrue(Math.abs(ct.spacing()[2] - 0.7) > 0.01, "fixture spacing must differ from the default");
        Simulation s = sim("ct-lowdose", "dose=0.25,views=60");
        assertEquals(ct.spacing()[2], s.bind(ct).pixelMm(), 1e-12);
        assertTrue(s.bind(ct).description().contains("pixel " + ct.spacing()[2] + " mm"), s.bind(ct).description());
        // an explicit value wins, a volume without geometry gets the simulator's default
        assertEquals(0.5, sim("ct-lowdose", "dose=0.25,pixel-mm=0.5").bind(ct).pixelMm(), 0);
        Volume bare = Volume.of(1, 8, 8, new float[64], new double[] {3, 2, 2});
        assertEquals(0.7, s.bind(bare).pixelMm(), 0);
        // square pixels only
        Volume oblong = new Volume(1, 8, 8, new float[64], new double[] {3, 0.7, 0.9}, Volume.diagonalAffine(
                new double[] {3, 0.7, 0.9}), null, ct.dicom());
        String msg = assertThrows(IllegalArgumentException.class, () -> s.bind(oblong)).getMessage();
        assertTrue(msg.contains("square pixels") && msg.contains("pixel-mm"), msg);
        assertEquals(0.5, sim("ct-lowdose", "dose=0.25,pixel-mm=0.5").bind(oblong).pixelMm(), 0);
        assertNull(sim("mri-sr", "scale=2").bind(oblong).pixelMm()); // k-space truncation has no mm scale
    }

    @Test
    void slicesAreSeededByIndexAndIndependentOfThreads() throws Exception {
        int n = 32;
        float[] vox = new float[3 * n * n];
        for (int k = 0; k < 3; k++) {
            System.arraycopy(Phantoms.sheppLogan(n), 0, vox, k * n * n, n * n);
        }
        Volume v = Volume.of(3, n, n, vox);
        Simulation s = sim("ct-lowdose", "dose=0.25,views=40");
        Volume one = s.apply(v, 11, 1, SRC);
        Volume three = s.apply(v, 11, 3, SRC);
        assertArrayEquals(one.voxels(), three.voxels());
        assertSame(v.affine(), one.affine()); // geometry kept
        // slice k is the simulator applied with Seeds.forSlice(seed, k): identical input slices differ
        var op = s.bind(v).op();
        assertArrayEquals(op.apply(v.slice(2), n, n, Seeds.forSlice(11, 2)), one.slice(2));
        assertFalse(java.util.Arrays.equals(one.slice(0), one.slice(1)));
        assertFalse(java.util.Arrays.equals(one.voxels(), s.apply(v, 12, 2, SRC).voxels()));
    }

    @Test
    void badSlicesAndParametersAreOneLineErrors() {
        float[] vox = new float[2 * 16 * 16];
        vox[16 * 16 + 5] = Float.NaN;
        Volume v = Volume.of(2, 16, 16, vox);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> sim("pet-lowcount", "fraction=0.5").apply(v, 1, 2, SRC));
        assertTrue(e.getMessage().startsWith("test-volume: slice 1: "), e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> sim("ct-denoise", ""))
                .getMessage().contains("unknown task 'ct-denoise'"));
        assertEquals("pet-phantom: unknown parameter 'dose' (fwhm-mm, grey-suv, pixel-mm)",
                assertThrows(IllegalArgumentException.class, () -> sim("pet-phantom", "dose=1")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> sim("pet-phantom", "fwhm-mm=-1"))
                .getMessage().startsWith("pet-phantom: PET resolution FWHM"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> sim("pet-phantom", "grey-suv=x"))
                .getMessage().contains("not a number"));
    }

    @Test
    void phantomMakesPetActivityFromT1() throws Exception {
        Volume t1 = VolumeFormats.read(TestResources.path("io/brain_series"));
        Simulation s = Simulation.parse("pet-phantom", Map.of());
        assertEquals(Modality.PET, s.outputModality());
        assertFalse(s.isDegradation());
        assertEquals(t1.spacing()[2], s.bind(t1).pixelMm(), 1e-12);
        Volume pet = s.apply(t1, 0, 2, SRC);
        double max = 0;
        for (float x : pet.voxels()) {
            assertTrue(x >= 0, "activity is never negative");
            max = Math.max(max, x);
        }
        assertTrue(max > 4 && max <= 8.0001, "grey matter is 8 SUV before smoothing, max " + max);
        assertEquals(0, pet.get(0, 0, 0), 1e-3); // background (corner) has no uptake
    }
}
