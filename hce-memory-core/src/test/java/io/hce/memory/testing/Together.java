package io.hce.memory.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.fail;

/** Runs a body on several threads released at once, and fails with the first thing any of them threw. */
public final class Together {

    /** A thread's work; its index tells the threads apart. */
    @FunctionalInterface
    public interface Body {
        void run(int index) throws Exception;
    }

    private Together() {
    }

    /**
     * @param builders one builder per thread (platform or virtual)
     * @param body     what each thread runs, once all have started
     */
    public static void run(List<Thread.Builder> builders, Body body) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < builders.size(); t++) {
            int index = t;
            started.add(builders.get(t).start(() -> {
                try {
                    start.await();
                    body.run(index);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        start.countDown();
        for (Thread thread : started) {
            thread.join();
        }
        if (failure.get() != null) {
            fail("a thread failed", failure.get());
        }
    }

    /** @return {@code count} platform-thread builders */
    public static List<Thread.Builder> platformThreads(int count) {
        List<Thread.Builder> builders = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            builders.add(Thread.ofPlatform());
        }
        return builders;
    }
}
