package io.hce.memory.spring;

import io.hce.memory.InvalidArgumentException;

import java.util.Map;
import java.util.function.Supplier;

/**
 * Which property supplies each parameter of one call into the core, so that the core's own checks report
 * properties: the rules (ranges, powers of two) live in the core alone, and the starter only says where a
 * rejected value came from.
 *
 * @param entry       the property reported for a parameter that no property supplies alone (a map key: the
 *                    pool's or heap's name), with the core's whole message as the reason
 * @param byParameter the property, by its full name, that supplies each parameter the core may reject
 */
record ArgumentProperties(String entry, Map<String, String> byParameter) {

    /**
     * @param call a core check
     * @throws HceMemoryConfigurationException naming the property, the bound value and the core's reason, if
     *                                         the check rejects an argument
     */
    void check(Runnable call) {
        make(() -> {
            call.run();
            return null;
        });
    }

    /**
     * @param call a core factory
     * @return what it made
     * @throws HceMemoryConfigurationException naming the property, the bound value and the core's reason, if
     *                                         the factory rejects an argument
     */
    <T> T make(Supplier<T> call) {
        try {
            return call.get();
        } catch (InvalidArgumentException e) {
            throw failure(e);
        }
    }

    /**
     * @param rejected the core's failure
     * @return it as a configuration failure of the property that supplied the parameter; no cause, which
     *         would only repeat it
     */
    HceMemoryConfigurationException failure(InvalidArgumentException rejected) {
        String property = byParameter.get(rejected.parameter());
        return property != null
                ? HceMemoryConfigurationException.invalid(property, rejected.value(), rejected.reason())
                : HceMemoryConfigurationException.invalid(entry, null, rejected.getMessage());
    }
}
