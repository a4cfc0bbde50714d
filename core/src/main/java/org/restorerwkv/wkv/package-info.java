/**
 * The Bi-WKV and the other fused token kernels of Restore-RWKV. Internal to the library: the
 * classes are public only because {@code org.restorerwkv.model} calls them; their signatures may
 * change with any release.
 *
 * <h2>Bi-WKV</h2>
 * The bidirectional weighted-key-value attention of Vision-RWKV, which Re-WKV applies along row
 * and column scans, per batch b and channel c, for tokens t = 0..T-1 in scan order, with
 * w = spatial_decay / T and u = spatial_first / T:
 *
 * <pre>
 *          sum_{i != t} exp(-(|t-i|-1) w + k_i) v_i  +  exp(u + k_t) v_t
 *   y_t = ----------------------------------------------------------------
 *          sum_{i != t} exp(-(|t-i|-1) w + k_i)      +  exp(u + k_t)
 * </pre>
 *
 * Every implementation splits the sum into a left part (i &lt; t), a right part (i &gt; t) and the
 * self term, O(T C) with no T x T matrix; keys are shifted by their per-channel maximum (the shift
 * cancels in the ratio) and the sums run in float64 (the SIMD kernel sums inside a chunk in float
 * lanes where the chunk's terms provably fit float's range).
 *
 * <table>
 *   <caption>Which implementation runs when</caption>
 *   <tr><th>class</th><th>what</th><th>runs when</th></tr>
 *   <tr><td>{@link org.restorerwkv.wkv.BiWkv}</td><td>entry points; dispatch</td><td>always</td></tr>
 *   <tr><td>{@code DifferentiableBiWkv}</td><td>DJL ops recorded by autograd, chunks of 64 tokens,
 *       any device</td><td>training off CPU or with {@code WkvKernel.DIFFERENTIABLE}; the reference
 *       the fused kernels are tested against</td></tr>
 *   <tr><td>{@code SimdBiWkv}</td><td>fused forward on the vector API (chunked two-level scan), the
 *       backward's vector scans</td><td>CPU inference and training when the JVM has
 *       {@code --add-modules jdk.incubator.vector} (the launcher adds it)</td></tr>
 *   <tr><td>{@code ScalarBiWkv}</td><td>fused forward and backward in plain Java</td><td>CPU without the
 *       vector module; the backward's channels that do not fill a vector</td></tr>
 *   <tr><td>{@code FastExp}</td><td>exp from additions and multiplications, scalar and per lane</td><td>inside
 *       the fused kernels, so results do not depend on JIT compilation</td></tr>
 * </table>
 */
package org.restorerwkv.wkv;
