package org.restorerwkv.spark;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The main class of restore-rwkv-spark.jar (what {@code restore-rwkv spark} runs): spark-submit of
 * {@link RestoreJob} from this module's build, without a Spark installation. The spark-submit options
 * below go to Spark, everything else to the job. It adds what the job needs: the libraries in
 * {@code lib/} next to this jar as {@code --jars} for a cluster (not for a local master, which has
 * them already, nor when spark.executor.extraClassPath says where the executors find them),
 * and the executors' Java options (the vector module, offline DJL). The jar's manifest opens the JDK
 * packages Spark needs on Java 17 (attribute Add-Opens; {@code restore-rwkv spark} turns it into
 * {@code --add-opens} options of the driver's JVM).
 */
public final class Submit {

    /** spark-submit options that take a value and are passed to Spark. */
    static final Set<String> SPARK_OPTIONS = Set.of("--master", "--conf", "--executor-memory", "--executor-cores",
            "--total-executor-cores", "--num-executors", "--name", "--properties-file", "--driver-memory",
            "--deploy-mode");

    static final String EXECUTOR_JAVA_OPTIONS = "--add-modules jdk.incubator.vector -Dai.djl.offline=true";

    private Submit() {}

    public static void main(String[] args) throws IOException {
        Path jar = ownJar();
        String[] submit = arguments(args, jar, jar == null ? null : jar.resolveSibling("lib"));
        if (submit == null) {
            System.err.println("restore-rwkv spark: --master local[N]|spark://HOST:PORT is required"
                    + " (the job's options: --help after it)");
            System.exit(2);
        }
        org.apache.spark.deploy.SparkSubmit.main(submit);
    }

    /** The spark-submit arguments for a command line, or null without --master. */
    static String[] arguments(String[] args, Path appJar, Path libs) throws IOException {
        List<String> spark = new ArrayList<>();
        List<String> job = new ArrayList<>();
        String master = null;
        boolean executorOptions = false;
        boolean executorClassPath = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (SPARK_OPTIONS.contains(name)) {
                String value = a.contains("=") ? a.substring(a.indexOf('=') + 1) : (i + 1 < args.length ? args[++i] : "");
                spark.add(name);
                spark.add(value);
                if (name.equals("--master")) {
                    master = value;
                }
                executorOptions |= name.equals("--conf") && value.startsWith("spark.executor.extraJavaOptions=");
                executorClassPath |= name.equals("--conf") && value.startsWith("spark.executor.extraClassPath=");
            } else {
                job.add(a);
            }
        }
        if (master == null) {
            return null;
        }
        List<String> out = new ArrayList<>(spark);
        out.add("--class");
        out.add(RestoreJob.class.getName());
        if (!executorOptions) {
            out.add("--conf");
            out.add("spark.executor.extraJavaOptions=" + EXECUTOR_JAVA_OPTIONS);
        }
        if (!master.startsWith("local") && !executorClassPath && libs != null && Files.isDirectory(libs)) {
            try (Stream<Path> s = Files.list(libs)) {
                String jars = s.filter(p -> p.toString().endsWith(".jar")).sorted().map(Path::toString)
                        .collect(Collectors.joining(","));
                if (!jars.isEmpty()) {
                    out.add("--jars");
                    out.add(jars);
                }
            }
        }
        out.add(appJar == null ? "spark-internal" : appJar.toString());
        out.addAll(job);
        return out.toArray(new String[0]);
    }

    /** This class's jar, or null when run from a classes folder. */
    private static Path ownJar() {
        try {
            Path p = Path.of(Submit.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return p.toString().endsWith(".jar") ? p : null;
        } catch (URISyntaxException | SecurityException e) {
            return null;
        }
    }
}
