package org.restorerwkv.degrade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DegradationsTest {

    static Degradation parse(String task, String params) {
        return Degradations.parse(task, Degradations.parseParams(params));
    }

    static String error(String task, String params) {
        return assertThrows(IllegalArgumentException.class, () -> parse(task, params)).getMessage();
    }

    @Test
    void buildsEachTask() {
        CtLowDose ct = assertInstanceOf(CtLowDose.class, parse("ct-lowdose", "dose=1/4"));
        assertEquals(0.25, ct.dose());
        assertEquals(CtLowDose.Mode.INSERT_NOISE, ct.mode());
        assertEquals("ct-lowdose", ct.task());
        CtLowDose fan = assertInstanceOf(CtLowDose.class, parse("ct-lowdose",
                "dose=0.1, geometry=Fan, source-iso-mm=541, views=1000, filter=hann, mode=reconstruct, photons=2e5"));
        assertEquals(new BeamGeometry.Fan(541, 1085.6), fan.geometry());
        assertEquals(1000, fan.views());
        assertEquals(Apodization.HANN, fan.apodization());
        assertEquals(CtLowDose.Mode.RECONSTRUCT, fan.mode());
        assertEquals(2e5, fan.photonsPerRay());

        MriKspace mri = assertInstanceOf(MriKspace.class, parse("mri-sr", "scale=4"));
        assertEquals(4, mri.scale());
        assertEquals(0, mri.noiseSigma());

        PetLowCount pet = assertInstanceOf(PetLowCount.class, parse("pet-lowcount", "fraction=1/12"));
        assertEquals(1.0 / 12, pet.fraction(), 1e-15);
        assertNull(pet.osem());
        PetLowCount sino = assertInstanceOf(PetLowCount.class,
                parse("pet-lowcount", "fraction=0.25,domain=sinogram,iterations=2,counts=5e6,mode=noiseless-input"));
        assertEquals(new PetLowCount.Osem(180, 2, 6), sino.osem());
        assertEquals(5e6, sino.fullCounts());
        assertEquals(PetLowCount.Mode.NOISELESS_INPUT, sino.mode());
        assertTrue(sino.describe().startsWith("pet-lowcount: count fraction 0.25"), sino.describe());
    }

    @Test
    void rejectsUnknownTasksAndBadValues() {
        assertTrue(error("ct-denoise", "dose=0.25").contains("unknown task 'ct-denoise'"));
        assertThrows(IllegalArgumentException.class, () -> Degradations.parse(null, Map.of()));
        assertEquals("ct-lowdose: parameter dose is required", error("ct-lowdose", ""));
        assertEquals("ct-lowdose: dose 'abc' is not a number", error("ct-lowdose", "dose=abc"));
        assertEquals("ct-lowdose: dose must be positive and finite, got 0.0", error("ct-lowdose", "dose=0"));
        assertTrue(error("ct-lowdose", "dose=2").contains("(0, 1]"));
        assertTrue(error("ct-lowdose", "dose=0.5,views=12.5").contains("not an integer"));
        assertTrue(error("ct-lowdose", "dose=0.5,dos=1").contains("unknown parameter 'dos'"));
        assertTrue(error("ct-lowdose", "dose=0.5,source-iso-mm=500").contains("needs geometry=fan"));
        assertTrue(error("ct-lowdose", "dose=0.5,geometry=cone").contains("not parallel or fan"));
        assertTrue(error("ct-lowdose", "dose=0.5,filter=cosine").contains("unknown filter"));
        assertTrue(error("mri-sr", "scale=0.5").startsWith("mri-sr: scale must be >= 1"));
        assertTrue(error("mri-sr", "scale=NaN").contains("not a finite number"));
        assertTrue(error("mri-sr", "scale=Infinity").contains("not a finite number"));
        assertTrue(error("mri-sr", "").contains("scale is required"));
        assertTrue(error("pet-lowcount", "fraction=1/0").contains("not a finite number"));
        assertTrue(error("pet-lowcount", "fraction=0.5,views=90").contains("needs domain=sinogram"));
        assertTrue(error("pet-lowcount", "fraction=0.5,domain=list").contains("not image or sinogram"));
        assertTrue(error("pet-lowcount", "fraction=0.5,domain=sinogram,subsets=500").contains("exceed"));
        assertThrows(IllegalArgumentException.class, () -> Degradations.parseParams("dose"));
        assertThrows(IllegalArgumentException.class, () -> Degradations.parseParams("dose=1,dose=2"));
    }

    @Test
    void sliceSeedsAreDistinctAndStable() {
        assertEquals(Seeds.forSlice(42, 7), Seeds.forSlice(42, 7));
        assertNotEquals(Seeds.forSlice(42, 7), Seeds.forSlice(42, 8));
        assertNotEquals(Seeds.forSlice(42, 7), Seeds.forSlice(43, 7));
        assertNotEquals(Seeds.forSlice(0, 0), Seeds.forSlice(0, 1));
    }

    @Test
    void everyTaskDegradesThroughTheInterface() {
        int n = 32;
        float[] ct = Phantoms.sheppLogan(n);
        float[] mri = Phantoms.disc(n, 0.7, 1000f, 0f);
        float[] pet = Phantoms.disc(n, 0.7, 5f, 0f);
        Map<String, float[]> inputs = Map.of("ct-lowdose", ct, "mri-sr", mri, "pet-lowcount", pet);
        Map<String, String> params = Map.of("ct-lowdose", "dose=0.25,views=64", "mri-sr", "scale=2",
                "pet-lowcount", "fraction=0.25");
        for (String task : Degradations.TASKS) {
            Degradation d = parse(task, params.get(task));
            float[] in = inputs.get(task);
            float[] out = d.apply(in, n, n, Seeds.forSlice(1, 0));
            assertEquals(in.length, out.length);
            assertNotEquals(0, java.util.stream.IntStream.range(0, n * n).filter(i -> out[i] != in[i]).count(), task);
        }
    }
}
