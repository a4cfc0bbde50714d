package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.TinyDatasets;
import picocli.CommandLine;

class TrainEvalCommandTest {

    @TempDir
    Path tmp;

    @Test
    void trainThenEvaluateTheBestCheckpoint() throws Exception {
        Path data = tmp.resolve("data");
        TinyDatasets.write(data, Modality.PET, "train", 1, 1, 16, 16, 1);
        TinyDatasets.write(data, Modality.PET, "validation", 1, 1, 16, 16, 2);
        TinyDatasets.write(data, Modality.PET, "test", 1, 1, 20, 12, 3);
        Path config = tmp.resolve("tiny.json");
        Files.writeString(config, "{\"inp_channels\":1,\"out_channels\":1,\"dim\":4,\"num_blocks\":[1,0,0,0],"
                + "\"num_refinement_blocks\":0}");
        Path run = tmp.resolve("run");
        int rc = new CommandLine(new TrainCommand()).execute("--data", data.toString(), "--run-dir", run.toString(),
                "--modalities", "pet", "--config", config.toString(), "--iterations", "3", "--batch-size", "1",
                "--patch-size", "16", "--val-every", "3", "--seed", "5");
        assertEquals(0, rc);
        assertTrue(Files.exists(run.resolve("best.safetensors")));
        assertTrue(Files.size(run.resolve(TrainProgress.PLOT)) > 1000, "train draws curves.png from its logs");
        Path out = tmp.resolve("eval");
        Path report = tmp.resolve("report.csv");
        rc = new CommandLine(new EvalCommand()).execute("--weights", run.resolve("best.safetensors").toString(),
                "--data", data.toString(), "--modalities", "pet", "--out", out.toString(), "--report", report.toString());
        assertEquals(0, rc);
        assertTrue(Files.exists(out.resolve("PET/case00.nii.gz")));
        assertTrue(Files.readString(report).contains("MEAN_PET"));
        // comparing the saved restoration with the target through --pred/--target gives the same PSNR
        Path report2 = tmp.resolve("report2.csv");
        rc = new CommandLine(new EvalCommand()).execute("--pred", out.resolve("PET").toString(), "--target",
                data.resolve("PET/test/HQ").toString(), "--modality", "pet", "--report", report2.toString());
        assertEquals(0, rc);
        String a = Files.readAllLines(report).get(1).split(",")[1];
        String b = Files.readAllLines(report2).get(1).split(",")[1];
        assertEquals(Double.parseDouble(a), Double.parseDouble(b), 1e-3);
        // with the baseline, the same restoration is reported beside the input and the Gaussian filter
        Path report3 = tmp.resolve("report3.csv");
        rc = new CommandLine(new EvalCommand()).execute("--weights", run.resolve("best.safetensors").toString(),
                "--data", data.toString(), "--modalities", "pet", "--baseline", "gaussian", "--report", report3.toString());
        assertEquals(0, rc);
        List<String> rows = Files.readAllLines(report3);
        assertEquals(List.of("MEAN_PET,input", "MEAN_PET,restored", "MEAN_PET,gaussian"), rows.subList(rows.size() - 3, rows.size())
                .stream().map(r -> r.split(",")[0] + "," + r.split(",")[4]).toList());
        String restoredMean = Files.readAllLines(report).stream().filter(r -> r.startsWith("MEAN_PET,")).findFirst().orElseThrow();
        assertEquals(restoredMean + ",restored,", rows.get(rows.size() - 2));
    }
}
