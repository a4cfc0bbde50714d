package org.restorerwkv.train;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import org.restorerwkv.model.RestoreRwkv;

/**
 * A sub-manager that temporarily owns every parameter array of a model. DJL attaches the result of
 * an operation (and the scalar of {@code x.mul(2f)}) to the first operand's manager, so arrays
 * derived from parameters would pile up in the model's manager over thousands of steps; while the
 * parameters are attached here, those arrays die with the scope, and the parameters return to
 * their own manager when it closes.
 */
final class ParameterScope {

    private ParameterScope() {}

    static NDManager open(RestoreRwkv model, NDManager parent) {
        NDManager scope = parent.newSubManager();
        for (Parameter p : model.namedParameters().values()) {
            p.getArray().tempAttach(scope);
        }
        return scope;
    }
}
