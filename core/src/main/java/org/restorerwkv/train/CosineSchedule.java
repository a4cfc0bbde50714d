package org.restorerwkv.train;

/**
 * Cosine annealing from {@code lr} to {@code minLr} over {@code total} steps (PyTorch's
 * CosineAnnealingLR with T_max = total, eta_min = minLr, stepped once per iteration):
 * lr(t) = minLr + (lr - minLr) (1 + cos(pi t / total)) / 2 for the step with 0-based index t.
 */
record CosineSchedule(double lr, double minLr, long total) {

    public CosineSchedule {
        if (!(lr > 0) || !(minLr >= 0) || minLr > lr || total < 1) {
            throw new IllegalArgumentException("need lr > 0, 0 <= minLr <= lr and total >= 1");
        }
    }

    /** The learning rate of the step with 0-based index t. */
    public double at(long t) {
        double c = Math.cos(Math.PI * Math.min(t, total) / total);
        return minLr + (lr - minLr) * (1 + c) / 2;
    }
}
