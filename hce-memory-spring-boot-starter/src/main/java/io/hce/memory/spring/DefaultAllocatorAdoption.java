package io.hce.memory.spring;

import io.hce.memory.AllocatorOptions;
import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.hce.memory.Memory;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Decides which {@link CachingAllocator} a context gets, keeping {@link Memory}'s process-wide default
 * coherent across any number of contexts in one JVM.
 *
 * <ul>
 *   <li>Memory's default not fixed yet: an allocator for the configured layout is installed as the default
 *       and is the bean. It stays the default for the life of the JVM: blocks it handed out must go back to
 *       it, even after the context that made it has closed (an allocator needs no closing).</li>
 *   <li>Memory's default fixed, with the same layout and options: the bean is that default, shared.</li>
 *   <li>Memory's default fixed, with another layout or options (it was used before the context started, or
 *       another context configured it differently): the bean is an allocator of its own, and a warning says
 *       that {@code Memory.*} calls keep using the default.</li>
 * </ul>
 */
final class DefaultAllocatorAdoption {

    private static final Log LOG = LogFactory.getLog(DefaultAllocatorAdoption.class);

    private DefaultAllocatorAdoption() {
    }

    static CachingAllocator allocatorFor(CacheInfo info, AllocatorOptions options) {
        if (!Memory.isDefaultFixed()) {
            try {
                Memory.install(CachingAllocator.create(info, options));
            } catch (IllegalStateException fixedMeanwhile) {
                // another thread fixed the default first: fall through and compare with it
            }
        }
        CachingAllocator current = Memory.allocator();
        if (current.info().equals(info) && current.options().equals(options)) {
            return current;
        }
        LOG.warn("Memory's default allocator was fixed before this context configured " + info.buckets().size()
                + " buckets with " + options + " (" + current + ", " + current.options() + "); Memory.* keeps"
                + " using it, and this context's CachingAllocator bean is a separate allocator. Configure the same,"
                + " or avoid Memory.* before start-up.");
        return CachingAllocator.create(info, options);
    }
}
