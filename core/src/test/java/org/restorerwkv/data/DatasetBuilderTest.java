package org.restorerwkv.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.TestResources;
import org.restorerwkv.degrade.Degradations;
import org.restorerwkv.degrade.Phantoms;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

class DatasetBuilderTest {

    @TempDir Path dir;

    private static final double[] SPLIT = {0.8, 0.1, 0.1};

    @Test
    void splitCountsFollowTheDocumentedRounding() {
        assertArrayEquals(new int[] {3, 1, 1}, DatasetBuilder.splitCounts(5, SPLIT));
        assertArrayEquals(new int[] {8, 1, 1}, DatasetBuilder.splitCounts(10, SPLIT));
        assertArrayEquals(new int[] {1, 1, 1}, DatasetBuilder.splitCounts(3, SPLIT));
        assertArrayEquals(new int[] {2, 0, 0}, DatasetBuilder.splitCounts(2, SPLIT)); // too few for three splits
        assertArrayEquals(new int[] {1, 0, 0}, DatasetBuilder.splitCounts(1, SPLIT));
        assertArrayEquals(new int[] {7, 3, 0}, DatasetBuilder.splitCounts(10, new double[] {0.7, 0.3, 0}));
        assertArrayEquals(new int[] {2, 2, 1}, DatasetBuilder.splitCounts(5, new double[] {0.4, 0.3, 0.3}));
        assertArrayEquals(new int[] {80, 10, 10}, DatasetBuilder.splitCounts(100, SPLIT));
        assertArrayEquals(new double[] {0.5, 0.25, 0.25}, DatasetBuilder.parseSplit("1/2, 0.25,1/4"));
        assertThrows(IllegalArgumentException.class, () -> DatasetBuilder.parseSplit("0.5,0.5"));
        assertThrows(IllegalArgumentException.class, () -> DatasetBuilder.parseSplit("0.8,0.1,0.2"));
        assertThrows(IllegalArgumentException.class, () -> DatasetBuilder.parseSplit("1.2,-0.1,-0.1"));
        assertThrows(IllegalArgumentException.class, () -> DatasetBuilder.parseSplit("a,b,c"));
    }

