package io.hce.memory.spring;

import java.util.Collections;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Named instances configured under one key (pools, heaps): a read-only map from name to instance, in name
 * order.
 *
 * @param <T> the instances' type
 */
public abstract class NamedInstances<T> {

    private final String kind;
    private final Map<String, T> byName;

    NamedInstances(String kind, Map<String, T> byName) {
        this.kind = kind;
        this.byName = Collections.unmodifiableMap(new TreeMap<>(byName));
    }

    /**
     * @param name a configured name
     * @return the instance of that name
     * @throws NoSuchElementException naming the known names, if there is none of that name
     */
    public T get(String name) {
        T instance = byName.get(name);
        if (instance == null) {
            throw new NoSuchElementException("no " + kind + " named '" + name + "'; configured: " + byName.keySet());
        }
        return instance;
    }

    /**
     * @param name a name
     * @return the instance of that name, if there is one
     */
    public Optional<T> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** @return every instance by name, in name order */
    public Map<String, T> asMap() {
        return byName;
    }
}
