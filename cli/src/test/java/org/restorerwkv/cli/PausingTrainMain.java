package org.restorerwkv.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;

/**
 * The {@code train} command in a child process that stops after a given step: it writes a marker
 * file and then waits forever, so the test that kills it knows exactly where the run stands.
 * Arguments: ITERATION MARKER then the train command's own arguments.
 */
public final class PausingTrainMain {

    private PausingTrainMain() {}

    public static void main(String[] args) throws Exception {
        long pauseAt = Long.parseLong(args[0]);
        Path marker = Path.of(args[1]);
        TrainCommand cmd = new TrainCommand();
        cmd.afterStep = step -> {
            if (step.iteration() == pauseAt) {
                Files.writeString(marker, Long.toString(step.iteration()));
                try {
                    new CountDownLatch(1).await(); // until SIGKILL
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        System.exit(new CommandLine(cmd).execute(Arrays.copyOfRange(args, 2, args.length)));
    }
}