    @Test
    void assignmentIsASeededShuffleOfWholeScans() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            names.add("scan" + i);
        }
        Map<String, String> a = DatasetBuilder.assignSplits(names, SPLIT, 5);
        List<String> reversed = new ArrayList<>(names);
        java.util.Collections.reverse(reversed);
        assertEquals(a, DatasetBuilder.assignSplits(reversed, SPLIT, 5)); // input order does not matter
        assertEquals(names.size(), a.size());
        Map<String, Integer> count = new HashMap<>();
        a.values().forEach(s -> count.merge(s, 1, Integer::sum));
        assertEquals(Map.of("train", 16, "validation", 2, "test", 2), count);
        assertNotEquals(a, DatasetBuilder.assignSplits(names, SPLIT, 6));
        assertNotEquals(DatasetBuilder.scanSeed(5, "scan1"), DatasetBuilder.scanSeed(5, "scan2"));
        assertNotEquals(DatasetBuilder.scanSeed(5, "scan1"), DatasetBuilder.scanSeed(6, "scan1"));
    }

    /** Five 2-slice 48x48 CT phantoms of different contrast, as .npy. */
    private Path fiveScans() throws IOException {
        Path in = Files.createDirectories(dir.resolve("scans"));
        int n = 48;
        for (int s = 0; s < 5; s++) {
            float[] vox = new float[2 * n * n];
            float[] slice = Phantoms.sheppLogan(n, 2);
            for (int i = 0; i < vox.length; i++) {
                vox[i] = slice[i % (n * n)] * (1 + 0.1f * s) + (i >= n * n ? 10 : 0);
            }
            Npy.write(in.resolve("case" + s + ".npy"), new HostTensor(new long[] {2, n, n}, vox));
        }
        Files.writeString(in.resolve(".DS_Store"), "hidden entries are not scans");
        return in;
    }

    private static DatasetBuilder ct(long seed, int threads) {
        Simulation sim = Simulation.parse("ct-lowdose", Degradations.parseParams("dose=0.25,views=48"));
        return new DatasetBuilder(sim, null, SPLIT, seed, DatasetBuilder.Format.NPY, threads);
    }

    @Test
    void buildsMatchedPairsSplitByScanWithAManifest() throws Exception {
        Path in = fiveScans();
        Path root = dir.resolve("data");
        DatasetBuilder.Result r = ct(3, 2).build(in, root);
        assertArrayEquals(new int[] {3, 1, 1}, r.counts());
        assertEquals(root.toAbsolutePath().resolve("CT"), r.modalityDir());
        Map<String, String> splitOf = new HashMap<>();
        int[] seen = new int[3];
        for (int s = 0; s < 3; s++) {
            String part = DatasetBuilder.SPLITS.get(s);
            Set<String> lq = names(root.resolve("CT").resolve(part).resolve("LQ"));
            Set<String> hq = names(root.resolve("CT").resolve(part).resolve("HQ"));
            assertEquals(hq, lq, part + ": pairs matched by name");
            for (String f : lq) {
                assertEquals(null, splitOf.put(f, part), f + " is in two splits");
                Volume hqv = VolumeFormats.read(root.resolve("CT/" + part + "/HQ/" + f));
                Volume lqv = VolumeFormats.read(root.resolve("CT/" + part + "/LQ/" + f));
                Volume src = VolumeFormats.read(in.resolve(f));
                assertArrayEquals(src.voxels(), hqv.voxels(), f + ": HQ is the scan");
                assertEquals(2, lqv.depth());
                assertFalse(java.util.Arrays.equals(hqv.voxels(), lqv.voxels()), f + ": LQ is degraded");
                // the pair is reproducible by simulate with the scan's seed
                long seed = DatasetBuilder.scanSeed(3, f);
                Simulation sim = Simulation.parse("ct-lowdose", Degradations.parseParams("dose=0.25,views=48"));
                assertArrayEquals(sim.apply(src, seed, 1, in).voxels(), lqv.voxels(), f);
            }
            seen[s] = lq.size();
        }
        assertArrayEquals(new int[] {3, 1, 1}, seen);
        assertEquals(5, splitOf.size());

        JsonObject m = JsonParser.parseString(Files.readString(root.resolve("manifest-CT.json"))).getAsJsonObject();
        assertEquals("ct-lowdose", m.get("task").getAsString());
        assertEquals("0.25", m.getAsJsonObject("parameters").get("dose").getAsString());
        assertEquals(3, m.get("seed").getAsLong());
        var scans = m.getAsJsonArray("scans");
        assertEquals(5, scans.size());
        for (var e : scans) {
            JsonObject o = e.getAsJsonObject();
            assertEquals(splitOf.get(o.get("file").getAsString()), o.get("split").getAsString());
            assertEquals(DatasetBuilder.scanSeed(3, o.get("scan").getAsString()), o.get("seed").getAsLong());
        }
        try (Stream<Path> s = Files.list(root)) { // no temporary folder left behind
            assertEquals(Set.of("CT", "manifest-CT.json"),
                    new TreeSet<>(s.map(p -> p.getFileName().toString()).toList()));
        }

        // the same seed gives the same dataset on any number of threads
        Path again = dir.resolve("again");
        ct(3, 1).build(in, again);
        for (String f : splitOf.keySet()) {
            String rel = "CT/" + splitOf.get(f) + "/LQ/" + f;
            assertArrayEquals(Files.readAllBytes(root.resolve(rel)), Files.readAllBytes(again.resolve(rel)), rel);
        }
        // an existing modality folder is never written into
        String msg = assertThrows(InvalidInputException.class, () -> ct(3, 1).build(in, root)).getMessage();
        assertTrue(msg.contains("already exists"), msg);
        msg = assertThrows(InvalidInputException.class, () -> ct(3, 1).build(in, in.resolve("out"))).getMessage();
        assertTrue(msg.contains("inside the input folder"), msg);
    }

    @Test
    void dicomSeriesFolderIsOneScanAndNiftiOutputKeepsGeometry() throws Exception {
        Path in = Files.createDirectories(dir.resolve("mri"));
        Path series = Files.createDirectories(in.resolve("brain"));
        try (Stream<Path> s = Files.list(TestResources.path("io/brain_series"))) {
            for (Path p : s.toList()) {
                Files.copy(p, series.resolve(p.getFileName()));
            }
        }
        Files.copy(TestResources.path("io/ch2_crop_int16.nii.gz"), in.resolve("ch2.nii.gz"));
        Simulation sim = Simulation.parse("mri-sr", Map.of("scale", "4"));
        DatasetBuilder b = new DatasetBuilder(sim, null, new double[] {0.5, 0.5, 0}, 1, DatasetBuilder.Format.NIFTI_GZ, 2);
        DatasetBuilder.Result r = b.build(in, dir.resolve("root"));
        assertArrayEquals(new int[] {1, 1, 0}, r.counts());
        Volume src = VolumeFormats.read(series);
        Path lq = null;
        for (String part : List.of("train", "validation")) {
            Path p = dir.resolve("root/MRI/" + part + "/LQ/brain.nii.gz");
            lq = Files.exists(p) ? p : lq;
        }
        Volume out = VolumeFormats.read(lq);
        assertEquals(src.depth(), out.depth());
        assertEquals(src.height(), out.height());
        for (int i = 0; i < 16; i++) {
            assertEquals(src.affine()[i], out.affine()[i], 1e-3, "affine[" + i + "]");
        }
    }

    @Test
    void trainAxesWriteOnePairPerViewWithVoxelsKeepingTheirWorldPosition() throws Exception {
        Path train = Files.createDirectories(dir.resolve("train"));
        Path test = Files.createDirectories(dir.resolve("test"));
        Files.copy(TestResources.path("io/ch2_crop_int16.nii.gz"), train.resolve("ch2.nii.gz"));
        Files.copy(TestResources.path("io/ch2_crop_int16.nii.gz"), test.resolve("held.nii.gz"));
        Simulation sim = Simulation.parse("mri-sr", Map.of("scale", "4"));
        DatasetBuilder b = new DatasetBuilder(sim, null, SPLIT, 1, DatasetBuilder.Format.NIFTI_GZ, 2, 0,
                new int[] {0, 1, 2});
        DatasetBuilder.Result r = b.build(Map.of(Split.TRAIN, train, Split.TEST, test), dir.resolve("root"));
        assertEquals(List.of("ch2.nii.gz", "ch2.axis1.nii.gz", "ch2.axis2.nii.gz", "held.nii.gz"),
                r.entries().stream().map(DatasetBuilder.Entry::file).toList());
        assertEquals(Set.of("ch2.nii.gz", "ch2.axis1.nii.gz", "ch2.axis2.nii.gz"), names(dir.resolve("root/MRI/train/HQ")));
        assertEquals(Set.of("held.nii.gz"), names(dir.resolve("root/MRI/test/LQ")), "test keeps the stored slices only");
        Volume src = VolumeFormats.read(train.resolve("ch2.nii.gz"));
        for (int axis = 1; axis <= 2; axis++) {
            Volume hq = VolumeFormats.read(dir.resolve("root/MRI/train/HQ/ch2.axis" + axis + ".nii.gz"));
            Volume lq = VolumeFormats.read(dir.resolve("root/MRI/train/LQ/ch2.axis" + axis + ".nii.gz"));
            int[] shape = axis == 1 ? new int[] {src.height(), src.depth(), src.width()}
                    : new int[] {src.width(), src.depth(), src.height()};
            assertArrayEquals(shape, new int[] {hq.depth(), hq.height(), hq.width()}, "axis " + axis);
            // every voxel of the view sits where the stored voxel with its value sits
            for (int[] ijk : new int[][] {{0, 0, 0}, {3, 5, 2}, {hq.width() - 1, hq.height() - 1, hq.depth() - 1}}) {
                int i = ijk[0];
                int j = ijk[1];
                int k = ijk[2];
                int[] stored = axis == 1 ? new int[] {i, k, j} : new int[] {k, i, j}; // (i, j, k) of the source
                assertEquals(src.get(stored[2], stored[1], stored[0]), hq.get(k, j, i), "axis " + axis);
                assertArrayEquals(src.worldOf(stored[0], stored[1], stored[2]), hq.worldOf(i, j, k), 1e-4);
            }
            // the LQ view is the slice-wise degradation of the HQ view, as simulate would make it
            long seed = r.entries().get(axis).seed();
            for (int k : new int[] {0, hq.depth() / 2}) {
                assertArrayEquals(sim.bind(hq).op().apply(hq.slice(k), hq.height(), hq.width(),
                        org.restorerwkv.degrade.Seeds.forSlice(seed, k)), lq.slice(k), 1e-3f, "axis " + axis);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new DatasetBuilder(sim, null, SPLIT, 1,
                DatasetBuilder.Format.NPY, 1, 0, new int[] {0, 0}));
        assertThrows(IllegalArgumentException.class, () -> new DatasetBuilder(sim, null, SPLIT, 1,
                DatasetBuilder.Format.NPY, 1, 0, new int[] {3}));
    }

    @Test
    void synthVariantsAddRandomizedTrainPairsDeterministicallyAndLeaveHeldOutSplitsReal() throws Exception {
        Path train = Files.createDirectories(dir.resolve("train"));
        Path test = Files.createDirectories(dir.resolve("test"));
        Files.copy(TestResources.path("io/ch2_crop_int16.nii.gz"), train.resolve("ch2.nii.gz"));
        Files.copy(TestResources.path("io/ch2_crop_int16.nii.gz"), test.resolve("held.nii.gz"));
        Simulation sim = Simulation.parse("mri-sr", Map.of("scale", "4"));
        Map<Split, Path> folders = Map.of(Split.TRAIN, train, Split.TEST, test);
        DatasetBuilder.Result r = new DatasetBuilder(sim, null, SPLIT, 1, DatasetBuilder.Format.NIFTI_GZ, 2, 0,
                new int[] {0}, 2).build(folders, dir.resolve("a"));
        assertEquals(List.of("ch2.nii.gz", "ch2.synth1.nii.gz", "ch2.synth2.nii.gz", "held.nii.gz"),
                r.entries().stream().map(DatasetBuilder.Entry::file).toList());
        assertEquals(Set.of("held.nii.gz"), names(dir.resolve("a/MRI/test/HQ")), "held-out data stay real");
        Volume src = VolumeFormats.read(train.resolve("ch2.nii.gz"));
        Volume real = VolumeFormats.read(dir.resolve("a/MRI/train/HQ/ch2.nii.gz"));
        assertArrayEquals(src.voxels(), real.voxels(), "the real pair is written as without --synth");
        Volume s1 = VolumeFormats.read(dir.resolve("a/MRI/train/HQ/ch2.synth1.nii.gz"));
        Volume s2 = VolumeFormats.read(dir.resolve("a/MRI/train/HQ/ch2.synth2.nii.gz"));
        assertArrayEquals(new int[] {src.depth(), src.height(), src.width()}, new int[] {s1.depth(), s1.height(), s1.width()});
        assertFalse(java.util.Arrays.equals(src.voxels(), s1.voxels()));
        assertFalse(java.util.Arrays.equals(s1.voxels(), s2.voxels()));
        // the LQ of a variant is the mri-sr degradation of its HQ
        Volume l1 = VolumeFormats.read(dir.resolve("a/MRI/train/LQ/ch2.synth1.nii.gz"));
        int k = s1.depth() / 2;
        assertArrayEquals(sim.bind(s1).op().apply(s1.slice(k), s1.height(), s1.width(),
                org.restorerwkv.degrade.Seeds.forSlice(r.entries().get(1).seed(), k)), l1.slice(k), 1e-3f);
        // same seed, other thread count and fewer variants: the same first variant
        new DatasetBuilder(sim, null, SPLIT, 1, DatasetBuilder.Format.NIFTI_GZ, 1, 0, new int[] {0}, 1)
                .build(Map.of(Split.TRAIN, train), dir.resolve("b"));
        assertArrayEquals(s1.voxels(), VolumeFormats.read(dir.resolve("b/MRI/train/HQ/ch2.synth1.nii.gz")).voxels());
        assertTrue(Files.readString(dir.resolve("a/manifest-MRI.json")).contains("\"synth_variants\": 2"));
        assertThrows(IllegalArgumentException.class, () -> new DatasetBuilder(Simulation.parse("ct-lowdose", Map.of()),
                null, SPLIT, 1, DatasetBuilder.Format.NPY, 1, 0, new int[] {0}, 2));
        assertThrows(IllegalArgumentException.class, () -> new DatasetBuilder(sim, null, SPLIT, 1,
                DatasetBuilder.Format.NPY, 1, 0, new int[] {0}, -1));
    }

    @Test
    void petFromT1MakesPhantomPairs() throws Exception {
        Path in = Files.createDirectories(dir.resolve("t1"));
        Files.copy(TestResources.path("io/brain_series.crop.npy"), in.resolve("a.npy"));
        Files.copy(TestResources.path("io/MR_small.dcm"), in.resolve("b.dcm"));
        Simulation pet = Simulation.parse("pet-lowcount", Map.of("fraction", "0.25", "mode", "noiseless-input"));
        Simulation phantom = Simulation.parse(Simulation.PET_PHANTOM, Map.of());
        DatasetBuilder.Result r = new DatasetBuilder(pet, phantom, new double[] {0.5, 0, 0.5}, 9,
                DatasetBuilder.Format.NPY, 1).build(in, dir.resolve("root"));
        assertArrayEquals(new int[] {1, 0, 1}, r.counts());
        for (DatasetBuilder.Entry e : r.entries()) {
            Path hq = dir.resolve("root/PET/" + e.split() + "/HQ/" + e.file());
            float max = 0;
            for (float x : Npy.read(hq).data()) {
                max = Math.max(max, x);
            }
            assertTrue(max > 2 && max <= 8.0001, e.file() + ": HQ is an activity map in SUV, max " + max);
        }
        assertThrows(IllegalArgumentException.class,
                () -> new DatasetBuilder(Simulation.parse("mri-sr", Map.of("scale", "2")), phantom, SPLIT, 1,
                        DatasetBuilder.Format.NPY, 1));
    }

    @Test
    void scanNamesThatCollideAreRefused() throws Exception {
        Path in = Files.createDirectories(dir.resolve("dup"));
        Files.copy(TestResources.path("io/brain_series.crop.npy"), in.resolve("x.npy"));
        Files.copy(TestResources.path("io/ch2_crop_int16.nii.gz"), in.resolve("x.nii.gz"));
        String msg = assertThrows(InvalidInputException.class, () -> ct(1, 1).build(in, dir.resolve("r"))).getMessage();
        assertTrue(msg.contains("both be written as x.npy in "), msg);
        assertFalse(Files.exists(dir.resolve("r/CT")));
    }

    @Test
    void foldersGoWholeToTheirSplitAndEmptyEndSlicesAreLeftOut() throws Exception {
        Path in = fiveScans();
        Path train = Files.createDirectories(dir.resolve("t"));
        Path test = Files.createDirectories(dir.resolve("s"));
        for (int s = 0; s < 3; s++) {
            Files.copy(in.resolve("case" + s + ".npy"), train.resolve("case" + s + ".npy"));
        }
        // 4 slices: empty (air), phantom, phantom, empty
        int n = 48;
        float[] slice = Phantoms.sheppLogan(n, 2);
        float[] vox = new float[4 * n * n];
        java.util.Arrays.fill(vox, -1000);
        System.arraycopy(slice, 0, vox, n * n, n * n);
        System.arraycopy(slice, 0, vox, 2 * n * n, n * n);
        Volume four = Volume.of(4, n, n, vox, new double[] {2, 1, 1});
        VolumeFormats.write(test.resolve("ends.nii.gz"), four);
        assertArrayEquals(new int[] {1, 3}, DatasetBuilder.contentRange(four, 0.05));
        assertArrayEquals(new int[] {0, 4}, DatasetBuilder.contentRange(four, 0));

        Simulation sim = Simulation.parse("ct-lowdose", Degradations.parseParams("dose=0.25,views=48"));
        DatasetBuilder b = new DatasetBuilder(sim, null, SPLIT, 3, DatasetBuilder.Format.NIFTI_GZ, 2, 0.05);
        Path root = dir.resolve("root");
        DatasetBuilder.Result r = b.build(Map.of(Split.TRAIN, train, Split.TEST, test), root);
        assertArrayEquals(new int[] {3, 0, 1}, r.counts());
        assertEquals(Set.of("case0.nii.gz", "case1.nii.gz", "case2.nii.gz"), names(root.resolve("CT/train/HQ")));
        assertFalse(Files.exists(root.resolve("CT/validation"))); // a split given no folder stays empty
        assertEquals(Set.of("ends.nii.gz"), names(root.resolve("CT/test/LQ")));

        // the kept slices are slices 1..2 of the scan and of its simulate output, placed where they were
        Volume hq = VolumeFormats.read(root.resolve("CT/test/HQ/ends.nii.gz"));
        Volume lq = VolumeFormats.read(root.resolve("CT/test/LQ/ends.nii.gz"));
        assertEquals(2, hq.depth());
        assertArrayEquals(java.util.Arrays.copyOfRange(vox, n * n, 3 * n * n), hq.voxels());
        Volume full = sim.apply(VolumeFormats.read(test.resolve("ends.nii.gz")), DatasetBuilder.scanSeed(3, "ends.nii.gz"), 1, test);
        assertArrayEquals(java.util.Arrays.copyOfRange(full.voxels(), n * n, 3 * n * n), lq.voxels());
        assertArrayEquals(four.worldOf(0, 0, 1), hq.worldOf(0, 0, 0), 1e-6);
        Volume kept = VolumeFormats.read(root.resolve("CT/train/HQ/case0.nii.gz"));
        assertEquals(2, kept.depth()); // no empty slice to drop

        JsonObject m = JsonParser.parseString(Files.readString(root.resolve("manifest-CT.json"))).getAsJsonObject();
        assertEquals("input folder", m.get("split_by").getAsString());
        assertEquals(test.toAbsolutePath().toString(), m.getAsJsonObject("inputs").get("test").getAsString());
        assertFalse(m.getAsJsonObject("inputs").has("validation"));
        for (var e : m.getAsJsonArray("scans")) {
            JsonObject o = e.getAsJsonObject();
            if (o.get("scan").getAsString().equals("ends.nii.gz")) {
                assertEquals("[1,3]", o.get("slices").toString());
            }
        }
        // one name twice in a split is refused; the same name in two splits is fine
        Files.copy(in.resolve("case0.npy"), test.resolve("case0.npy"));
        b.build(Map.of(Split.TRAIN, train, Split.TEST, test), dir.resolve("root2"));
        Files.copy(in.resolve("case1.npy"), train.resolve("case1.nii.gz"));
        String msg = assertThrows(InvalidInputException.class,
                () -> b.build(Map.of(Split.TRAIN, train), dir.resolve("root3"))).getMessage();
        assertTrue(msg.contains("would both be written as case1.nii.gz in train"), msg);
        assertThrows(IllegalArgumentException.class, () -> new DatasetBuilder(sim, null, SPLIT, 3,
                DatasetBuilder.Format.NPY, 1, 1.5));
    }

    private static Set<String> names(Path d) throws IOException {
        Set<String> out = new HashSet<>();
        try (Stream<Path> s = Files.list(d)) {
            s.forEach(p -> out.add(p.getFileName().toString()));
        }
        return out;
    }
}
