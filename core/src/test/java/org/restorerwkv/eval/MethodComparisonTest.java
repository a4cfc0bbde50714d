package org.restorerwkv.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.domain.Modality;

class MethodComparisonTest {

    @TempDir
    Path dir;

    private static MethodComparison sample() {
        MetricAccumulator input = new MetricAccumulator();
        input.add("CT/a.npy", Modality.CT, new SliceMetrics(20, 0.5, 40));
        input.add("PET/b.npy", Modality.PET, new SliceMetrics(25, 0.7, 1));
        MetricAccumulator gauss = new MetricAccumulator();
        gauss.add("CT/a.npy", Modality.CT, new SliceMetrics(24, 0.75, 20));
        gauss.add("PET/b.npy", Modality.PET, new SliceMetrics(28, 0.8, 0.5));
        return new MethodComparison().add("input", input)
                .add("gaussian", gauss, Map.of(Modality.CT, 1.25, Modality.PET, 0.5));
    }

    @Test
    void writesSlicesThenMeansPerModalityWithTheMethodAndSigma() throws Exception {
        Path csv = dir.resolve("r.csv");
        sample().writeCsv(csv);
        String expected = String.join("\n",
                "NAME,PSNR,SSIM,RMSE,METHOD,SIGMA_PX",
                "CT/a.npy,20.000000,0.50000000,40.000000,input,",
                "PET/b.npy,25.000000,0.70000000,1.0000000,input,",
                "CT/a.npy,24.000000,0.75000000,20.000000,gaussian,1.25",
                "PET/b.npy,28.000000,0.80000000,0.50000000,gaussian,0.5",
                "MEAN_CT,20.000000,0.50000000,40.000000,input,",
                "MEAN_CT,24.000000,0.75000000,20.000000,gaussian,1.25",
                "MEAN_PET,25.000000,0.70000000,1.0000000,input,",
                "MEAN_PET,28.000000,0.80000000,0.50000000,gaussian,0.5",
                "");
        assertEquals(expected, Files.readString(csv, StandardCharsets.UTF_8));
    }

    @Test
    void tableHasOneLinePerModalityAndMethod() {
        String[] lines = sample().table().split("\\R");
        assertEquals(6, lines.length, String.join("\n", lines));
        assertTrue(lines[0].startsWith("modality method"), lines[0]);
        assertTrue(lines[2].matches("CT\\s+gaussian\\s+1\\s+24\\.0000\\s+0\\.7500\\s+20\\.0000\\s+1\\.25"), lines[2]);
        assertTrue(lines[3].startsWith("PET      input"), lines[3]);
        assertEquals("RMSE units: CT HU PET SUV", lines[5]);
    }

    @Test
    void refusesNamesThatBreakTheCsv() {
        assertThrows(IllegalArgumentException.class, () -> new MethodComparison().add("a,b", new MetricAccumulator()));
        assertThrows(IllegalArgumentException.class, () -> new MethodComparison().add("", new MetricAccumulator()));
    }
}
