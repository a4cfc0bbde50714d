package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's choice of JVM ({@code pick_java} in ./restore-rwkv), on fake JDK folders: each is a
 * bin/java that is never run and a release file, which is all the launcher reads.
 */
class LauncherJvmChoiceTest {

    @TempDir Path dir;

    private static final Path LAUNCHER = Path.of("..", "restore-rwkv").toAbsolutePath().normalize();

    private Path jdk(String name, String version, boolean vectorModule) throws IOException {
        Path home = dir.resolve(name);
        Files.createDirectories(home.resolve("bin"));
        Path java = home.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\nexit 97\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(home.resolve("release"), "JAVA_VERSION=\"" + version + "\"\nMODULES=\"java.base"
                + (vectorModule ? " jdk.incubator.vector" : "") + " java.logging\"\n");
        return java;
    }

    /** What pick_java prints with the PATH's java, the JDKs it searches, and the environment given. */
    private String pick(Path pathJava, List<Path> homes, Map<String, String> env) throws Exception {
        Path pathDir = Files.createDirectories(dir.resolve("path-" + System.nanoTime()));
        if (pathJava != null) {
            Files.createSymbolicLink(pathDir.resolve("java"), pathJava);
        }
        StringBuilder arr = new StringBuilder();
        for (Path h : homes) {
            arr.append(" '").append(h).append("'");
        }
        // only the directories with the fake java and the basic tools are on the PATH
        String script = "source '" + LAUNCHER + "'; jvm_homes=(" + arr + "); pick_java";
        List<String> cmd = new ArrayList<>(List.of("/bin/bash", "-c", script));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", pathDir + ":/usr/bin:/bin");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    @Test
    void anOlderJdkOnThePathGivesWayToTheNewestJdk25OrLaterWithTheVectorModule() throws Exception {
        Path j17 = jdk("jdk-17", "17.0.15", true);
        Path j25 = jdk("jdk-25", "25.0.3", true);
        Path j26 = jdk("jdk-26", "26", true);
        Path j27NoVector = jdk("jre-27", "27", false);
        Path j21 = jdk("jdk-21", "21.0.5", true);
        assertEquals(j26.toString(), pick(j17, List.of(j21, j25, j26, j27NoVector), Map.of()));
        assertEquals(j25.toString(), pick(j17, List.of(j21, j25), Map.of()));
        // nothing newer than 25: the PATH's java
        assertEquals("java", pick(j17, List.of(j21, j27NoVector), Map.of()));
        // the PATH's java is 25 or later already: kept
        assertEquals("java", pick(j25, List.of(j26), Map.of()));
    }

    @Test
    void explicitChoicesWin() throws Exception {
        Path j17 = jdk("jdk-17", "17.0.15", true);
        Path j25 = jdk("jdk-25", "25.0.3", true);
        assertEquals("/opt/my/java", pick(j17, List.of(j25), Map.of("RESTORE_RWKV_JAVA", "/opt/my/java")));
        assertEquals(j17.toString(), pick(j17, List.of(j25), Map.of("JAVA_HOME", dir.resolve("jdk-17").toString())));
    }
}
