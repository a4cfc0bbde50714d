package org.restorerwkv.wkv;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Bi-WKV as DJL operations, recorded by autograd and run on any device: the definition the fused
 * kernels are checked against, and the training path where the fused backward is not used. Chunks
 * of 64 tokens: within a chunk one L x L weight matrix per channel as a batched matmul, across chunks
 * exclusive prefix and suffix sums; float64 where the decay span and key spread exceed float32.
 */
final class DifferentiableBiWkv {

    private DifferentiableBiWkv() {}

    /**
     * Bi-WKV in scan order along axis 1, differentiable.
     *
     * @param w decay per channel, already divided by T, shape (C)
     * @param u self bonus per channel, already divided by T, shape (C)
     * @param k keys (B, T, C)
     * @param v values (B, T, C)
     * @return y (B, T, C), same dtype as v
     */
    static NDArray forward(NDArray w, NDArray u, NDArray k, NDArray v) {
        NDManager m = k.getManager();
        Shape s = k.getShape();
        long bsz = s.get(0);
        long len = s.get(1);
        long ch = s.get(2);
        DataType out = v.getDataType();
        // float32 holds e^±87: enough when decay span + key spread stay well inside it
        boolean wide = exponentSpan(w, k, len) > FLOAT32_SPAN;
        NDArray kk = wide ? toFloat64(k) : k;
        NDArray vv = wide ? toFloat64(v) : v;
        NDArray ww = wide ? toFloat64(w.reshape(1, 1, ch)) : w.reshape(1, 1, ch); // (1,1,C)
        NDArray uu = wide ? toFloat64(u.reshape(1, 1, ch)) : u.reshape(1, 1, ch);
        DataType dt = kk.getDataType();
        // the max shift cancels between numerator and denominator: no gradient through it
        NDArray e = kk.sub(kk.max(new int[] {1}, true).stopGradient()).exp(); // (B,T,C), in (0,1]
        // x = (e v, e) on a new axis: numerator and denominator share every product
        NDArray x = NDArrays.stack(new NDList(e.mul(vv), e), 2); // (B,T,2,C)
        // chunks of L tokens: within a chunk one (L x L) matrix per channel holds every pair's weight
        // d^(|i-i'|-1) and the bonus exp(u) on its diagonal, so left, right and self terms are one
        // batched matmul; between chunks, per-chunk aggregates are carried by prefix/suffix sums
        // over the T/L chunks. Memory stays O(T C): no matrix grows with T.
        long l = Math.min(CHUNK, len);
        long n = (len + l - 1) / l;
        long padded = n * l;
        if (padded > len) { // zero tokens: x = 0 adds nothing; their outputs are cut off below
            x = NDArrays.concat(new NDList(x, m.zeros(new Shape(bsz, padded - len, 2, ch), dt)), 1);
        }
        long cols = bsz * n * 2;
        NDArray xr = x.reshape(bsz, n, l, 2, ch).transpose(4, 2, 0, 1, 3).reshape(ch, l, cols); // (C, L, B n 2)
        NDArray wc = ww.reshape(ch, 1, 1);
        NDArray idx = m.arange(0, (int) l, 1, dt); // position i in a chunk
        NDArray eye = m.eye((int) l).toType(dt, false);
        NDArray dist = idx.reshape(l, 1).sub(idx.reshape(1, l)).abs();
        NDArray pair = wc.neg().mul(dist.sub(1)).exp().mul(eye.neg().add(1)).add(uu.reshape(ch, 1, 1).exp().mul(eye));
        // chunk aggregates as seen from the next chunk on the left, sum_i' d^(L-1-i') x, and on the right, sum_i' d^i' x
        NDArray fromEnd = idx.neg().add(l - 1);
        NDArray aggLeft = chunkColumns(wc.neg().mul(fromEnd.reshape(1, 1, l)).exp().matMul(xr), ch, bsz, n); // (C, n, B 2)
        NDArray aggRight = chunkColumns(wc.neg().mul(idx.reshape(1, 1, l)).exp().matMul(xr), ch, bsz, n);
        // carries: CL_j = sum_{j'<j} D^(j-1-j') aggLeft_j', CR_j = sum_{j'>j} D^(j'-1-j) aggRight_j', D = d^L,
        // as D^-j' and D^j' weighted prefix/suffix sums; chunk positions tau are centred on the sequence, so
        // exp(±w L tau) spans e^±|decay|/2 instead of e^±|decay|
        NDArray wl = wc.mul(NativeArrays.scalarLike(wc, l)); // (C,1,1); a libtorch-owned scalar, see NativeArrays
        NDArray tau = m.arange(0, (int) n, 1, dt).sub((n - 1) / 2.0).reshape(1, n, 1);
        NDArray up = wl.mul(tau).exp(); // (C, n, 1)
        NDArray down = wl.mul(tau).neg().exp();
        NDArray ewl = wl.exp();
        NDArray carryLeft = exclusivePrefix(aggLeft.mul(up), n).mul(down.mul(ewl));
        NDArray carryRight = exclusiveSuffix(aggRight.mul(down), n).mul(up.mul(ewl));
        // into each token: d^i CL (from the left), d^(L-1-i) CR (from the right), as two more columns of
        // the chunk matrix and two more rows of its operand, so the matmul adds them in
        NDArray lhs = NDArrays.concat(new NDList(pair, wc.neg().mul(idx.reshape(1, l, 1)).exp(),
                wc.neg().mul(fromEnd.reshape(1, l, 1)).exp()), 2); // (C, L, L+2)
        NDArray rhs = NDArrays.concat(new NDList(xr, tokenColumns(carryLeft, ch, bsz, n),
                tokenColumns(carryRight, ch, bsz, n)), 1); // (C, L+2, B n 2)
        NDArray nd = lhs.matMul(rhs).reshape(ch, l, bsz, n, 2);
        NDArray y = nd.get(new NDIndex("..., 0")).div(nd.get(new NDIndex("..., 1"))) // (C, L, B, n)
                .transpose(2, 3, 1, 0).reshape(bsz, padded, ch);
        if (padded > len) {
            y = y.get(new NDIndex(":, :{}, :", len));
        }
        return castKeepingGradient(y, out);
    }

