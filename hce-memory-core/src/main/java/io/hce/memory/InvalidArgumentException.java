package io.hce.memory;

import java.io.Serial;
import java.util.Objects;

/**
 * An argument of a factory ({@link CacheInfo#of}, {@link CacheInfo.Bucket}, {@link PoolAllocator#create},
 * {@link FixedHeap#create}, their {@code checkArguments}) that is out of range, telling which parameter it
 * was, its value and the rule it broke, so that code which took the value from elsewhere can say where:
 * the Spring Boot starter names the property, {@link Memory} the system property.
 *
 * <p>The message is {@code <parameter> [of <owner>] <reason>[, was <value>]}, e.g.
 * {@code capacity of pool 'entries' must be at least 1, was 0}.
 */
public final class InvalidArgumentException extends IllegalArgumentException {

    @Serial
    private static final long serialVersionUID = 1L;

    private final String parameter;
    private final transient Object value;
    private final String reason;

    /**
     * @param parameter the parameter's name, as the method's documentation spells it
     * @param value     the rejected value, or {@code null} when the rule is about several values together
     * @param reason    the rule, starting with the verb and without the parameter or value: {@code must be at least 1}
     */
    public InvalidArgumentException(String parameter, Object value, String reason) {
        this(parameter, null, value, reason);
    }

    /**
     * @param parameter the parameter's name, as the method's documentation spells it
     * @param owner     what the parameter belongs to, for the message only ({@code pool 'entries'}), or {@code null}
     * @param value     the rejected value, or {@code null} when the rule is about several values together
     * @param reason    the rule, starting with the verb and without the parameter or value
     */
    public InvalidArgumentException(String parameter, String owner, Object value, String reason) {
        super(parameter + (owner != null ? " of " + owner : "") + " " + reason + (value != null ? ", was " + value : ""));
        this.parameter = Objects.requireNonNull(parameter, "parameter");
        this.value = value;
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** @return the name of the parameter whose argument was rejected, e.g. {@code bucketCount} */
    public String parameter() {
        return parameter;
    }

    /** @return the rejected value (boxed), or {@code null} when the rule is about several values together */
    public Object value() {
        return value;
    }

    /** @return the rule the value broke, without the parameter or value, e.g. {@code must be at least 1} */
    public String reason() {
        return reason;
    }
}
