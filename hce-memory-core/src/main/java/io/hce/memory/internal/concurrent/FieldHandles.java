package io.hce.memory.internal.concurrent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Finds {@link VarHandle}s for the fields of the calling class. */
public final class FieldHandles {

    private FieldHandles() {
    }

    /**
     * @param lookup the caller's {@code MethodHandles.lookup()}
     * @param name   a field of the caller's class
     * @param type   the field's type
     * @return a handle to the field
     */
    public static VarHandle of(MethodHandles.Lookup lookup, String name, Class<?> type) {
        try {
            return lookup.findVarHandle(lookup.lookupClass(), name, type);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
