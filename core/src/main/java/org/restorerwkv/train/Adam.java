package org.restorerwkv.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.restorerwkv.io.HostTensor;

/**
 * Adam (Kingma and Ba) exactly as PyTorch's {@code torch.optim.Adam} with weight decay 0 and
 * amsgrad off, written over NDArrays so its state (exp_avg m, exp_avg_sq v, step) can be saved
 * and restored:
 *
 * <pre>
 * m = b1 m + (1 - b1) g ;  v = b2 v + (1 - b2) g^2
 * p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 *
 * {@link #step} also zeroes the gradients: the DJL PyTorch engine accumulates them across
 * gradient collectors.
 */
final class Adam {

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final LinkedHashMap<String, Parameter> params;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private long step;

    /** Optimizes the parameters whose arrays require gradients (frozen ones are skipped). */
    public Adam(Map<String, Parameter> parameters, double beta1, double beta2, double eps) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.params = new LinkedHashMap<>();
        parameters.forEach((k, p) -> {
            if (p.getArray().hasGradient()) {
                params.put(k, p);
                expAvg.put(k, p.getArray().zerosLike());
                expAvgSq.put(k, p.getArray().zerosLike());
            }
        });
    }

    /** Names of the optimized parameters. */
    public List<String> names() {
        return new ArrayList<>(params.keySet());
    }

    public long stepCount() {
        return step;
    }

    /** One update with learning rate {@code lr}, then zeroes the gradients. */
    public void step(double lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            NDArray p = e.getValue().getArray();
            NDArray m = expAvg.get(e.getKey());
            NDArray v = expAvgSq.get(e.getKey());
            // every temporary is attached to this scope, so nothing outlives the step
            try (NDManager scope = p.getManager().newSubManager()) {
                // scalars and temporaries of ops on p, m, v land in the scope (see ParameterScope)
                p.tempAttach(scope);
                m.tempAttach(scope);
                v.tempAttach(scope);
                NDArray g = p.getGradient();
                g.attach(scope);
                m.muli((float) beta1).addi(g.mul((float) (1 - beta1)));
                v.muli((float) beta2).addi(g.square().muli((float) (1 - beta2)));
                NDArray denom = v.sqrt();
                denom.divi((float) bc2Sqrt).addi((float) eps);
                NDArray update = m.div(denom);
                p.subi(update.muli((float) (lr / bc1)));
                g.muli(0f);
            }
        }
    }

    /** Zeroes the gradients without updating (e.g. after a skipped step); NaN and inf included. */
    public void zeroGradients() {
        for (Parameter prm : params.values()) {
            try (NDManager scope = prm.getArray().getManager().newSubManager()) {
                NDArray g = prm.getArray().getGradient();
                g.attach(scope);
                g.set(new NDIndex("..."), 0f); // not g * 0, which keeps NaN
            }
        }
    }

    /** True when every gradient element is finite: one reduction per parameter, one value read back. */
    public boolean gradientsFinite() {
        try (NDManager scope = params.values().iterator().next().getArray().getManager().newSubManager()) {
            NDArray bad = null;
            for (Parameter prm : params.values()) {
                NDArray g = prm.getArray().getGradient();
                g.attach(scope);
                // x - x is 0 for finite x and NaN for NaN and ±inf
                NDArray b = g.sub(g).abs().sum();
                bad = bad == null ? b : bad.add(b);
            }
            return bad == null || bad.getFloat() == 0f;
        }
    }

    /** The state as host tensors: {@code exp_avg.NAME}, {@code exp_avg_sq.NAME}. */
    public LinkedHashMap<String, HostTensor> state() {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        for (String k : params.keySet()) {
            out.put("exp_avg." + k, host(expAvg.get(k)));
            out.put("exp_avg_sq." + k, host(expAvgSq.get(k)));
        }
        return out;
    }

    /**
     * Restores a state written by {@link #state()} and the step count.
     *
     * @throws IllegalArgumentException if a tensor is missing or has the wrong shape
     */
    public void load(Map<String, HostTensor> state, long stepCount) {
        for (String k : params.keySet()) {
            for (String prefix : new String[] {"exp_avg.", "exp_avg_sq."}) {
                HostTensor t = state.get(prefix + k);
                NDArray target = (prefix.equals("exp_avg.") ? expAvg : expAvgSq).get(k);
                if (t == null) {
                    throw new IllegalArgumentException("optimizer state lacks " + prefix + k);
                }
                if (!java.util.Arrays.equals(t.shape(), target.getShape().getShape())) {
                    throw new IllegalArgumentException("optimizer state " + prefix + k + " has shape "
                            + t.shapeString() + ", parameter has " + target.getShape());
                }
                target.set(t.data());
            }
        }
        this.step = stepCount;
    }

    private static HostTensor host(NDArray a) {
        return new HostTensor(a.getShape().getShape(), a.toFloatArray());
    }
}
