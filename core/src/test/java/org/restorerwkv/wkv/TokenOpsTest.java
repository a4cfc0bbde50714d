package org.restorerwkv.wkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TokenOpsTest {

    @ParameterizedTest
    // 185 tokens: two whole transpose blocks and a partial one; 64: exactly one
    @CsvSource({"2,185,3", "1,64,16", "3,7,48"})
    void transposesMoveEachValueToItsTokenAndBack(int bsz, int len, int ch) {
        float[] planes = new float[bsz * ch * len];
        for (int i = 0; i < planes.length; i++) {
            planes[i] = i;
        }
        float[] tokens = new float[planes.length];
        TokenOps.toTokens(planes, tokens, bsz, len, ch);
        for (int b = 0; b < bsz; b++) {
            for (int t = 0; t < len; t++) {
                for (int c = 0; c < ch; c++) {
                    assertEquals(planes[(b * ch + c) * len + t], tokens[(b * len + t) * ch + c]);
                }
            }
        }
        float[] back = new float[planes.length];
        TokenOps.toPlanes(tokens, back, bsz, len, ch);
        assertArrayEquals(planes, back);
    }
}
