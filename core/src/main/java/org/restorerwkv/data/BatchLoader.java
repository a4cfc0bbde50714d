package org.restorerwkv.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Builds training batches ahead of the training step on background threads. At most
 * {@code prefetch} batches are in flight; {@link #next()} returns them in iteration order. Each
 * batch is a pure function of (seed, iteration) ({@link PatchSampler}), so the data does not
 * depend on thread timing.
 */
public final class BatchLoader implements AutoCloseable {

    private final PatchSampler sampler;
    private final ExecutorService pool;
    private final ArrayDeque<Future<Batch>> queue = new ArrayDeque<>();
    private final int prefetch;
    private long nextToSubmit;

    /** Starts loading from {@code startIteration} with {@code workers} threads. */
    public BatchLoader(PatchSampler sampler, long startIteration, int workers, int prefetch) {
        if (workers < 1 || prefetch < 1) {
            throw new IllegalArgumentException("workers and prefetch must be >= 1");
        }
        this.sampler = sampler;
        this.prefetch = prefetch;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "batch-loader-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.nextToSubmit = startIteration;
        fill();
    }

    private void fill() {
        while (queue.size() < prefetch) {
            long it = nextToSubmit++;
            queue.add(pool.submit(() -> sampler.batch(it)));
        }
    }

    /** The next batch in iteration order (blocks until it is built). */
    public Batch next() throws IOException {
        Future<Batch> f = queue.poll();
        fill();
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while loading a batch", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException("batch loading failed", c);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
