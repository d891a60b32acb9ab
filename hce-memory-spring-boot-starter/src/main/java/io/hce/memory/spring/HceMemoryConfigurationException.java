package io.hce.memory.spring;

import org.springframework.boot.origin.Origin;

/**
 * A configuration under {@code hce.memory} that cannot start: the property, the value as the user wrote it
 * and where (when Spring knows), the reason and what to do. {@link HceMemoryFailureAnalyzer} turns it into
 * Spring Boot's failure report; the message alone says the same for contexts without one.
 *
 * <p>The properties records throw it knowing only the bound value; {@link HceMemoryBinding} replaces that with
 * the text and origin of the property source that supplied it ({@link #at}), so the user sees {@code 100TB},
 * not its bytes.
 */
final class HceMemoryConfigurationException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    static final String UPDATE_CONFIGURATION = "Update the application's configuration.";

    private final String property;
    private final transient Object value;
    private final transient Origin origin;
    private final String reason;
    private final String action;

    HceMemoryConfigurationException(String property, Object value, Origin origin, String reason, String action,
                                    Throwable cause) {
        super(message(property, value, origin, reason), cause);
        this.property = property;
        this.value = value;
        this.origin = origin;
        this.reason = reason;
        this.action = action;
    }

    /**
     * @param property the full name of the property, e.g. {@code hce.memory.pools.p.alignment}
     * @param value    the value as bound, or {@code null} when the failure is not about one value
     * @param reason   why it is wrong, without the property or value
     * @return an exception whose action is to update the configuration
     */
    static HceMemoryConfigurationException invalid(String property, Object value, String reason) {
        return new HceMemoryConfigurationException(property, value, null, reason, UPDATE_CONFIGURATION, null);
    }

    /**
     * @param written the value as written, or {@code null} to keep this one
     * @param where   where it was written, or {@code null}
     * @return this failure with that value and origin
     */
    HceMemoryConfigurationException at(Object written, Origin where) {
        return new HceMemoryConfigurationException(property, written != null ? written : value, where, reason, action,
                getCause());
    }

    /** @return the property's full name */
    String property() {
        return property;
    }

    /** @return the value as written, or {@code null} when the failure is not about one value */
    Object value() {
        return value;
    }

    /** @return where the value was written, or {@code null} when Spring does not know */
    Origin origin() {
        return origin;
    }

    /** @return why start-up failed */
    String reason() {
        return reason;
    }

    /** @return what the user should do */
    String action() {
        return action;
    }

    private static String message(String property, Object value, Origin origin, String reason) {
        boolean written = value != null && !value.toString().isEmpty();
        return property + (written ? "=" + value : "") + ": " + reason + (origin != null ? " (" + origin + ")" : "");
    }
}
