package io.hce.memory.sample;

import io.hce.memory.CacheStatistics;
import io.hce.memory.CachingAllocator;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.lang.foreign.MemorySegment;

/**
 * Shows the thread caches at work: {@code POST /memory/exercise} allocates and frees native blocks,
 * {@code GET /memory} shows the counters.
 */
@RestController
final class MemoryController {

    private final CachingAllocator allocator;

    MemoryController(CachingAllocator allocator) {
        this.allocator = allocator;
    }

    @GetMapping("/memory")
    CacheStatistics statistics() {
        return allocator.statistics();
    }

    @PostMapping("/memory/exercise")
    CacheStatistics exercise(@RequestParam(defaultValue = "1000") int blocks) {
        int count = Math.clamp(blocks, 1, 1_000_000);
        for (int i = 0; i < count; i++) {
            MemorySegment segment = allocator.allocate(16 + (i * 37) % 4000);
            segment.fill((byte) i);
            allocator.deallocate(segment);
        }
        return allocator.statistics();
    }
}
