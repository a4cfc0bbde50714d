package org.restorerwkv.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shortcut's split of a command line into spark-submit's arguments and the job's. */
class SubmitTest {

    @TempDir
    Path dir;

    @Test
    void sparkOptionsGoToSparkTheRestToTheJob() throws IOException {
        Path app = Files.createFile(dir.resolve("restore-rwkv-spark.jar"));
        Path lib = Files.createDirectories(dir.resolve("lib"));
        Files.createFile(lib.resolve("b.jar"));
        Files.createFile(lib.resolve("a.jar"));
        String[] local = Submit.arguments(new String[] {"--master", "local[2]", "--output", "o", "--conf=spark.x=1",
            "--manifest", "m.txt"}, app, lib);
        assertEquals(List.of("--master", "local[2]", "--conf", "spark.x=1", "--class", RestoreJob.class.getName(),
                "--conf", "spark.executor.extraJavaOptions=" + Submit.EXECUTOR_JAVA_OPTIONS, app.toString(),
                "--output", "o", "--manifest", "m.txt"), List.of(local));

        String[] cluster = Submit.arguments(new String[] {"--master=spark://h:7077", "--input-dir", "d"}, app, lib);
        assertEquals(List.of("--master", "spark://h:7077", "--class", RestoreJob.class.getName(), "--conf",
                "spark.executor.extraJavaOptions=" + Submit.EXECUTOR_JAVA_OPTIONS, "--jars",
                lib.resolve("a.jar") + "," + lib.resolve("b.jar"), app.toString(), "--input-dir", "d"), List.of(cluster));

        String[] shared = Submit.arguments(new String[] {"--master", "spark://h:7077", "--conf",
            "spark.executor.extraClassPath=/x/*", "--input-dir", "d"}, app, lib);
        assertEquals(-1, List.of(shared).indexOf("--jars"));
        assertNull(Submit.arguments(new String[] {"--input-dir", "d"}, app, lib));
    }
}
