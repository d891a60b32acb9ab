package io.hce.memory.testing;

import java.lang.reflect.Field;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a private field, for test inspectors that look at state production code keeps to itself: the
 * reflection lives here, in test code, instead of an accessor in production code that only tests call.
 * Tests run on the class path, so every package is open to them. The fields are looked up once: tests that
 * check after every step read them often.
 */
public final class PrivateFields {

    private static final ClassValue<Map<String, Field>> FIELDS = new ClassValue<>() {
        @Override
        protected Map<String, Field> computeValue(Class<?> type) {
            return new ConcurrentHashMap<>();
        }
    };

    private PrivateFields() {
    }

    /**
     * @param owner the object whose field it is, declared by its class itself
     * @param name  the field's name
     * @param type  the field's type, boxed for a primitive
     * @return the field's value (a volatile read if the field is volatile)
     * @throws IllegalStateException if there is no such field, naming it: production code has changed
     */
    public static <T> T read(Object owner, String name, Class<T> type) {
        try {
            Map<String, Field> fields = FIELDS.get(owner.getClass());
            Field field = fields.get(name);
            if (field == null) {
                field = owner.getClass().getDeclaredField(name);
                field.setAccessible(true);
                fields.put(name, field);
            }
            return type.cast(field.get(owner));
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("no field " + type.getSimpleName() + " " + name + " in "
                    + owner.getClass().getName() + ": update the inspector", e);
        }
    }
}
