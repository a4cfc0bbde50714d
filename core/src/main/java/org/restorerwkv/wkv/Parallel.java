package org.restorerwkv.wkv;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * The thread pool of the fused CPU kernels. Work is split into as many contiguous chunks as there
 * are threads; the calling thread runs the first chunk itself, so with one thread everything runs
 * on the caller (and its CPU time measures the whole kernel).
 */
public final class Parallel {

    private static volatile ExecutorService pool;
    private static volatile int threads = Runtime.getRuntime().availableProcessors();

    private Parallel() {}

    /** Sets how many threads the kernels use (default: available processors). */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1");
        }
        if (n != threads && pool != null) {
            pool.shutdown();
            pool = null;
        }
        threads = n;
    }

    public static int threads() {
        return threads;
    }

    /** Runs {@code body.accept(i)} for every i in [0, tasks), spread over the threads. */
    public static void forEach(int tasks, IntConsumer body) {
        int n = Math.min(threads, tasks);
        if (n <= 1) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        ExecutorService ex = pool();
        List<Future<?>> fs = new ArrayList<>(n - 1);
        for (int p = 1; p < n; p++) {
            int from = (int) ((long) tasks * p / n);
            int to = (int) ((long) tasks * (p + 1) / n);
            fs.add(ex.submit(() -> {
                for (int i = from; i < to; i++) {
                    body.accept(i);
                }
            }));
        }
        RuntimeException failure = null;
        Error fatal = null;
        try {
            int to = tasks / n;
            for (int i = 0; i < to; i++) {
                body.accept(i);
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        // wait for every chunk even after a failure: none may still write into the caller's arrays
        for (Future<?> f : fs) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = failure != null ? failure : new IllegalStateException("kernel interrupted", e);
            } catch (ExecutionException e) {
                // the chunk's own exception, so the caller sees what went wrong rather than "kernel failed"
                if (e.getCause() instanceof Error err) {
                    fatal = fatal != null ? fatal : err;
                } else {
                    failure = failure != null ? failure : e.getCause() instanceof RuntimeException r ? r
                            : new IllegalStateException("kernel failed: " + e.getCause(), e.getCause());
                }
            }
        }
        if (fatal != null) {
            throw fatal;
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static synchronized ExecutorService pool() {
        if (pool == null) {
            pool = Executors.newFixedThreadPool(threads - 1, r -> {
                Thread t = new Thread(r, "restore-rwkv-kernel");
                t.setDaemon(true);
                return t;
            });
        }
        return pool;
    }
}
