package org.restorerwkv.domain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ModalityTest {

    @Test
    void constantsFollowTheReference() {
        assertEquals(-1024, Modality.CT.normLow());
        assertEquals(3072, Modality.CT.normHigh());
        assertEquals(-160, Modality.CT.windowLow());
        assertEquals(240, Modality.CT.windowHigh());
        assertEquals(0, Modality.MRI.normLow());
        assertEquals(4095, Modality.MRI.normHigh());
        assertEquals(0, Modality.MRI.windowLow());
        assertEquals(4095, Modality.MRI.windowHigh());
        assertEquals(0, Modality.PET.normLow());
        assertEquals(20, Modality.PET.normHigh());
        assertEquals(0, Modality.PET.windowLow());
        assertEquals(20, Modality.PET.windowHigh());
        assertEquals("HU", Modality.CT.units());
        assertEquals("SUV", Modality.PET.units());
        assertEquals("CT", Modality.CT.folderName());
        assertEquals("MRI", Modality.MRI.folderName());
        assertEquals("PET", Modality.PET.folderName());
        assertThrows(IllegalStateException.class, Modality.NONE::folderName);
    }

    @Test
    void parseIsCaseInsensitive() {
        assertEquals(Modality.CT, Modality.parse("ct"));
        assertEquals(Modality.CT, Modality.parse("CT"));
        assertEquals(Modality.MRI, Modality.parse(" Mri "));
        assertEquals(Modality.PET, Modality.parse("pEt"));
        assertEquals(Modality.NONE, Modality.parse("NONE"));
    }

    @Test
    void parseRejectsUnknownNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Modality.parse("xray"));
        assertTrue(e.getMessage().contains("'xray'"), e.getMessage());
        assertTrue(e.getMessage().contains("ct, mri, pet, none"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Modality.parse(""));
        assertThrows(IllegalArgumentException.class, () -> Modality.parse(null));
    }

    @Test
    void normalizeClipsThenScales() {
        float[] ct = {-2000f, -1024f, 1024f, 3072f, 5000f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        assertArrayEquals(new float[] {0f, 0f, 0.5f, 1f, 1f, 0f, 1f}, Modality.CT.normalize(ct), 0f);
        assertArrayEquals(new float[] {0f, 0.25f, 1f}, Modality.PET.normalize(new float[] {-3f, 5f, 25f}), 0f);
        assertArrayEquals(new float[] {0f, 1f}, Modality.MRI.normalize(new float[] {0f, 4095f}), 0f);
    }

    @Test
    void denormalizeMapsBackAndClips() {
        assertArrayEquals(new float[] {-1024f, 1024f, 3072f, -1024f, 3072f},
                Modality.CT.denormalize(new float[] {0f, 0.5f, 1f, -0.2f, 1.5f}), 0f);
        assertArrayEquals(new float[] {0f, 10f, 20f}, Modality.PET.denormalize(new float[] {-1f, 0.5f, 7f}), 0f);
    }

    @Test
    void roundTripInsideTheRange() {
        Random rnd = new Random(7);
        for (Modality m : new Modality[] {Modality.CT, Modality.MRI, Modality.PET}) {
            float[] x = new float[1000];
            double span = m.normHigh() - m.normLow();
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (m.normLow() + span * rnd.nextDouble());
            }
            float[] back = m.denormalize(m.normalize(x));
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i], back[i], 1e-6 * span, m + " at " + i);
            }
        }
    }

    @Test
    void noneIsTheIdentityAndInputsAreNotModified() {
        float[] x = {-5f, 0.25f, 7f};
        float[] copy = x.clone();
        assertArrayEquals(x, Modality.NONE.normalize(x), 0f);
        assertArrayEquals(x, Modality.NONE.denormalize(x), 0f);
        assertArrayEquals(x, Modality.NONE.truncate(x), 0f);
        Modality.CT.normalize(x);
        Modality.CT.denormalize(x);
        Modality.CT.truncate(x);
        assertArrayEquals(copy, x, 0f);
    }

    @Test
    void truncateClipsToTheWindow() {
        assertArrayEquals(new float[] {-160f, 0f, 240f},
                Modality.CT.truncate(new float[] {-1000f, 0f, 900f}), 0f);
        assertArrayEquals(new float[] {0f, 4095f}, Modality.MRI.truncate(new float[] {-1f, 5000f}), 0f);
    }

    @Test
    void nanIsRejected() {
        float[] x = {0f, Float.NaN};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Modality.CT.normalize(x));
        assertTrue(e.getMessage().contains("NaN at index 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Modality.PET.denormalize(x));
        assertThrows(IllegalArgumentException.class, () -> Modality.NONE.normalize(x));
        assertThrows(IllegalArgumentException.class, () -> Modality.MRI.truncate(x));
    }
}