    /** Tokens per chunk of the differentiable form (measured: 64 beats 32 and 128 on the model's shapes). */
    private static final long CHUNK = 64;

    /** (C, 1, B n 2) per-chunk sums -> (C, n, B 2): chunks along axis 1 for the prefix/suffix sums. */
    private static NDArray chunkColumns(NDArray a, long ch, long bsz, long n) {
        return a.reshape(ch, bsz, n, 2).transpose(0, 2, 1, 3).reshape(ch, n, bsz * 2);
    }

    /** (C, n, B 2) -> (C, 1, B n 2), the column order of the chunked tokens. */
    private static NDArray tokenColumns(NDArray a, long ch, long bsz, long n) {
        return a.reshape(ch, n, bsz, 2).transpose(0, 2, 1, 3).reshape(ch, 1, bsz * n * 2);
    }

    /**
     * Beyond this exponent span (decay span plus key spread) the float64 path is taken. Not the
     * e^±87 of float32's range: the division's backward squares the denominator, which may be as
     * small as e^-span, and e^-60 squared underflows to 0 (NaN gradients); e^-30 squared does not.
     */
    private static final double FLOAT32_SPAN = 30;

    /** max|w|·T + max over batch and channel of (max k - min k): the widest exponent range. */
    private static double exponentSpan(NDArray w, NDArray k, long len) {
        double wmax = 0;
        for (double x : w.toType(DataType.FLOAT64, false).toDoubleArray()) { // any input type
            wmax = Math.max(wmax, Math.abs(x));
        }
        double kmax = 0;
        for (double x : k.max(new int[] {1}).sub(k.min(new int[] {1})).toType(DataType.FLOAT64, false).toDoubleArray()) {
            kmax = Math.max(kmax, x);
        }
        return wmax * len + kmax;
    }

    /** sum_{i<t} x_i along axis 1 of (B, T, ...), by shifting before the cumsum (no cancellation). */
    private static NDArray exclusivePrefix(NDArray x, long len) {
        if (len == 1) {
            return x.zerosLike();
        }
        Shape one = x.getShape().slice(0, 1).add(1).addAll(x.getShape().slice(2));
        NDArray zero = x.getManager().zeros(one, x.getDataType());
        NDArray shifted = NDArrays.concat(new NDList(zero, x.get(new NDIndex(":, :{}", len - 1))), 1);
        return shifted.cumSum(1);
    }

    /** sum_{i>t} x_i along axis 1. */
    private static NDArray exclusiveSuffix(NDArray x, long len) {
        return exclusivePrefix(x.flip(1), len).flip(1);
    }

    // DJL's toType() runs under torch::NoGradGuard, which would cut the graph; type promotion
    // (up) and an index_put into a fresh tensor (down) cast while autograd keeps recording.

    private static NDArray toFloat64(NDArray x) {
        if (x.getDataType() == DataType.FLOAT64) {
            return x;
        }
        return x.mul(x.getManager().ones(new Shape(1, 1, 1), DataType.FLOAT64));
    }

    private static NDArray castKeepingGradient(NDArray x, DataType type) {
        if (x.getDataType() == type) {
            return x;
        }
        NDArray out = x.getManager().zeros(x.getShape(), type);
        out.set(new NDIndex("..."), x);
        return out;
    }
}
