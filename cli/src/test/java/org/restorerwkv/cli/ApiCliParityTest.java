package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.TestResources;
import org.restorerwkv.api.RestorationModel;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

/** The command line is a thin shell over the library: both give the same voxels. */
class ApiCliParityTest {

    @TempDir Path dir;

    @Test
    void mriModelThroughTheApiAndThroughRestoreGiveIdenticalOutput() throws Exception {
        Path in = TestResources.path("io/ch2_crop_float32.nii.gz");
        Path out = dir.resolve("cli.nii.gz");
        int rc = Main.run("restore", "--weights", "builtin:mri-sr-light", "--modality", "mri", "--quiet",
                "--input", in.toString(), "--output", out.toString());
        assertEquals(0, rc);
        Volume scan = VolumeFormats.read(in);
        float[] api;
        try (RestorationModel model = RestorationModel.load("builtin:mri-sr-light")) {
            api = model.restore(scan, Modality.MRI).voxels();
        }
        assertArrayEquals(api, VolumeFormats.read(out).voxels());
    }
}
