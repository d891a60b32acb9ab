package io.hce.memory.spring;

import io.hce.memory.AllocatorOptions;
import io.hce.memory.FixedHeap;
import io.hce.memory.PoolAllocator;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.Map;

/**
 * Registers one bean per {@code hce.memory.pools.<name>} and {@code hce.memory.heaps.<name>}, named after the
 * key, so each is injectable with {@code @Qualifier("<name>")}. Pools are closed (their shared blocks freed) and heaps closed
 * when the context closes.
 */
final class NamedAllocatorsRegistrar implements BeanDefinitionRegistryPostProcessor, EnvironmentAware {

    private Environment environment;

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
        HceMemoryProperties properties = Binder.get(environment)
                .bindOrCreate(HceMemoryProperties.PREFIX, HceMemoryProperties.class);
        for (Map.Entry<String, HceMemoryProperties.Pool> pool : properties.pools().entrySet()) {
            String name = pool.getKey();
            HceMemoryProperties.Pool config = pool.getValue();
            register(registry, name, "pools", new RootBeanDefinition(PoolAllocator.class,
                    () -> createPool(name, config, properties.allocatorOptions())));
        }
        for (Map.Entry<String, HceMemoryProperties.Heap> heap : properties.heaps().entrySet()) {
            String name = heap.getKey();
            long capacity = heap.getValue().capacity().toBytes();
            boolean checked = properties.allocatorOptions().checked();
            register(registry, name, "heaps", new RootBeanDefinition(FixedHeap.class,
                    () -> FixedHeap.create(name, capacity, FixedHeap.defaultShardCount(capacity), checked)));
        }
    }

    private static void register(BeanDefinitionRegistry registry, String name, String kind, RootBeanDefinition definition) {
        if (registry.containsBeanDefinition(name)) {
            throw new IllegalStateException(HceMemoryProperties.PREFIX + "." + kind + "." + name
                    + ": a bean named '" + name + "' exists already; pool and heap names must be unique bean names");
        }
        definition.setDestroyMethodName("close");
        registry.registerBeanDefinition(name, definition);
    }

    private static PoolAllocator createPool(String name, HceMemoryProperties.Pool config, AllocatorOptions options) {
        MemoryLayout block = MemoryLayout.sequenceLayout(config.blockSize().toBytes(), ValueLayout.JAVA_BYTE);
        PoolAllocator pool = PoolAllocator.create(name, block.withByteAlignment(config.alignment().toBytes()), config.capacity(), options);
        if (config.preallocate()) {
            pool.preallocate(config.capacity());
        }
        return pool;
    }
}
