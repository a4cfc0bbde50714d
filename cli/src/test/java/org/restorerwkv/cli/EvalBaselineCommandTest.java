package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.TinyDatasets;
import picocli.CommandLine;

class EvalBaselineCommandTest {

    @TempDir
    Path tmp;

    /** MEAN_<MOD> rows of a comparison report: "MOD/method" to {PSNR, SIGMA_PX (NaN when empty)}. */
    private static Map<String, double[]> means(Path report) throws Exception {
        List<String> lines = Files.readAllLines(report);
        assertEquals("NAME,PSNR,SSIM,RMSE,METHOD,SIGMA_PX", lines.get(0));
        Map<String, double[]> out = new HashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            assertEquals(6, f.length, line);
            if (f[0].startsWith("MEAN_")) {
                out.put(f[0].substring(5) + "/" + f[4],
                        new double[] {Double.parseDouble(f[1]), f[5].isEmpty() ? Double.NaN : Double.parseDouble(f[5])});
            }
        }
        return out;
    }

    @Test
    void baselineAloneReportsInputAndGaussianPerModality() throws Exception {
        Path data = tmp.resolve("data");
        TinyDatasets.writeNoisy(data, Modality.PET, "validation", 2, 1, 24, 24, 0.06, 1);
        TinyDatasets.writeNoisy(data, Modality.PET, "test", 2, 2, 20, 16, 0.06, 2);
        TinyDatasets.writeNoisy(data, Modality.MRI, "validation", 1, 1, 24, 24, 0, 3);
        TinyDatasets.writeNoisy(data, Modality.MRI, "test", 1, 1, 24, 24, 0, 4);
        Path report = tmp.resolve("r.csv");
        int rc = new CommandLine(new EvalCommand()).execute("--data", data.toString(), "--modalities", "mri,pet",
                "--baseline", "gaussian", "--no-model", "--report", report.toString());
        assertEquals(0, rc);
        Map<String, double[]> m = means(report);
        assertEquals(4, m.size(), m.keySet().toString());
        // noisy PET: smoothed, and better than the input; undegraded MRI: left alone (sigma 0, exact)
        assertTrue(m.get("PET/gaussian")[1] > 0, "PET sigma " + m.get("PET/gaussian")[1]);
        assertTrue(m.get("PET/gaussian")[0] > m.get("PET/input")[0] + 3,
                m.get("PET/gaussian")[0] + " vs input " + m.get("PET/input")[0]);
        assertTrue(Double.isNaN(m.get("PET/input")[1]));
        assertEquals(0.0, m.get("MRI/gaussian")[1]);
        assertEquals(Double.POSITIVE_INFINITY, m.get("MRI/gaussian")[0]);
        // per-slice rows: 4 PET slices + 1 MRI slice for each of the two methods, then 4 means
        assertEquals(1 + 2 * 5 + 4, Files.readAllLines(report).size());
    }

    @Test
    void aSmallerGridIsSearchedWhenGiven() throws Exception {
        Path data = tmp.resolve("data");
        TinyDatasets.writeNoisy(data, Modality.PET, "validation", 1, 1, 24, 24, 0.06, 1);
        TinyDatasets.writeNoisy(data, Modality.PET, "test", 1, 1, 24, 24, 0.06, 2);
        Path report = tmp.resolve("r.csv");
        int rc = new CommandLine(new EvalCommand()).execute("--data", data.toString(), "--modalities", "pet",
                "--baseline", "gaussian", "--no-model", "--sigmas", "0,0.25", "--report", report.toString());
        assertEquals(0, rc);
        assertEquals(0.25, means(report).get("PET/gaussian")[1]);
    }

    @Test
    void misuseIsRefusedWithOneLine() throws Exception {
        Path data = tmp.resolve("data");
        TinyDatasets.writeNoisy(data, Modality.PET, "test", 1, 1, 8, 8, 0.06, 2);
        String[][] bad = {
            {"--data", data.toString(), "--modalities", "pet", "--baseline", "median"},
            {"--data", data.toString(), "--modalities", "pet", "--no-model"},
            {"--data", data.toString(), "--modalities", "pet", "--baseline", "gaussian", "--no-model", "--out", tmp.resolve("o").toString()},
            {"--data", data.toString(), "--modalities", "pet", "--baseline", "gaussian", "--no-model"}, // no validation split
            {"--pred", data.toString(), "--target", data.toString(), "--modality", "pet", "--baseline", "gaussian"},
        };
        String[] expected = {"median", "--no-model", "--out", "validation", "--data"};
        for (int i = 0; i < bad.length; i++) {
            StringWriter err = new StringWriter();
            CommandLine cl = new CommandLine(new EvalCommand());
            cl.setErr(new PrintWriter(err));
            cl.setExecutionExceptionHandler((e, c, p) -> {
                c.getErr().println(e.getMessage());
                return 1;
            });
            assertEquals(1, cl.execute(bad[i]), String.join(" ", bad[i]));
            assertTrue(err.toString().contains(expected[i]), err.toString());
        }
        assertFalse(Files.exists(tmp.resolve("o")));
    }
}
