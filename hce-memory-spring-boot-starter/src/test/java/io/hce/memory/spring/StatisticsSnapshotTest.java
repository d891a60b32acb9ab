package io.hce.memory.spring;

import io.micrometer.core.instrument.MockClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class StatisticsSnapshotTest {

    @Test
    void readsOncePerMaxAgeWhateverTheNumberOfMeters() {
        MockClock clock = new MockClock();
        AtomicInteger reads = new AtomicInteger();
        StatisticsSnapshot<Integer> snapshot = new StatisticsSnapshot<>(reads::incrementAndGet, clock);
        for (int meter = 0; meter < 53; meter++) {
            assertThat(snapshot.get()).isEqualTo(1);
        }
        clock.add(StatisticsSnapshot.MAX_AGE.minus(Duration.ofMillis(1)));
        assertThat(snapshot.get()).isEqualTo(1);
        clock.add(Duration.ofMillis(1));
        assertThat(snapshot.get()).isEqualTo(2);
        assertThat(reads).hasValue(2);
    }
}
