package org.restorerwkv.cli;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.jar.JarFile;
import org.restorerwkv.io.InvalidInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code restore-rwkv spark ...}: submits the Spark job of the spark module (docs/spark.md) in a JVM
 * of its own, with the spark module's jars (spark/target: the job, lib/, spark-lib/), so the command
 * line's own jar set holds no Spark. The JDK packages Spark opens on Java 17 come from the job jar's
 * manifest (Add-Opens), kept in one place, the spark module's build.
 */
@Command(name = "spark",
        description = {"Restore a whole archive on Spark: --master local[N]|spark://HOST:PORT, --manifest FILE or",
            "--input-dir DIR, --output OUT, and restore's model options; spark-submit options --conf K=V,",
            "--executor-memory, --total-executor-cores pass to Spark. 'spark --master local[1] --help' lists",
            "the job's options; docs/spark.md explains the results table and re-runs."})
public final class SparkCommand implements Callable<Integer> {

    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path target = sparkTarget();
        Path jar = target.resolve("restore-rwkv-spark.jar");
        if (!Files.isRegularFile(jar) || !Files.isDirectory(target.resolve("spark-lib"))) {
            throw new InvalidInputException(jar, "not built; run mvn -B package -DskipTests at the project root");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String opts = System.getenv("RESTORE_RWKV_SPARK_JAVA_OPTS");
        cmd.addAll(List.of((opts == null ? "-Xmx4g" : opts).trim().split("\\s+")));
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("-Dai.djl.offline=true");
        try (JarFile jf = new JarFile(jar.toFile())) {
            String opens = jf.getManifest().getMainAttributes().getValue("Add-Opens");
            for (String o : opens == null ? new String[0] : opens.trim().split("\\s+")) {
                cmd.add("--add-opens=" + o + "=ALL-UNNAMED");
            }
        }
        cmd.add("-cp");
        cmd.add(String.join(File.pathSeparator, jar.toString(), target.resolve("lib") + File.separator + "*",
                target.resolve("spark-lib") + File.separator + "*"));
        cmd.add("org.restorerwkv.spark.Submit");
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        return p.waitFor();
    }

    /** spark/target next to cli/target, where this command's jar or classes lie. */
    private static Path sparkTarget() {
        try {
            Path here = Path.of(SparkCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // cli/target/restore-rwkv.jar or cli/target/classes
            return here.getParent().getParent().getParent().resolve("spark").resolve("target");
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the program's jar", e);
        }
    }
}
