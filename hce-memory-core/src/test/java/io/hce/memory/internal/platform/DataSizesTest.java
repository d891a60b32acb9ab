package io.hce.memory.internal.platform;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DataSizesTest {

    @ParameterizedTest
    @CsvSource({"65536, 65536", "64KB, 65536", "64kb, 65536", " 1 MB , 1048576", "2GB, 2147483648", "1TB, 1099511627776",
            "7B, 7", "0, 0"})
    void parsesBytesAndBinaryUnits(String text, long bytes) {
        assertEquals(bytes, DataSizes.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "KB", "-1", "-1KB", "1.5MB", "64 KiB", "ten", "9223372036854775807KB"})
    void rejectsWhatIsNotASize(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataSizes.parse(text));
        assertEquals("'" + text + "' is not a size: expected a whole number of bytes, optionally followed by B, KB,"
                + " MB, GB or TB", e.getMessage());
    }

    @Test
    void largestSizeThatFits() {
        assertEquals(Long.MAX_VALUE >> 10 << 10, DataSizes.parse((Long.MAX_VALUE >> 10) + "KB"));
    }

    @ParameterizedTest
    @CsvSource({"0, 0B", "1000, 1000B", "4096, 4KB", "6144, 6KB", "68719476736, 64GB", "1099511627776, 1TB"})
    void formatsInTheLargestExactUnitAndParsesBack(long bytes, String text) {
        assertEquals(text, DataSizes.format(bytes));
        assertEquals(bytes, DataSizes.parse(text));
    }
}
