package org.restorerwkv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.util.ArrayList;
import java.util.List;
import org.restorerwkv.io.FileErrors;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.OutputFileException;
import org.restorerwkv.train.TrainingDivergedException;
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

    /**
     * Runs a command line and returns its exit code: 0 ok, 1 failed (bad input, unwritable output,
     * bad argument: one line naming the file and the problem), 2 usage error, 3 internal error (a
     * bug: one line, and the trace with {@code --debug}). {@code --debug} anywhere before a
     * {@code --} prints the stack trace of every failure, causes included.
     */
    public static int run(String... args) {
        if (System.getProperty("ai.djl.offline") == null) {
            // libtorch ships in the jar: never reach for the network
            System.setProperty("ai.djl.offline", "true");
        }
        List<String> rest = new ArrayList<>();
        boolean debug = Boolean.getBoolean("restore.debug");
        boolean options = true;
        for (String a : args) {
            if (options && a.equals("--debug")) {
                debug = true;
            } else {
                options &= !a.equals("--");
                rest.add(a);
            }
        }
        boolean withTrace = debug;
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, c, pr) -> handle(e, c, withTrace));
        try {
            return cl.execute(rest.toArray(String[]::new));
        } catch (OutOfMemoryError | StackOverflowError e) {
            // the budgets (ReadLimits) keep inputs from getting here; a big model or batch still can
            PrintWriter err = cl.getErr();
            CommandLine.ParseResult pr = cl.getParseResult();
            String cmd = pr != null && pr.subcommand() != null ? pr.subcommand().commandSpec().name() : "";
            err.println("restore-rwkv " + cmd + ": " + (e instanceof OutOfMemoryError
                    ? "out of memory (" + e.getMessage() + "); give Java more with RESTORE_RWKV_JAVA_OPTS=-Xmx..., or a smaller --batch/--tile"
                    : "internal error: stack overflow"));
            if (withTrace) {
                e.printStackTrace(err);
            }
            err.flush();
            return e instanceof OutOfMemoryError ? 1 : 3;
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Exit code of an internal error (a bug, not a problem of the input). */
    static final int INTERNAL_ERROR = 3;

    /**
     * Expected failures print one line "restore-rwkv CMD: PATH: problem" (or "CMD: problem" for a
     * bad argument) and return 1; anything else is a bug and says so.
     */
    static int handle(Exception e, CommandLine cl, boolean debug) {
        PrintWriter err = cl.getErr();
        Throwable t = e instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : e;
        String line;
        int code = 1;
        if (t instanceof InvalidInputException || t instanceof OutputFileException) {
            line = firstLine(t.getMessage());
        } else if (t instanceof FileSystemException fs && fs.getFile() != null) {
            line = fs.getFile() + ": " + FileErrors.describe(fs);
        } else if (t instanceof IllegalArgumentException || t instanceof TrainingDivergedException) {
            line = firstLine(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
        } else if (t instanceof org.restorerwkv.pacs.PacsException) {
            line = firstLine(t.getMessage()); // names the URL path, the status and the server's reason
        } else if (t instanceof IOException) {
            line = "I/O error: " + FileErrors.describe(t);
        } else {
            line = "internal error: " + t.getClass().getName() + (t.getMessage() == null ? "" : ": " + firstLine(t.getMessage()))
                    + (debug ? "" : " (a bug: please report it; --debug prints the trace)");
            code = INTERNAL_ERROR;
        }
        err.println(cl.getCommandSpec().qualifiedName() + ": " + line);
        if (debug) {
            t.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse(s);
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
