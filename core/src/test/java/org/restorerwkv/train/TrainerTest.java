package org.restorerwkv.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.checkpoint.Safetensors;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.TinyDatasets;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.model.ModelConfig;

class TrainerTest {

    /** A tiny Restore-RWKV: dim 4, one RWKV block in encoder and decoder level 1. */
    static final ModelConfig TINY = new ModelConfig(1, 1, 4, new int[] {1, 0, 0, 0}, 0, 2, 4);

    @TempDir
    Path tmp;

    private Path data() throws Exception {
        Path root = tmp.resolve("data");
        TinyDatasets.write(root, Modality.CT, "train", 2, 1, 32, 32, 1);
        TinyDatasets.write(root, Modality.CT, "validation", 1, 1, 40, 36, 2);
        return root;
    }

    private TrainOptions.Builder options(Path root, Path run, long iterations) {
        return TrainOptions.builder(root, run).modalities(List.of(Modality.CT)).model(TINY).iterations(iterations)
                .batchSize(2).patchSize(16).lr(1e-3).minLr(1e-5).seed(7).workers(2).prefetch(3);
    }

    private static List<Double> run(Trainer t) throws Exception {
        List<Double> losses = new ArrayList<>();
        t.setListener(s -> losses.add(s.loss()));
        t.run();
        return losses;
    }

    @Test
    void tinyModelOverfitsTinyDataset() throws Exception {
        Path run = tmp.resolve("run");
        TrainOptions o = options(data(), run, 60).valEvery(30).build();
        Trainer t = new Trainer(o);
        List<Double> losses = new ArrayList<>();
        t.setListener(s -> losses.add(s.loss()));
        Trainer.Result r = t.run();
        assertEquals(60, losses.size());
        double start = losses.get(0);
        double end = losses.subList(55, 60).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertTrue(end < start / 2, "loss " + start + " -> " + end);
        // run directory: checkpoints, logs
        assertEquals(61, Files.readAllLines(run.resolve(TrainLog.TRAIN_CSV)).size());
        assertEquals(1 + 2 * 2, Files.readAllLines(run.resolve(TrainLog.VAL_CSV)).size());
        assertTrue(Double.isFinite(r.bestScore()));
        Map<String, String> meta = Safetensors.readMetadata(run.resolve(Trainer.BEST));
        assertEquals(TINY, ModelConfig.fromJson(meta.get(Weights.CONFIG_METADATA)));
        // the intensity scaling it was trained with goes with the weights; restore and eval read it back
        assertEquals(IntensityScaling.MRI_PERCENTILE.id(), meta.get(IntensityScaling.METADATA));
        assertEquals(IntensityScaling.MRI_PERCENTILE, Weights.scalingOf(run.resolve(Trainer.BEST)));
        assertEquals(IntensityScaling.MRI_PERCENTILE, Weights.scalingOf(run.resolve(Trainer.LATEST)));
        // the best checkpoint is a plain state dict: it loads as a model; so does the latest, whose
        // optimizer state is left out, with the same weights
        try (var m = ai.djl.ndarray.NDManager.newBaseManager()) {
            Weights.loadModel(run.resolve(Trainer.BEST), null, m);
            assertTrue(Weights.read(run.resolve(Trainer.LATEST)).keySet().stream()
                    .anyMatch(k -> k.startsWith(Weights.OPTIMIZER_PREFIX)));
            var latest = Weights.loadModel(run.resolve(Trainer.LATEST), null, m).stateDict();
            var saved = Weights.read(run.resolve(Trainer.LATEST));
            latest.forEach((k, w) -> assertArrayEquals(saved.get(k).data(), w.data(), 0f, k));
        }
    }

    /** Gradient checkpointing changes memory, not the run: the same losses step by step. */
    @Test
    void checkpointedRunRepeatsThePlainOne() throws Exception {
        Path root = data();
        List<Double> plain = run(new Trainer(options(root, tmp.resolve("plain"), 8).valEvery(0).build()));
        List<Double> ckpt = run(new Trainer(options(root, tmp.resolve("ckpt"), 8).valEvery(0).checkpointing(true).build()));
        assertEquals(8, ckpt.size());
        for (int i = 0; i < 8; i++) {
            assertEquals(plain.get(i), ckpt.get(i), 1e-5, "iteration " + (i + 1));
        }
    }

    @Test
    void resumedRunRepeatsTheUninterruptedOne() throws Exception {
        Path root = data();
        List<Double> full = run(new Trainer(options(root, tmp.resolve("full"), 12).valEvery(0).checkpointEvery(5).build()));

        Path run = tmp.resolve("killed");
        Trainer first = new Trainer(options(root, run, 12).valEvery(0).checkpointEvery(5).build());
        List<Double> before = new ArrayList<>();
        first.setListener(s -> {
            before.add(s.loss());
            if (s.iteration() == 7) {
                throw new java.io.IOException("simulated kill after iteration 7");
            }
        });
        assertThrows(java.io.IOException.class, first::run);
        // without resume the run directory is refused
        assertThrows(InvalidInputException.class, () -> new Trainer(options(root, run, 12).valEvery(0).build()).run());

        Trainer resumed = new Trainer(options(root, run, 12).valEvery(0).checkpointEvery(5).resume(true).build());
        List<Double> after = new ArrayList<>();
        List<Double> lrs = new ArrayList<>();
        resumed.setListener(s -> {
            after.add(s.loss());
            lrs.add(s.lr());
        });
        resumed.run();
        // the checkpoint of iteration 5 is the restart point: iterations 6..12 again
        assertEquals(7, after.size());
        for (int i = 0; i < 7; i++) {
            assertEquals(full.get(5 + i), after.get(i), 1e-5, "iteration " + (6 + i));
        }
        CosineSchedule cs = new CosineSchedule(1e-3, 1e-5, 12);
        assertEquals(cs.at(5), lrs.get(0), 1e-15);
        for (int i = 0; i < 5; i++) {
            assertEquals(full.get(i), before.get(i), 1e-5);
        }
        // the log holds each iteration once, in order
        List<String> lines = Files.readAllLines(run.resolve(TrainLog.TRAIN_CSV));
        assertEquals(13, lines.size());
        for (int i = 1; i <= 12; i++) {
            assertTrue(lines.get(i).startsWith(i + ","), lines.get(i));
        }
    }

    @Test
    void resumeRefusesChangedDataOrder() throws Exception {
        Path root = data();
        Path run = tmp.resolve("run");
        new Trainer(options(root, run, 2).valEvery(0).checkpointEvery(2).build()).run();
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new Trainer(options(root, run, 2).valEvery(0).seed(8).resume(true).build()).run());
        assertTrue(e.getMessage().contains("seed"), e.getMessage());
    }
}
