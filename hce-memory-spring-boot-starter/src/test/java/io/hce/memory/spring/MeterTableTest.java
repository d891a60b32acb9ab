package io.hce.memory.spring;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's meter table is the meters the binder registers: every name, its type and unit, its tags (with
 * their values where the table lists them) and its description. Neither can change without the other.
 */
class MeterTableTest {

    private static final String HEADER = "| meter | type | tags | description |";
    /** A tag cell's entry: {@code `key`}, or {@code `key` = `a` \| `b`}. */
    private static final Pattern TAG = Pattern.compile("`([\\w.]+)`((?:\\s*(?:=|\\\\\\|)\\s*`[\\w.]+`)*)");

    /** What the table says of one meter, and what the registry has. */
    record Row(String type, Map<String, Set<String>> tags, String description) {
    }

    @Test
    void theReadmesTableListsEveryMeterAsTheBinderRegistersIt() throws IOException {
        Map<String, Row> documented = readmeTable();
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(HceMemoryAutoConfiguration.class, HceMemoryMetricsAutoConfiguration.class))
                .withPropertyValues("hce.memory.pools.entries.block-size=32B", "hce.memory.heaps.items.capacity=64KB")
                .run(context -> {
                    MeterRegistry registry = new SimpleMeterRegistry();
                    context.getBean(HceMemoryMeterBinder.class).bindTo(registry);
                    Map<String, Row> registered = registered(registry, documented);
                    assertThat(documented.keySet()).as("meter names").containsExactlyInAnyOrderElementsOf(registered.keySet());
                    registered.forEach((name, row) -> assertThat(documented.get(name)).as(name).isEqualTo(row));
                });
    }

    /** The registry's meters, with tag values only for the tags whose values the table lists. */
    private static Map<String, Row> registered(MeterRegistry registry, Map<String, Row> documented) {
        Map<String, Row> rows = new TreeMap<>();
        for (Meter meter : registry.getMeters()) {
            Meter.Id id = meter.getId();
            String type = switch (meter) {
                case FunctionCounter counter -> "function counter";
                case Gauge gauge -> "gauge";
                default -> meter.getClass().getSimpleName();
            } + (id.getBaseUnit() != null ? ", " + id.getBaseUnit() : "");
            Row row = rows.computeIfAbsent(id.getName(), name -> new Row(type, new TreeMap<>(), id.getDescription()));
            assertThat(row.type()).as(id.getName() + ": one type for every meter of the name").isEqualTo(type);
            Row listed = documented.get(id.getName());
            for (Tag tag : id.getTags()) {
                Set<String> values = row.tags().computeIfAbsent(tag.getKey(), key -> new TreeSet<>());
                if (listed != null && listed.tags().getOrDefault(tag.getKey(), Set.of()).size() > 0) {
                    values.add(tag.getValue());
                }
            }
        }
        return rows;
    }

    private static Map<String, Row> readmeTable() throws IOException {
        List<String> lines = Files.readAllLines(readme());
        int header = lines.indexOf(HEADER);
        assertThat(header).as("the README's meter table, headed " + HEADER).isNotNegative();
        Map<String, Row> rows = new TreeMap<>();
        for (String line : lines.subList(header + 2, lines.size())) {
            if (!line.startsWith("|")) {
                break;
            }
            List<String> cells = cells(line);
            assertThat(cells).as(line).hasSize(4);
            Map<String, Set<String>> tags = new TreeMap<>();
            Matcher tag = TAG.matcher(cells.get(2));
            while (tag.find()) {
                Set<String> values = new TreeSet<>();
                Matcher value = Pattern.compile("`([\\w.]+)`").matcher(tag.group(2));
                while (value.find()) {
                    values.add(value.group(1));
                }
                tags.put(tag.group(1), values);
            }
            String name = cells.get(0).replace("`", "");
            assertThat(rows.put(name, new Row(cells.get(1), tags, cells.get(3)))).as(name + " listed twice").isNull();
        }
        return rows;
    }

    /** The cells of a table row; {@code \|} is a pipe inside a cell. */
    private static List<String> cells(String line) {
        List<String> cells = new ArrayList<>();
        for (String cell : line.substring(1, line.length() - 1).split("(?<!\\\\)\\|", -1)) {
            cells.add(cell.strip());
        }
        return cells;
    }

    private static Path readme() {
        for (Path directory = Path.of("").toAbsolutePath(); directory != null; directory = directory.getParent()) {
            if (Files.exists(directory.resolve("README.md")) && Files.exists(directory.resolve("hce-memory-core"))) {
                return directory.resolve("README.md");
            }
        }
        throw new AssertionError("no README.md beside hce-memory-core above " + Path.of("").toAbsolutePath());
    }
}
