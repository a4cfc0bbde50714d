package org.restorerwkv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code restore-rwkv <command>}: each command is a thin shell over the library. */
@Command(
        name = "restore-rwkv",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Restore-RWKV medical image restoration (CT denoising, MRI super-resolution, PET low-count).",
        subcommands = {
            InfoCommand.class,
            RestoreCommand.class,
            DemoCommand.class,
            BenchCommand.class,
            ConvertCommand.class,
            SimulateCommand.class,
            MakeDatasetCommand.class,
            ErfCommand.class,
            TrainCommand.class,
            EvalCommand.class,
            PacsCommand.class,
            SparkCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (0 ok, 1 failed, 2 usage error). */
    public static int run(String... args) {
        if (System.getProperty("ai.djl.offline") == null) {
            // libtorch ships in the jar: never reach for the network
            System.setProperty("ai.djl.offline", "true");
        }
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Main::handle);
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Expected failures (bad files, bad arguments) print one line; anything else names its type. */
    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult pr) {
        PrintWriter err = cl.getErr();
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (t instanceof IOException || t instanceof IllegalArgumentException || t instanceof IllegalStateException) {
            err.println(cl.getCommandSpec().qualifiedName() + ": " + msg.lines().findFirst().orElse(msg));
        } else {
            err.println(cl.getCommandSpec().qualifiedName() + ": " + t.getClass().getName() + ": " + msg);
        }
        if (Boolean.getBoolean("restore.debug")) {
            t.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    /** The version from the jar manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"restore-rwkv " + (v == null ? "dev" : v)};
        }
    }
}
