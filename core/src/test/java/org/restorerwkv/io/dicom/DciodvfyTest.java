package org.restorerwkv.io.dicom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.restorerwkv.io.IoFixtures.resource;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

/**
 * Every kind of written file passes Debian's dciodvfy (dicom3tools) without an Error line that its
 * source does not already have. Runs when dciodvfy is on the PATH (.ci/run installs it).
 */
class DciodvfyTest {

    @TempDir
    Path tmp;

    static Path dciodvfy;

    @BeforeAll
    static void find() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, "dciodvfy");
            if (Files.isExecutable(p)) {
                dciodvfy = p;
                return;
            }
        }
        Assumptions.abort("dciodvfy (Debian package dicom3tools) is not installed: conformance not checked");
    }

    /** dciodvfy's Error lines for a file. */
    static Set<String> errors(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(dciodvfy.toString(), file.toString()).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            p.getInputStream().transferTo(out);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError("dciodvfy did not finish in 60 s on " + file);
            }
        } finally {
            p.destroyForcibly(); // only the process this test started
        }
        Set<String> errors = new TreeSet<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith("Error")) {
                // a bad UID of the source is flagged again where the output references it (Source Image
                // Sequence): the same error, so compare the UID, not the attribute it sits in
                int in = line.indexOf("\" in (");
                errors.add(line.startsWith("Error - Illegal root for UID") && in > 0 ? line.substring(0, in + 1) : line.strip());
            }
        }
        return errors;
    }

    private static Path first(Path out) throws IOException {
        if (!Files.isDirectory(out)) {
            return out;
        }
        try (Stream<Path> s = Files.list(out)) {
            return s.sorted().findFirst().orElseThrow();
        }
    }

    private void check(String kind, Path source, Path written) throws IOException, InterruptedException {
        Set<String> before = source == null ? Set.of() : errors(source);
        Set<String> after = errors(first(written));
        after.removeAll(before);
        assertTrue(after.isEmpty(), kind + ": new dciodvfy errors on " + written + ":\n" + String.join("\n", after));
    }

    private static float[] plus(float[] v, float d) {
        float[] r = v.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] += d;
        }
        return r;
    }

    @Test
    void everyWrittenKindAddsNoError() throws Exception {
        Path ct = resource("CT_small.dcm");
        Volume ctv = VolumeFormats.read(ct);
        Path ctOut = tmp.resolve("ct.dcm");
        VolumeFormats.write(ctOut, ctv.withVoxels(plus(ctv.voxels(), 0.25f)), Derivation.restored("builtin:ct"));
        check("CT restored", ct, ctOut);

        Path mr = resource("MR_small.dcm");
        Volume mrv = VolumeFormats.read(mr);
        Path mrOut = tmp.resolve("mr.dcm");
        VolumeFormats.write(mrOut, mrv.withVoxels(plus(mrv.voxels(), 0.3f)), Derivation.restored("builtin:mri"));
        check("MR restored", mr, mrOut);

        Path sim = tmp.resolve("sim.dcm");
        VolumeFormats.write(sim, ctv, Derivation.simulated("low-dose CT at dose 0.25"));
        check("CT simulated", ct, sim);

        Path sc = tmp.resolve("sc");
        VolumeFormats.convert(resource("ch2_crop_int16.nii.gz"), sc, Derivation.converted()
                .withIdentifiers(new Derivation.Identifiers("Doe^Jane", "P1", null, "S1", "A1")));
        check("SC from NIfTI", null, sc);

        Path mf = resource("codec/MF_jpeg_lossless_bot.dcm");
        Path mfOut = tmp.resolve("mf");
        VolumeFormats.convert(mf, mfOut);
        check("from a multi-frame source", mf, mfOut);

        for (String c : List.of("codec/CT_j2k_lossless.dcm", "codec/MR8_jpeg_baseline.dcm", "codec/MR_j2k_lossy.dcm")) {
            Path out = tmp.resolve(Path.of(c).getFileName().toString());
            VolumeFormats.convert(resource(c), out);
            check("from compressed " + c, resource(c), out);
        }
    }

    @Test
    void petAddsNoError() throws Exception {
        // no PET file with a licence to ship: the brain series relabelled as PET, source and output both checked
        Path src = tmp.resolve("pet-src");
        Files.createDirectories(src);
        for (String f : new String[] {"brain_002.dcm", "brain_003.dcm", "brain_004.dcm"}) {
            Path in = resource("brain_series/" + f);
            DicomDataset ds = DicomParser.parse(Files.readAllBytes(in), in);
            ds.put(DicomElement.of(0x00080060, "CS", "PT".getBytes(StandardCharsets.US_ASCII)));
            ds.put(DicomElement.of(0x00080016, "UI", DicomWriter.PET_IMAGE.getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            for (DicomElement e : ds.elements()) {
                if (e.group() != 2) {
                    DicomWriter.writeElement(body, e);
                }
            }
            Files.write(src.resolve(f), DicomStrictTest.part10(DicomTransferSyntax.EXPLICIT_LE, body.toByteArray()));
        }
        Volume v = VolumeFormats.read(src);
        float[] suv = v.voxels().clone();
        for (int i = 0; i < suv.length; i++) {
            suv[i] /= 97f;
        }
        Path out = tmp.resolve("pet");
        VolumeFormats.write(out, v.withVoxels(suv), Derivation.simulated("PET low count at fraction 0.25"));
        check("PET simulated", src.resolve("brain_002.dcm"), out);
    }
}
