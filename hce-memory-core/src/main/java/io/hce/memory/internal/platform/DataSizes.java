package io.hce.memory.internal.platform;

import java.util.Locale;

/**
 * Sizes written the way Spring Boot's {@code DataSize} writes them: a whole number of bytes with an
 * optional binary unit, {@code 65536}, {@code 64KB}, {@code 1MB}; parsed for system properties, formatted
 * for the limits that messages state.
 */
public final class DataSizes {

    private static final String[] UNITS = {"TB", "GB", "MB", "KB", "B"};
    private static final int[] SHIFTS = {40, 30, 20, 10, 0};

    private DataSizes() {
    }

    /**
     * @param text the size; surrounding white space is ignored
     * @return the size in bytes
     * @throws IllegalArgumentException if the text is not such a size, or does not fit in a {@code long}
     */
    public static long parse(String text) {
        String trimmed = text.strip().toUpperCase(Locale.ROOT);
        int shift = 0;
        for (int i = 0; i < UNITS.length; i++) {
            if (trimmed.endsWith(UNITS[i])) {
                trimmed = trimmed.substring(0, trimmed.length() - UNITS[i].length()).strip();
                shift = SHIFTS[i];
                break;
            }
        }
        try {
            long value = Long.parseLong(trimmed);
            if (value < 0 || value > Long.MAX_VALUE >> shift) {
                throw new NumberFormatException();
            }
            return value << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a size: expected a whole number of bytes,"
                    + " optionally followed by B, KB, MB, GB or TB");
        }
    }

    /**
     * @param bytes a size, not negative
     * @return it in the largest unit that divides it exactly: {@code 4KB}, {@code 64GB}, {@code 1000B}
     */
    public static String format(long bytes) {
        for (int i = 0; i < UNITS.length; i++) {
            long unit = 1L << SHIFTS[i];
            if (bytes >= unit && bytes % unit == 0) {
                return (bytes >> SHIFTS[i]) + UNITS[i];
            }
        }
        return bytes + "B";
    }
}
