package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BucketCounterTest {

    /** Every component but the bucket's configuration is a counter, and each counter reads its own component. */
    @Test
    void theCountersAreBucketStatisticsComponentsAndReadThem() throws ReflectiveOperationException {
        List<String> counted = Arrays.stream(BucketStatistics.class.getRecordComponents()).map(RecordComponent::getName)
                .filter(name -> !name.equals("blockSize") && !name.equals("byteLimit")).toList();
        assertEquals(counted, Arrays.stream(BucketCounter.values()).map(BucketCounter::component).toList());
        BucketStatistics distinct = new BucketStatistics(1, 2, 3, 4, 5, 6);
        for (BucketCounter counter : BucketCounter.values()) {
            long component = (long) BucketStatistics.class.getMethod(counter.component()).invoke(distinct);
            assertEquals(component, counter.of(distinct), counter.name());
        }
    }

    /** Counters that share a meter differ in their tags, and say the same about it. */
    @Test
    void countersOfOneMeterShareItsDescriptionAndKindAndDifferInTags() {
        Map<String, List<BucketCounter>> byMeter = Arrays.stream(BucketCounter.values())
                .collect(Collectors.groupingBy(BucketCounter::meterName));
        byMeter.forEach((meter, counters) -> {
            assertEquals(1, counters.stream().map(BucketCounter::meterDescription).distinct().count(), meter);
            assertEquals(1, counters.stream().map(BucketCounter::isCumulative).distinct().count(), meter);
            assertEquals(counters.size(), counters.stream().map(BucketCounter::meterTags).distinct().count(), meter);
        });
    }
}
