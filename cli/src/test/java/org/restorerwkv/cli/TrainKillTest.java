package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
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
        List<String> a = new ArrayList<>(List.of("--data", data.toString(), "--out", run.toString(),
                "--modalities", "ct", "--config", config.toString(), "--iterations", "14", "--batch", "2",
                "--patch", "16", "--val-every", "0", "--checkpoint-every", "4", "--seed", "11", "--lr", "1e-3",
                "--no-progress"));
        if (resume) {
            a.add("--resume");
        }
        return a.toArray(String[]::new);
    }

    private static String[] train(String[] args) {
        List<String> a = new ArrayList<>(List.of("train"));
        a.addAll(List.of(args));
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
        assertEquals(0, Main.run(train(args(data, whole, config, false))));

        // the child stops after step 6 (past the checkpoint of step 4, before the one of step 8), says so
        // in a marker file and waits: killed there, it has logged 4 steps to disk and lost 2
        Path killed = tmp.resolve("killed");
        Path marker = tmp.resolve("paused");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), PausingTrainMain.class.getName(),
                "6", marker.toString()));
        cmd.addAll(List.of(args(data, killed, config, false)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        try (WatchService watch = tmp.getFileSystem().newWatchService()) {
            tmp.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            // the marker's appearance is the signal; the deadline only keeps a broken child from hanging the build
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) {
                WatchKey k = watch.poll(1, TimeUnit.SECONDS);
                if (k != null) {
                    k.pollEvents();
                    k.reset();
                }
            }
        }
        assertTrue(Files.exists(marker) && p.isAlive(), "the child did not pause at step 6: "
                + Files.readString(tmp.resolve("child.log")));
        p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no flushing
        p.waitFor();
        assertEquals(4, lines(killed.resolve("train_log.csv")), "on disk: the steps up to the checkpoint of step 4");

        assertEquals(0, Main.run(train(args(data, killed, config, true))));
        Path log = killed.resolve("train_log.csv");
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
