package org.restorerwkv.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.TestResources;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

/** The README's library snippet, compiled and run: the README shows exactly the marked method below. */
class ReadmeSnippetTest {

    @TempDir Path dir;

    // README:begin
    static void restoreMri(Path input, Path output) throws IOException {
        try (RestorationModel model = RestorationModel.load("builtin:mri-sr-light")) {
            Volume scan = VolumeFormats.read(input);
            Volume restored = model.restore(scan, Modality.MRI);
            VolumeFormats.write(output, restored);
        }
    }
    // README:end

    @Test
    void theSnippetRestoresAScanAndTheReadmeShowsItVerbatim() throws IOException {
        Path in = TestResources.path("io/ch2_crop_float32.nii.gz");
        Path out = dir.resolve("restored.nii.gz");
        restoreMri(in, out);
        Volume a = VolumeFormats.read(in);
        Volume b = VolumeFormats.read(out);
        assertEquals(a.depth(), b.depth());
        assertArrayEquals(a.affine(), b.affine(), 0);
        try (RestorationModel model = RestorationModel.load("builtin:mri-sr-light")) {
            assertArrayEquals(model.restore(a, Modality.MRI).voxels(), b.voxels());
        }

        String source = Files.readString(Path.of("src/test/java/org/restorerwkv/api/ReadmeSnippetTest.java"),
                StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("// README:begin\\n(.*?)    // README:end", Pattern.DOTALL).matcher(source);
        assertTrue(m.find());
        String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
        assertTrue(normalized(readme).contains(normalized(m.group(1))),
                "README.md must show the snippet of ReadmeSnippetTest.restoreMri verbatim");
    }

    private static String normalized(String s) {
        return s.replaceAll("\\s+", " ").trim();
    }
}
