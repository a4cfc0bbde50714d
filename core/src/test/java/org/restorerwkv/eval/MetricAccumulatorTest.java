package org.restorerwkv.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.domain.Modality;

class MetricAccumulatorTest {

    @TempDir
    Path dir;

    private static MetricAccumulator sample() {
        MetricAccumulator acc = new MetricAccumulator();
        acc.add("ct_001", Modality.CT, new SliceMetrics(30, 0.8, 10));
        acc.add("pet_001", Modality.PET, new SliceMetrics(40, 0.9, 0.5));
        acc.add("ct_002", Modality.CT, new SliceMetrics(32, 0.9, 6));
        acc.add("ct_air", Modality.CT, new SliceMetrics(Double.NaN, Double.NaN, 2));
        return acc;
    }

    @Test
    void meansPerModalitySkipUndefinedValues() {
        MetricAccumulator acc = sample();
        assertEquals(3, acc.count(Modality.CT));
        assertEquals(1, acc.count(Modality.PET));
        assertEquals(0, acc.count(Modality.MRI));
        assertEquals(EnumSet.of(Modality.CT, Modality.PET), acc.modalities());
        SliceMetrics ct = acc.mean(Modality.CT);
        assertEquals(31.0, ct.psnr(), 1e-12);
        assertEquals(0.85, ct.ssim(), 1e-12);
        assertEquals(6.0, ct.rmse(), 1e-12);
        assertEquals(new SliceMetrics(40, 0.9, 0.5), acc.mean(Modality.PET));
        assertTrue(Double.isNaN(acc.mean(Modality.MRI).psnr()));
        assertTrue(acc.summary().startsWith("CT: 3 slices, PSNR 31.0000 dB, SSIM 0.8500, RMSE 6.0000 HU"),
                acc.summary());
    }

    @Test
    void writesTheCsv() throws IOException {
        MetricAccumulator acc = sample();
        acc.add("odd,\"name\"", Modality.PET, new SliceMetrics(Double.POSITIVE_INFINITY, 1, 0));
        Path csv = dir.resolve("sub/metrics.csv");
        acc.writeCsv(csv);
        String expected = String.join("\n",
                "NAME,PSNR,SSIM,RMSE",
                "ct_001,30.000000,0.80000000,10.000000",
                "pet_001,40.000000,0.90000000,0.50000000",
                "ct_002,32.000000,0.90000000,6.0000000",
                "ct_air,NaN,NaN,2.0000000",
                "\"odd,\"\"name\"\"\",Infinity,1.0000000,0.0000000",
                "MEAN_CT,31.000000,0.85000000,6.0000000",
                "MEAN_PET,Infinity,0.95000000,0.25000000",
                "");
        assertEquals(expected, Files.readString(csv, StandardCharsets.UTF_8));
    }

    @Test
    void rejectsNulls() {
        MetricAccumulator acc = new MetricAccumulator();
        assertThrows(IllegalArgumentException.class, () -> acc.add(null, Modality.CT, new SliceMetrics(1, 1, 1)));
        assertThrows(IllegalArgumentException.class, () -> acc.add("x", null, new SliceMetrics(1, 1, 1)));
        assertThrows(IllegalArgumentException.class, () -> acc.add("x", Modality.CT, null));
    }
}
