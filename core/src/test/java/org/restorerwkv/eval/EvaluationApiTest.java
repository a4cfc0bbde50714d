package org.restorerwkv.eval;

import org.restorerwkv.model.ModelConfig;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.NpySliceSource;
import org.restorerwkv.data.PairedDataset;
import org.restorerwkv.data.Split;
import org.restorerwkv.data.TinyDatasets;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Npy;
import org.restorerwkv.eval.Evaluation;
import org.restorerwkv.eval.MetricAccumulator;
import org.restorerwkv.eval.SliceMetrics;
import org.restorerwkv.model.RestoreRwkv;

class EvaluationApiTest {

    @TempDir
    Path tmp;

    @Test
    void modelOverTestSplitSavesRestoredVolumesAndMetrics() throws Exception {
        Path root = tmp.resolve("data");
        TinyDatasets.write(root, Modality.PET, "test", 1, 2, 12, 10, 3); // a 2-slice stack, not multiples of 8
        TinyDatasets.write(root, Modality.CT, "test", 1, 1, 16, 16, 4);
        PairedDataset ds = new PairedDataset(root, Split.TEST, List.of(Modality.CT, Modality.PET), new NpySliceSource(), 0);
        Path out = tmp.resolve("out");
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(new ModelConfig(1, 1, 4, new int[] {1, 0, 0, 0}, 0, 2, 4), m, 1);
            Restorer restorer = new Restorer(model, m, 1);
            MetricAccumulator acc = SplitEvaluator.evaluateAll(restorer, ds, out);
            assertEquals(1, acc.count(Modality.CT));
            assertEquals(2, acc.count(Modality.PET));
            HostTensor saved = org.restorerwkv.io.VolumeFormats.read(out.resolve("PET/case00.nii.gz")).toHostTensor();
            assertEquals(List.of(2L, 12L, 10L), List.of(saved.shape()[0], saved.shape()[1], saved.shape()[2]));
            // the saved slice is the restored one in SUV: its metrics are the reported ones
            float[] slice1 = java.util.Arrays.copyOfRange(saved.data(), 120, 240);
            HostTensor hq = Npy.read(root.resolve("PET/test/HQ/case00.npy"));
            SliceMetrics direct = Evaluation.evaluate(Modality.PET, slice1,
                    java.util.Arrays.copyOfRange(hq.data(), 120, 240), 12, 10);
            SliceMetrics reported = acc.rows().stream().filter(r -> r.name().equals("PET/case00.npy#1")).findFirst()
                    .orElseThrow().metrics();
            assertEquals(reported.psnr(), direct.psnr(), 1e-3);
            assertTrue(Files.readAllLines(out.resolve("metrics.csv")).get(0).startsWith("NAME,PSNR"));
        }
    }

    @Test
    void predictionFoldersAreMatchedByName() throws Exception {
        Path root = tmp.resolve("d");
        TinyDatasets.write(root, Modality.MRI, "test", 2, 1, 16, 16, 5);
        Path hq = root.resolve("MRI/test/HQ");
        Path lq = root.resolve("MRI/test/LQ");
        MetricAccumulator same = FileComparison.compare(hq, hq, Modality.MRI, new NpySliceSource());
        assertEquals(2, same.count(Modality.MRI));
        assertEquals(Double.POSITIVE_INFINITY, same.mean(Modality.MRI).psnr());
        MetricAccumulator diff = FileComparison.compare(lq, hq, Modality.MRI, new NpySliceSource());
        assertTrue(diff.mean(Modality.MRI).psnr() < 40);
        Npy.write(lq.resolve("only-here.npy"), new HostTensor(new long[] {16, 16}, new float[256]));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> FileComparison.compare(lq, hq, Modality.MRI, new NpySliceSource()));
        assertTrue(e.getMessage().contains("only-here.npy"), e.getMessage());
    }
}
