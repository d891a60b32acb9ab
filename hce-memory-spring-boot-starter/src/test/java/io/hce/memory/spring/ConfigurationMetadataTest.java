package io.hce.memory.spring;

import org.junit.jupiter.api.Test;
import org.springframework.boot.json.JsonParserFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The metadata an IDE shows for {@code hce.memory.*}, as the configuration processor generated it from the
 * properties records' Javadoc and merged the additional metadata into it.
 */
class ConfigurationMetadataTest {

    private static final Path METADATA = Path.of("target/classes/META-INF/spring-configuration-metadata.json");

    @Test
    void descriptionsAreSentencesWithoutJavadocMarkup() throws IOException {
        List<String> descriptions = descriptions();
        assertThat(descriptions).hasSizeGreaterThan(15);
        assertThat(descriptions).allSatisfy(description -> assertThat(description)
                .doesNotContain("{@", "<code>", "@param")
                .as("a sentence: a capital first, a full stop last").matches("[A-Z0-9].*\\."));
    }

    @Test
    void everyKeyOfTheRecordsHasADescriptionAndAlignmentIsADataSize() throws IOException {
        List<Map<String, Object>> properties = list(metadata().get("properties"));
        assertThat(properties).filteredOn(property -> ((String) property.get("name")).startsWith("hce.memory."))
                .allSatisfy(property -> assertThat(property.get("description")).as(property.get("name").toString()).isNotNull());
        assertThat(properties).filteredOn(property -> property.get("name").equals("hce.memory.pools.*.alignment"))
                .singleElement().satisfies(alignment -> {
                    assertThat(alignment.get("type")).isEqualTo("org.springframework.util.unit.DataSize");
                    assertThat(alignment.get("defaultValue")).isEqualTo("16B");
                });
    }

    private static List<String> descriptions() throws IOException {
        Map<String, Object> metadata = metadata();
        List<String> descriptions = new ArrayList<>();
        for (String section : List.of("groups", "properties", "hints")) {
            for (Map<String, Object> entry : list(metadata.getOrDefault(section, List.of()))) {
                if (entry.get("description") instanceof String description) {
                    descriptions.add(description);
                }
                for (Map<String, Object> value : list(entry.getOrDefault("values", List.of()))) {
                    if (value.get("description") instanceof String description) {
                        descriptions.add(description);
                    }
                }
            }
        }
        return descriptions;
    }

    private static Map<String, Object> metadata() throws IOException {
        assertThat(METADATA).as("built by mvn compile").exists();
        return JsonParserFactory.getJsonParser().parseMap(minified(Files.readString(METADATA)));
    }

    /** Spring Boot's basic JSON parser misreads objects in arrays that start with white space: drop it. */
    private static String minified(String json) {
        StringBuilder out = new StringBuilder(json.length());
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                out.append(c);
                if (c == '\\') {
                    out.append(json.charAt(++i));
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
                out.append(c);
            } else if (!Character.isWhitespace(c)) {
                out.append(c);
            }
        }
        return out.toString();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object value) {
        return (List<Map<String, Object>>) value;
    }
}
