package org.restorerwkv.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the scans of a job: walking a folder as restore reads one, and reading manifests. */
class InputsTest {

    @TempDir
    Path dir;

    private final Configuration conf = new Configuration();

    @Test
    void aFolderIsWalkedAsRestoreReadsOne() throws IOException {
        touch("a/series/IM1");
        touch("a/series/IM2");
        touch("a/ct.nii.gz");
        touch("a/mixed/x.npy");
        touch("a/mixed/deeper/s/IM1.dcm");
        touch("a/.hidden");
        touch("a/_results.csv");
        List<Scan> scans = Inputs.fromFolder(new org.apache.hadoop.fs.Path(dir.resolve("a").toString()), conf);
        assertEquals(List.of("ct.nii.gz", "mixed/deeper/s", "mixed/x.npy", "series"),
                scans.stream().map(Scan::relative).toList());
        assertTrue(scans.get(3).input().startsWith("file:/"), scans.get(3).input());
        assertThrows(IOException.class,
                () -> Inputs.fromFolder(new org.apache.hadoop.fs.Path(dir.resolve("a/series").toString()), conf));
    }

    @Test
    void manifestsKeepRelativePathsAndRefuseCollisions() throws IOException {
        Path text = dir.resolve("m/list.txt");
        Files.createDirectories(text.getParent());
        Files.writeString(text, "# scans\n p1/ct.nii.gz \n\n/data/x/p2/mr.npy\nhdfs://nn:8020/data/x/p3/s\n");
        List<Scan> scans = Inputs.fromManifest(new org.apache.hadoop.fs.Path(text.toString()), null, conf);
        assertEquals(List.of("p1/ct.nii.gz", "data/x/p2/mr.npy", "data/x/p3/s"), scans.stream().map(Scan::relative).toList());
        assertEquals("file:" + dir.resolve("m/p1/ct.nii.gz"), scans.get(0).input());
        assertEquals("hdfs://nn:8020/data/x/p3/s", scans.get(2).input());
        List<Scan> based = Inputs.fromManifest(new org.apache.hadoop.fs.Path(text.toString()), "/data/x", conf);
        assertEquals("p2/mr.npy", based.get(1).relative());

        Path csv = dir.resolve("m/list.csv");
        Files.writeString(csv, "input,note\n\"a,b/ct.nii\",x\nc.npy,y\n");
        assertEquals(List.of("a,b/ct.nii", "c.npy"), Inputs.fromManifest(new org.apache.hadoop.fs.Path(csv.toString()), null, conf)
                .stream().map(Scan::relative).toList());

        Files.writeString(text, "p1/ct.nii.gz\n/p1/ct.nii.gz\n");
        IOException twice = assertThrows(IOException.class,
                () -> Inputs.fromManifest(new org.apache.hadoop.fs.Path(text.toString()), null, conf));
        assertTrue(twice.getMessage().contains("two entries would both write p1/ct.nii.gz"), twice.getMessage());
        Files.writeString(text, "../escape.nii\n");
        assertThrows(IOException.class, () -> Inputs.fromManifest(new org.apache.hadoop.fs.Path(text.toString()), null, conf));
    }

    private void touch(String rel) throws IOException {
        Path p = dir.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.write(p, new byte[] {1});
    }
}
