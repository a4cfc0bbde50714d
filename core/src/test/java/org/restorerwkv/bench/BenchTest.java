package org.restorerwkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BenchTest {

    @Test
    void leakSummaryMeasuresSpreadAndChangeAgainstTheFirstRestorationOfTheRange() {
        double[] rss = {800, 780, 880, 840};
        assertEquals("RSS over restorations 1..4: first 800, lowest 780, highest 880, last 840 MB;"
                        + " spread 12.5%, change +5.0% of the first",
                Bench.leakSummary(rss, 1));
        assertEquals("RSS over restorations 3..4: first 880, lowest 840, highest 880, last 840 MB;"
                        + " spread 4.5%, change -4.5% of the first",
                Bench.leakSummary(rss, 3));
        assertEquals("RSS over restorations 1..1: first 500, lowest 500, highest 500, last 500 MB;"
                        + " spread 0.0%, change +0.0% of the first",
                Bench.leakSummary(new double[] {500}, 1));
        assertThrows(IllegalArgumentException.class, () -> Bench.leakSummary(rss, 5));
    }
}
