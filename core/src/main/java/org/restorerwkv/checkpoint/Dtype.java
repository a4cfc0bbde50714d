package org.restorerwkv.checkpoint;

import java.nio.ByteBuffer;
import org.restorerwkv.io.Float16;

/**
 * Element types a checkpoint may store, with their width in bytes. Every one is read as float32:
 * floating types by rounding, integer and bool types exactly up to 2^24 (enough for counters such
 * as BatchNorm's {@code num_batches_tracked}).
 */
enum Dtype {
    FLOAT32(4), FLOAT64(8), FLOAT16(2), BFLOAT16(2), INT64(8), INT32(4), INT16(2), INT8(1), UINT8(1), BOOL(1);

    final int bytes;

    Dtype(int bytes) {
        this.bytes = bytes;
    }

    /** The element at byte position {@code pos} of {@code b}, as float32 (absolute get, any byte order). */
    float get(ByteBuffer b, int pos) {
        return switch (this) {
            case FLOAT32 -> b.getFloat(pos);
            case FLOAT64 -> (float) b.getDouble(pos);
            case FLOAT16 -> Float16.halfToFloat(b.getShort(pos));
            case BFLOAT16 -> Float16.bfloat16ToFloat(b.getShort(pos));
            case INT64 -> b.getLong(pos);
            case INT32 -> b.getInt(pos);
            case INT16 -> b.getShort(pos);
            case INT8 -> b.get(pos);
            case UINT8 -> b.get(pos) & 0xff;
            case BOOL -> b.get(pos) != 0 ? 1f : 0f;
        };
    }
}
