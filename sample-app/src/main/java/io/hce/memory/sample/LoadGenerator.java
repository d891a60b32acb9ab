package io.hce.memory.sample;

import io.hce.memory.FixedHeap;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code POST /load?seconds=10&threads=4}: drives the cache for a bounded time (at most a minute) from a few
 * threads, mixing puts, gets and deletes over 10,000 keys with values of 100 B … 20 KB, and logs a progress
 * line every second, so that every meter moves. {@code GET /load} tells whether a run is going on. The
 * workers share the cache with no lock of their own (see {@link OffHeapCache}); an operation that throws is
 * counted as an error (the first one is logged with its stack) and the worker goes on.
 */
@RestController
final class LoadGenerator {

    private static final Log LOG = LogFactory.getLog(LoadGenerator.class);
    private static final int KEYS = 10_000;

    private final OffHeapCache cache;
    private final FixedHeap values;
    private final AtomicBoolean running = new AtomicBoolean();

    LoadGenerator(OffHeapCache cache, @Qualifier("items") FixedHeap values) {
        this.cache = cache;
        this.values = values;
    }

    record Status(boolean running, String message) {
    }

    @GetMapping("/load")
    Status status() {
        return new Status(running.get(), running.get() ? "a load run is going on" : "idle");
    }

    @PostMapping("/load")
    ResponseEntity<Status> start(@RequestParam(defaultValue = "10") int seconds, @RequestParam(defaultValue = "4") int threads) {
        int duration = Math.clamp(seconds, 1, 60);
        int workers = Math.clamp(threads, 1, 16);
        if (!running.compareAndSet(false, true)) {
            return ResponseEntity.status(HttpStatus.CONFLICT).body(new Status(true, "a load run is going on already"));
        }
        Thread.ofPlatform().name("load-coordinator").daemon().start(() -> run(Duration.ofSeconds(duration), workers));
        return ResponseEntity.accepted().body(new Status(true, "running for " + duration + " s on " + workers
                + " threads; progress is in the log"));
    }

    private void run(Duration duration, int workers) {
        LongAdder puts = new LongAdder();
        LongAdder gets = new LongAdder();
        LongAdder found = new LongAdder();
        LongAdder errors = new LongAdder();
        long deadline = System.nanoTime() + duration.toNanos();
        long evictionsBefore = values.statistics().evictions();
        Thread[] threads = new Thread[workers];
        for (int t = 0; t < workers; t++) {
            long seed = t;
            threads[t] = Thread.ofPlatform().name("load-" + t).daemon().start(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                while (System.nanoTime() < deadline) {
                    String key = "key-" + random.nextInt(KEYS);
                    int action = random.nextInt(10);
                    try {
                        if (action < 3) {
                            byte[] value = new byte[100 + random.nextInt(20_000)];
                            random.nextBytes(value);
                            cache.put(key, value);
                            puts.increment();
                        } else if (action < 9) {
                            if (cache.get(key).isPresent()) {
                                found.increment();
                            }
                            gets.increment();
                        } else {
                            cache.delete(key);
                        }
                    } catch (RuntimeException e) { // counted and logged once; the worker goes on
                        if (errors.sum() == 0) {
                            LOG.error("load: an operation on " + key + " failed", e);
                        }
                        errors.increment();
                    }
                }
            });
        }
        try {
            for (int second = 1; running.get(); second++) {
                boolean done = threads[0].join(Duration.ofSeconds(1)) && allDone(threads);
                long g = gets.sum();
                LOG.info(String.format("load: %2d s, %,d puts, %,d gets (%.0f%% found), %,d evictions, %,d errors, %s",
                        second, puts.sum(), g, g == 0 ? 0.0 : 100.0 * found.sum() / g,
                        values.statistics().evictions() - evictionsBefore, errors.sum(), cache.summary()));
                if (done) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            running.set(false);
        }
    }

    private static boolean allDone(Thread[] threads) throws InterruptedException {
        for (Thread thread : threads) {
            thread.join(Duration.ofMillis(1));
            if (thread.isAlive()) {
                return false;
            }
        }
        return true;
    }
}
