package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.TinyDatasets;

/**
 * A training process killed with SIGKILL between checkpoints, then resumed, repeats the losses
 * of an uninterrupted run with the same seed.
 */
class TrainKillTest {

    @TempDir Path tmp;

    private String[] args(Path data, Path run, Path config, boolean resume) {
        List<String> a = new ArrayList<>(List.of("train", "--data", data.toString(), "--out", run.toString(),
                "--modalities", "ct", "--config", config.toString(), "--iterations", "14", "--batch", "2",
                "--patch", "16", "--val-every", "0", "--checkpoint-every", "4", "--seed", "11", "--lr", "1e-3",
                "--no-progress"));
        if (resume) {
            a.add("--resume");
        }
        return a.toArray(String[]::new);
    }

    @Test
    void sigkilledRunResumesToTheUninterruptedLosses() throws Exception {
        Path data = tmp.resolve("data");
        TinyDatasets.write(data, Modality.CT, "train", 2, 1, 32, 32, 1);
        Path config = tmp.resolve("tiny.json");
        Files.writeString(config, "{\"inp_channels\":1,\"out_channels\":1,\"dim\":4,\"num_blocks\":[1,0,0,0],"
                + "\"num_refinement_blocks\":0}");
        Path whole = tmp.resolve("whole");
        assertEquals(0, Main.run(args(data, whole, config, false)));

        Path killed = tmp.resolve("killed");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args(data, killed, config, false)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        Path log = killed.resolve("train_log.csv");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        // kill once a checkpoint exists and the run is past it, before it ends
        while (p.isAlive() && System.nanoTime() < deadline && lines(log) < 6) {
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the child finished before it could be killed: " + Files.readString(tmp.resolve("child.log")));
        p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no flushing
        p.waitFor();
        int before = lines(log);
        assertTrue(before < 14, "killed after " + before + " iterations");

        assertEquals(0, Main.run(args(data, killed, config, true)));
        List<Double> expected = losses(whole.resolve("train_log.csv"));
        List<Double> resumed = losses(log);
        assertEquals(14, expected.size());
        assertEquals(expected.size(), resumed.size(), "one row per iteration, none repeated");
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i), resumed.get(i), 1e-5, "loss at iteration " + (i + 1));
        }
    }

    private static int lines(Path csv) throws Exception {
        return Files.exists(csv) ? Math.max(0, Files.readAllLines(csv).size() - 1) : 0;
    }

    private static List<Double> losses(Path csv) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(csv).subList(1, Files.readAllLines(csv).size())) {
            out.add(Double.parseDouble(line.split(",")[1]));
        }
        return out;
    }
}
