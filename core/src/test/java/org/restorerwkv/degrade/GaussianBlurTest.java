package org.restorerwkv.degrade;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GaussianBlurTest {

    /** A 4 x 7 slice: the kernel at sigma 1.5 (radius 6) is wider than its height, so mirroring repeats. */
    private static final double[] IMG = {
        0.0, 5.0, 10.0, 4.0, 9.0, 3.0, 8.0,
        7.5, 1.5, 6.5, 0.5, 5.5, -0.5, 4.5,
        4.0, -2.0, 3.0, -3.0, 2.0, -4.0, 1.0,
        0.5, -5.5, -0.5, -6.5, -1.5, -7.5, -2.5};

    @Test
    void reflectMatchesScipyGaussianFilter() {
        // scipy 1.17.1: scipy.ndimage.gaussian_filter(IMG, sigma, mode='reflect', truncate=4.0)
        double[] s075 = {2.455060334518519, 4.6231708059390915, 6.538576988814699, 5.477880333629972,
            5.665677928698815, 4.5698050295431, 5.917299996445686, 4.094837643629049, 3.3260303565025247,
            3.999543481665395, 2.852485340859464, 3.039268738728175, 1.9433958395724598, 3.290890806475045,
            2.5076773544182815, 0.4969770095790207, 0.645348304567501, -0.5382283016038998,
            -0.35187376302426165, -1.4477466621799768, -0.1002516952773913, 0.006717439602026087,
            -2.0903443908584394, -1.9784915612354281, -3.1646076686158753, -2.9782829529949026,
            -4.074155852150618, -2.726660885248032};
        double[] s150 = {3.364234107453404, 3.658951030526617, 3.9174837121306276, 3.8916357902676597,
            3.70096194699671, 3.6142892822600183, 3.671276087690579, 2.6953930371554, 2.7204249864164103,
            2.6742324201882153, 2.4731946967633407, 2.2223135997623116, 2.122712804622712, 2.177929186669039,
            1.513007163758052, 1.2349116105767637, 0.8462060670745352, 0.44825397259611177,
            0.12969956701535512, 0.015567476991633633, 0.0687938927037518, 0.515963257377935,
            0.07551354723557258, -0.49664089227746344, -1.0000597175814887, -1.3548597388675363,
            -1.4767747456885008, -1.4246141498177638};
        assertArrayEquals(s075, GaussianBlur.blur(IMG, 4, 7, 0.75, GaussianBlur.Border.REFLECT), 1e-12);
        assertArrayEquals(s150, GaussianBlur.blur(IMG, 4, 7, 1.5, GaussianBlur.Border.REFLECT), 1e-12);
    }

    @Test
    void reflectKeepsAConstantAndZeroLeaksAtTheEdge() {
        double[] c = new double[5 * 3];
        java.util.Arrays.fill(c, 2.5);
        double[] reflected = GaussianBlur.blur(c, 5, 3, 2.0, GaussianBlur.Border.REFLECT);
        for (double v : reflected) {
            assertEquals(2.5, v, 1e-12);
        }
        double[] zero = GaussianBlur.blur(c, 5, 3, 2.0, GaussianBlur.Border.ZERO);
        assertTrue(zero[0] < 2.0, "corner " + zero[0]);
    }

    @Test
    void sigmaZeroIsACopyAndBadArgumentsAreRefused() {
        double[] copy = GaussianBlur.blur(IMG, 4, 7, 0, GaussianBlur.Border.REFLECT);
        assertArrayEquals(IMG, copy, 0);
        assertThrows(IllegalArgumentException.class, () -> GaussianBlur.blur(IMG, 4, 7, -0.5, GaussianBlur.Border.REFLECT));
        assertThrows(IllegalArgumentException.class, () -> GaussianBlur.blur(IMG, 4, 7, Double.NaN, GaussianBlur.Border.ZERO));
        assertThrows(IllegalArgumentException.class, () -> GaussianBlur.blur(IMG, 5, 7, 1, GaussianBlur.Border.ZERO));
    }

    @Test
    void reflectIndexFolds() {
        int[] expected = {2, 1, 0, 0, 1, 2, 2, 1, 0, 0};
        for (int i = -3; i <= 6; i++) {
            assertEquals(expected[i + 3], GaussianBlur.reflect(i, 3), "index " + i);
        }
        assertEquals(0, GaussianBlur.reflect(-7, 1));
    }
}
