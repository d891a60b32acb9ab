package io.hce.memory.spring;

import io.hce.memory.AllocatorOptions;
import io.hce.memory.FixedHeap;
import io.hce.memory.PoolAllocator;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.Map;

/**
 * Registers one bean per {@code hce.memory.pools.<name>} and {@code hce.memory.heaps.<name>}, named after the
 * key, so each is injectable with {@code @Qualifier("<name>")}. Pools are closed (their shared blocks freed) and
 * heaps closed when the context closes.
 *
 * <p>It binds {@code hce.memory} before any bean is made, so every configuration failure (unknown keys, bad
 * values, a name taken twice) stops start-up here, as a {@link HceMemoryConfigurationException} that names the
 * property; so does a heap whose region the C allocator cannot give, when the heap is made.
 */
final class NamedAllocatorsRegistrar implements BeanDefinitionRegistryPostProcessor, EnvironmentAware {

    private Environment environment;

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
        HceMemoryBinding binding = HceMemoryBinding.of(environment);
        HceMemoryProperties properties = binding.bind();
        AllocatorOptions options = properties.allocatorOptions();
        for (Map.Entry<String, HceMemoryProperties.Pool> pool : properties.pools().entrySet()) {
            String name = pool.getKey();
            HceMemoryProperties.Pool config = pool.getValue();
            register(registry, binding, "pools", name, new RootBeanDefinition(PoolAllocator.class,
                    () -> createPool(name, config, options)));
        }
        for (Map.Entry<String, HceMemoryProperties.Heap> heap : properties.heaps().entrySet()) {
            String name = heap.getKey();
            if (properties.pools().containsKey(name)) {
                String pool = HceMemoryProperties.PREFIX + ".pools." + name;
                throw binding.located(new HceMemoryConfigurationException(HceMemoryProperties.PREFIX + ".heaps." + name,
                        null, null, "a pool has the same name (" + pool + "), and each pool and heap is a bean of its name",
                        "Give the heap or the pool " + pool + " another name.", null));
            }
            long capacity = heap.getValue().capacity().toBytes();
            String property = HceMemoryProperties.PREFIX + ".heaps." + name + ".capacity";
            register(registry, binding, "heaps", name, new RootBeanDefinition(FixedHeap.class,
                    () -> createHeap(binding, property, name, capacity, options.checked())));
        }
    }

    private static void register(BeanDefinitionRegistry registry, HceMemoryBinding binding, String kind, String name,
                                 RootBeanDefinition definition) {
        if (HceMemoryEndpoint.PROFILE.equals(name)) {
            throw binding.located(new HceMemoryConfigurationException(HceMemoryProperties.PREFIX + "." + kind + "." + name,
                    null, null, "'" + name + "' is reserved: /actuator/hcememory/" + name + " is the live allocation profile",
                    "Give the " + kind.substring(0, kind.length() - 1) + " another name.", null));
        }
        if (registry.containsBeanDefinition(name)) {
            throw binding.located(new HceMemoryConfigurationException(HceMemoryProperties.PREFIX + "." + kind + "." + name,
                    null, null, "a bean named '" + name + "' exists already" + describe(registry.getBeanDefinition(name))
                    + ", and each pool and heap is a bean of its name",
                    "Give the " + kind.substring(0, kind.length() - 1) + " or the other bean another name.", null));
        }
        definition.setDestroyMethodName("close");
        registry.registerBeanDefinition(name, definition);
    }

    private static String describe(BeanDefinition other) {
        String type = other.getBeanClassName() != null ? other.getBeanClassName()
                : other.getFactoryMethodName() != null ? "made by " + other.getFactoryMethodName() + "()" : null;
        String where = other.getResourceDescription();
        return (type != null ? " (" + type + (where != null ? ", " + where : "") + ")"
                : where != null ? " (" + where + ")" : "");
    }

    private static PoolAllocator createPool(String name, HceMemoryProperties.Pool config, AllocatorOptions options) {
        MemoryLayout block = MemoryLayout.sequenceLayout(config.blockSize().toBytes(), ValueLayout.JAVA_BYTE);
        PoolAllocator pool = PoolAllocator.create(name, block.withByteAlignment(config.alignment().toBytes()),
                config.capacity(), options);
        if (config.preallocate()) {
            pool.preallocate(config.capacity());
        }
        return pool;
    }

    private static FixedHeap createHeap(HceMemoryBinding binding, String property, String name, long capacity,
                                        boolean checked) {
        try {
            return FixedHeap.create(name, capacity, FixedHeap.defaultShardCount(capacity), checked);
        } catch (OutOfMemoryError e) {
            // malloc returned NULL for the region: a configuration too large for this machine, not a full Java heap
            throw binding.located(new HceMemoryConfigurationException(property, SizeText.of(capacity), null,
                    "the C allocator cannot provide a region of " + SizeText.of(capacity) + " for heap '" + name
                            + "' (" + e.getMessage() + ")",
                    "Configure a smaller heap, or give the process more memory (physical memory and swap, the"
                            + " container's memory limit, ulimit -v).", e));
        } // no IllegalArgumentException: HceMemoryProperties.Heap checked the arguments with the core's rules
    }
}
