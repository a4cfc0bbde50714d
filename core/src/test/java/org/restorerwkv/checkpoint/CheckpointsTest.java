package org.restorerwkv.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;

class CheckpointsTest {
    @TempDir Path dir;

    private final Map<String, HostTensor> sd = new LinkedHashMap<>(Map.of(
            "w", new HostTensor(new long[] {2}, new float[] {0.5f, -4})));

    @Test
    void formatFollowsTheNameOnWriteAndTheContentOnRead() throws Exception {
        Path st = dir.resolve("w.safetensors");
        Path pth = dir.resolve("w.pth");
        Checkpoints.write(st, sd);
        Checkpoints.write(pth, sd);
        assertEquals(Map.of("format", "pt"), Safetensors.readMetadata(st));
        assertEquals(sd, PthReader.read(pth));
        // swapped names: the content decides
        Path stNamedPth = dir.resolve("really_safetensors.pth");
        Path pthNamedSt = dir.resolve("really_torch.safetensors");
        Files.copy(st, stNamedPth);
        Files.copy(pth, pthNamedSt);
        assertEquals(sd, Checkpoints.read(stNamedPth));
        assertEquals(sd, Checkpoints.read(pthNamedSt));
    }

    @Test
    void missingAndForeignFilesAreErrors() throws Exception {
        Path none = dir.resolve("none.pth");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Checkpoints.read(none));
        assertTrue(e.getMessage().startsWith(none + ": "), e.getMessage());
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "hello");
        assertThrows(InvalidInputException.class, () -> Checkpoints.read(text));
    }

    @Test
    void intensityScalingTravelsInSafetensorsMetadataOnly() throws Exception {
        Path st = dir.resolve("s.safetensors");
        Path pth = dir.resolve("s.pth");
        Weights.write(st, sd, null, IntensityScaling.MRI_PERCENTILE);
        Weights.write(pth, sd, null, IntensityScaling.MRI_PERCENTILE);
        assertEquals(IntensityScaling.MRI_PERCENTILE, Weights.scalingOf(st));
        assertEquals(IntensityScaling.FIXED, Weights.scalingOf(pth)); // a .pth has no metadata: the reference protocol
        Path plain = dir.resolve("plain.safetensors");
        Checkpoints.write(plain, sd);
        assertEquals(IntensityScaling.FIXED, Weights.scalingOf(plain));
        Path bad = dir.resolve("bad.safetensors");
        Checkpoints.write(bad, sd, Map.of(IntensityScaling.METADATA, "zscore"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Weights.scalingOf(bad));
        assertTrue(e.getMessage().startsWith(bad + ": unknown intensity scaling 'zscore'"), e.getMessage());
    }
}
