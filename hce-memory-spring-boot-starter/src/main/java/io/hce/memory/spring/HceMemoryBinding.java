package io.hce.memory.spring;

import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.boot.context.properties.source.UnboundElementsSourceFilter;
import org.springframework.boot.origin.Origin;
import org.springframework.core.env.Environment;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Binds {@code hce.memory} for {@link NamedAllocatorsRegistrar}, the first to need it, so that a bad
 * configuration stops start-up before any bean exists, and relates failures to what the user wrote.
 *
 * <p>Unknown keys: every name under {@code hce.memory} in the application's own property sources is walked
 * down the properties records' components (a map level takes any key), and one that leaves them is refused.
 * The records are the only list of keys, so the check cannot drift from what binds. Like Spring Boot's
 * {@code ignoreUnknownFields = false}, the system environment and system properties are not checked: other
 * programs' variables live there, and the core reads some {@code -Dhce.memory.*} properties itself.
 * Relaxed names ({@code blockSize}, {@code block_size}) match as they bind.
 */
final class HceMemoryBinding {

    private static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of(HceMemoryProperties.PREFIX);

    private final Iterable<ConfigurationPropertySource> sources;
    private final Binder binder;

    private HceMemoryBinding(Environment environment) {
        this.sources = ConfigurationPropertySources.get(environment);
        this.binder = Binder.get(environment);
    }

    static HceMemoryBinding of(Environment environment) {
        return new HceMemoryBinding(environment);
    }

    /**
     * @return the properties
     * @throws HceMemoryConfigurationException naming the key or property, as written and where, if a key is
     *                                         unknown or a value invalid
     * @throws BindException                   if a value cannot be converted (Spring Boot reports those)
     */
    HceMemoryProperties bind() {
        rejectUnknownKeys();
        try {
            return binder.bindOrCreate(HceMemoryProperties.PREFIX, HceMemoryProperties.class);
        } catch (BindException e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof HceMemoryConfigurationException invalid) {
                    throw located(invalid); // not wrapped: Spring Boot's BindFailureAnalyzer would report the wrapper
                }
            }
            throw e;
        }
    }

    /**
     * @param failure a failure that knows the bound value only
     * @return it with the value as written and its origin; for a property that is no leaf (a map entry), the
     *         origin of its first key
     */
    HceMemoryConfigurationException located(HceMemoryConfigurationException failure) {
        ConfigurationPropertyName name = ConfigurationPropertyName.adapt(failure.property(), '.');
        for (ConfigurationPropertySource source : sources) {
            ConfigurationProperty written = source.getConfigurationProperty(name);
            if (written != null) {
                return failure.at(written.getValue(), written.getOrigin());
            }
        }
        return failure.at(null, firstOriginUnder(name));
    }

    private Origin firstOriginUnder(ConfigurationPropertyName name) {
        for (ConfigurationPropertySource source : sources) {
            if (source instanceof IterableConfigurationPropertySource iterable) {
                ConfigurationPropertyName first = iterable.filter(name::isAncestorOf).stream().sorted().findFirst().orElse(null);
                if (first != null) {
                    return iterable.getConfigurationProperty(first).getOrigin();
                }
            }
        }
        return null;
    }

    private void rejectUnknownKeys() {
        UnboundElementsSourceFilter applicationSources = new UnboundElementsSourceFilter();
        TreeSet<ConfigurationPropertyName> names = new TreeSet<>();
        for (ConfigurationPropertySource source : sources) {
            if (source instanceof IterableConfigurationPropertySource iterable && applicationSources.apply(source)) {
                iterable.filter(ROOT::isAncestorOf).stream().forEach(names::add);
            }
        }
        List<HceMemoryConfigurationException> unknown = new ArrayList<>();
        for (ConfigurationPropertyName name : names) {
            String reason = unknownKey(name);
            if (reason != null) {
                unknown.add(located(new HceMemoryConfigurationException(name.toString(), null, null, reason,
                        "Correct or remove " + name + "; every key of hce-memory is in the configuration metadata"
                                + " (an IDE completes them) and in the README's Spring Boot section.", null)));
            }
        }
        if (!unknown.isEmpty()) {
            HceMemoryConfigurationException first = unknown.getFirst();
            if (unknown.size() == 1) {
                throw first;
            }
            String others = unknown.stream().skip(1).map(HceMemoryConfigurationException::property)
                    .collect(Collectors.joining(", "));
            throw new HceMemoryConfigurationException(first.property(), first.value(), first.origin(),
                    first.reason() + "; unknown too: " + others, first.action(), null);
        }
    }

    /** @return why the name is not a key of the properties records, or {@code null} if it is one */
    private static String unknownKey(ConfigurationPropertyName name) {
        Type type = HceMemoryProperties.class;
        StringBuilder path = new StringBuilder(HceMemoryProperties.PREFIX);
        for (int i = ROOT.getNumberOfElements(); i < name.getNumberOfElements(); i++) {
            Class<?> raw = type instanceof ParameterizedType parameterized ? (Class<?>) parameterized.getRawType() : (Class<?>) type;
            if (Map.class.isAssignableFrom(raw)) {
                Type[] keyAndValue = ((ParameterizedType) type).getActualTypeArguments();
                path.append(keyAndValue[0] == Integer.class ? ".<index>" : ".<name>");
                type = keyAndValue[1];
                continue;
            }
            String key = name.getElement(i, Form.ORIGINAL);
            if (!raw.isRecord()) {
                return "unknown key '" + key + "': " + path + " takes a value and has no keys";
            }
            String uniform = name.getElement(i, Form.UNIFORM);
            RecordComponent match = Arrays.stream(raw.getRecordComponents())
                    .filter(component -> component.getName().toLowerCase(Locale.ROOT).equals(uniform))
                    .findFirst().orElse(null);
            if (match == null) {
                return "unknown key '" + key + "' of " + path + ", whose keys are " + Arrays.stream(raw.getRecordComponents())
                        .map(component -> kebab(component.getName())).collect(Collectors.joining(", "));
            }
            path.append('.').append(kebab(match.getName()));
            type = match.getGenericType();
        }
        return null;
    }

    private static String kebab(String camelCase) {
        return camelCase.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }
}
