package io.hce.memory.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Spring Boot's failure report for a configuration under {@code hce.memory} that cannot start, laid out as
 * Spring Boot's own report of a property that fails to bind: property, value, origin, reason.
 */
final class HceMemoryFailureAnalyzer extends AbstractFailureAnalyzer<HceMemoryConfigurationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, HceMemoryConfigurationException cause) {
        StringBuilder description = new StringBuilder("Invalid hce-memory configuration:\n\n");
        description.append("    Property: ").append(cause.property()).append('\n');
        if (cause.value() != null) {
            description.append("    Value: \"").append(cause.value()).append("\"\n");
        }
        if (cause.origin() != null) {
            description.append("    Origin: ").append(cause.origin()).append('\n');
        }
        description.append("    Reason: ").append(cause.reason());
        return new FailureAnalysis(description.toString(), cause.action(), cause);
    }
}
