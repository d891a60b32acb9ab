package io.hce.memory.spring;

import java.util.Locale;

/** Byte counts written as Spring Boot's {@code DataSize} reads them ({@code 64KB}: binary units), for people. */
final class SizeText {

    private static final String[] UNITS = {"B", "KB", "MB", "GB", "TB"};

    private SizeText() {
    }

    /**
     * @param bytes a byte count, not negative
     * @return it in the largest unit it fills, exact when it is a whole number of that unit ({@code 64KB}),
     *         else to one decimal ({@code 5.3MB})
     */
    static String of(long bytes) {
        int unit = 0;
        while (unit < UNITS.length - 1 && bytes >= 1L << (10 * (unit + 1))) {
            unit++;
        }
        long size = 1L << (10 * unit);
        if (bytes % size == 0) {
            return bytes / size + UNITS[unit];
        }
        return String.format(Locale.ROOT, "%.1f%s", (double) bytes / size, UNITS[unit]);
    }
}
