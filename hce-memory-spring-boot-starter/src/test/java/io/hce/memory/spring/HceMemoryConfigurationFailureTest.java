package io.hce.memory.spring;

import io.hce.memory.FixedHeap;
import io.hce.memory.Memory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.env.PropertiesPropertySourceLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.FileSystemResource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Unknown keys, and every start-up failure as the Spring Boot failure report that names the property. */
@ExtendWith(OutputCaptureExtension.class)
class HceMemoryConfigurationFailureTest {

    @TempDir
    Path directory;

    @BeforeAll
    static void fixMemorysDefault() {
        Memory.allocator();
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(HceMemoryAutoConfiguration.class));

    // ---- unknown keys -----------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "hce.memory.chekced=true | hce.memory.chekced | unknown key 'chekced' of hce.memory, whose keys are enabled, checked, leak-detection, cache, pools, heaps, metrics",
            "hce.memory.pools.p.capacty=5 | hce.memory.pools.p.capacty | unknown key 'capacty' of hce.memory.pools.<name>, whose keys are block-size, alignment, capacity, preallocate",
            "hce.memory.pools.p.prealocate=true | hce.memory.pools.p.prealocate | unknown key 'prealocate' of hce.memory.pools.<name>",
            "hce.memory.heaps.h.capcity=1MB | hce.memory.heaps.h.capcity | unknown key 'capcity' of hce.memory.heaps.<name>, whose keys are capacity",
            "hce.memory.cache.bucket-cont=4 | hce.memory.cache.bucket-cont | unknown key 'bucket-cont' of hce.memory.cache, whose keys are bucket-count, bucket-byte-limit, buckets",
            "hce.memory.cache.buckets.3.limit=1KB | hce.memory.cache.buckets.3.limit | unknown key 'limit' of hce.memory.cache.buckets.<index>, whose keys are block-size, byte-limit",
            "hce.memory.checked.really=true | hce.memory.checked.really | unknown key 'really': hce.memory.checked takes a value and has no keys"})
    void anUnknownKeyStopsStartUpNamingItAndTheKnownOnes(String setting, String property, String reason) {
        runner.withPropertyValues(setting, "hce.memory.pools.p.block-size=64B", "hce.memory.heaps.h.capacity=64KB")
                .run(context -> {
                    HceMemoryConfigurationException failure = failure(context);
                    assertThat(failure.property()).isEqualTo(property);
                    assertThat(failure.reason()).startsWith(reason);
                    assertThat(failure.getMessage()).startsWith(property + "=" + setting.substring(setting.indexOf('=') + 1));
                });
    }

    @Test
    void everyUnknownKeyIsNamed() {
        runner.withPropertyValues("hce.memory.pools.p.block-size=64B", "hce.memory.pools.p.capacty=5",
                        "hce.memory.pools.p.prealocate=true", "hce.memory.enable=true")
                .run(context -> assertThat(failure(context).reason()).startsWith("unknown key 'enable' of hce.memory")
                        .endsWith("; unknown too: hce.memory.pools.p.capacty, hce.memory.pools.p.prealocate"));
    }

    @Test
    void relaxedNamesAreKnown() {
        runner.withPropertyValues("hce.memory.pools.p.blockSize=64B", "hce.memory.pools.p.PREALLOCATE=true",
                        "hce.memory.cache.bucket_byte_limit=4KB", "hce.memory.leakDetection=sampled")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void systemPropertiesAreNotChecked() {
        // the core reads -Dhce.memory.* itself, and other programs' settings may share the prefix
        runner.withSystemProperties("hce.memory.some-core-setting=1")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void aDisabledStarterChecksNothing() {
        runner.withPropertyValues("hce.memory.enabled=false", "hce.memory.pools.p.capacty=5")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void anUnknownKeysReportNamesItsOriginAndTheKnownKeys() throws IOException {
        fromFile("hce.memory.pools.p.block-size=64B", "hce.memory.pools.p.capacty=5").run(context -> {
            FailureAnalysis analysis = analysis(context);
            assertThat(analysis.getDescription()).isEqualTo("""
                    Invalid hce-memory configuration:

                        Property: hce.memory.pools.p.capacty
                        Value: "5"
                        Origin: %s - 2:28
                        Reason: unknown key 'capacty' of hce.memory.pools.<name>, whose keys are block-size, \
                    alignment, capacity, preallocate""".formatted(fileDescription()));
            assertThat(analysis.getAction()).startsWith("Correct or remove hce.memory.pools.p.capacty;");
        });
    }

    // ---- failure reports --------------------------------------------------------------------------------------

    @Test
    void aHeapPastTheLimitIsReportedAsWrittenWithItsOrigin() throws IOException {
        fromFile("hce.memory.heaps.h.capacity=100TB").run(context -> {
            FailureAnalysis analysis = analysis(context);
            assertThat(analysis.getDescription()).isEqualTo("""
                    Invalid hce-memory configuration:

                        Property: hce.memory.heaps.h.capacity
                        Value: "100TB"
                        Origin: %s - 1:29
                        Reason: must be between 4KB and 64GB""".formatted(fileDescription()));
            assertThat(analysis.getAction()).isEqualTo("Update the application's configuration.");
        });
    }

    @Test
    void aHeapTheCAllocatorCannotGiveIsReportedWithItsProperty() throws IOException {
        assumeTrue(cannotCommit(FixedHeap.MAX_CAPACITY), "this machine may give a 64 GiB region");
        fromFile("hce.memory.heaps.big.capacity=64GB").run(context -> {
            HceMemoryConfigurationException failure = failure(context);
            assertThat(failure).hasCauseInstanceOf(OutOfMemoryError.class);
            FailureAnalysis analysis = analysis(context);
            assertThat(analysis.getDescription()).contains("Property: hce.memory.heaps.big.capacity\n",
                    "Value: \"64GB\"\n", "Origin: " + fileDescription() + " - 1:31\n",
                    "Reason: the C allocator cannot provide a region of 64GB for heap 'big' (");
            assertThat(analysis.getAction()).startsWith("Configure a smaller heap, or give the process more memory");
        });
    }

    @Test
    void aPoolAndAHeapOfOneNameAreReportedWithTheHeapsOrigin() throws IOException {
        fromFile("hce.memory.pools.items.block-size=64B", "hce.memory.heaps.items.capacity=1MB").run(context -> {
            FailureAnalysis analysis = analysis(context);
            assertThat(analysis.getDescription()).isEqualTo("""
                    Invalid hce-memory configuration:

                        Property: hce.memory.heaps.items
                        Origin: %s - 2:33
                        Reason: a pool has the same name (hce.memory.pools.items), and each pool and heap is a \
                    bean of its name""".formatted(fileDescription()));
            assertThat(analysis.getAction()).isEqualTo("Give the heap or the pool hce.memory.pools.items another name.");
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class ItemsBean {

        @Bean
        String items() {
            return "the application's own";
        }
    }

    @Test
    void theProfilesSelectorIsNotAPoolOrHeapName() {
        runner.withPropertyValues("hce.memory.pools.profile.block-size=64B").run(context -> {
            FailureAnalysis analysis = analysis(context);
            assertThat(analysis.getDescription()).contains("Property: hce.memory.pools.profile\n",
                    "Reason: 'profile' is reserved: /actuator/hcememory/profile is the live allocation profile");
            assertThat(analysis.getAction()).isEqualTo("Give the pool another name.");
        });
    }

    @Test
    void aNameTakenByAnotherBeanIsReported() {
        runner.withUserConfiguration(ItemsBean.class).withPropertyValues("hce.memory.heaps.items.capacity=1MB")
                .run(context -> {
                    FailureAnalysis analysis = analysis(context);
                    assertThat(analysis.getDescription()).contains("Property: hce.memory.heaps.items\n",
                            "Reason: a bean named 'items' exists already (made by items()",
                            "and each pool and heap is a bean of its name");
                    assertThat(analysis.getAction()).isEqualTo("Give the heap or the other bean another name.");
                });
    }

    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration(HceMemoryAutoConfiguration.class)
    static class Application {
    }

    @Test
    void springApplicationPrintsTheFailureReport(CapturedOutput output) throws IOException {
        Files.writeString(directory.resolve("application.properties"), "hce.memory.heaps.h.capacity=100TB\n");
        SpringApplication application = new SpringApplication(Application.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        application.setRegisterShutdownHook(false);
        assertThatThrownBy(() -> application.run("--spring.config.location=file:" + directory + "/"))
                .isInstanceOf(HceMemoryConfigurationException.class);
        assertThat(output).contains("APPLICATION FAILED TO START", "Description:", "Property: hce.memory.heaps.h.capacity",
                "Value: \"100TB\"", "application.properties] - 1:29", "Reason: must be between 4KB and 64GB", "Action:",
                "Update the application's configuration.");
        assertThat(output).doesNotContain("109951162777600");
    }

    @Test
    void aValueThatDoesNotConvertIsSpringBootsOwnReportNamingTheProperty(CapturedOutput output) {
        SpringApplication application = new SpringApplication(Application.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        application.setRegisterShutdownHook(false);
        assertThatThrownBy(() -> application.run("--hce.memory.pools.p.block-size=64B", "--hce.memory.pools.p.capacity=many"));
        assertThat(output).contains("APPLICATION FAILED TO START", "Property: hce.memory.pools.p.capacity",
                "Value: \"many\"", "Origin: \"hce.memory.pools.p.capacity\" from property source \"commandLineArgs\"");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private ApplicationContextRunner fromFile(String... lines) throws IOException {
        Path file = directory.resolve("hce.properties");
        Files.write(file, List.of(lines));
        List<PropertySource<?>> sources = new PropertiesPropertySourceLoader().load("hce.properties", new FileSystemResource(file));
        return runner.withInitializer(context -> context.getEnvironment().getPropertySources().addFirst(sources.getFirst()));
    }

    private String fileDescription() {
        return new FileSystemResource(directory.resolve("hce.properties")).getDescription();
    }

    private static HceMemoryConfigurationException failure(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        for (Throwable cause = context.getStartupFailure(); cause != null; cause = cause.getCause()) {
            if (cause instanceof HceMemoryConfigurationException failure) {
                return failure;
            }
        }
        throw new AssertionError("not a configuration failure", context.getStartupFailure());
    }

    private static FailureAnalysis analysis(AssertableApplicationContext context) {
        failure(context);
        FailureAnalysis analysis = new HceMemoryFailureAnalyzer().analyze(context.getStartupFailure());
        assertThat(analysis).isNotNull();
        return analysis;
    }

    /** Linux's heuristic (0) and strict (2) overcommit refuse one request past physical memory and swap. */
    private static boolean cannotCommit(long bytes) throws IOException {
        Path overcommit = Path.of("/proc/sys/vm/overcommit_memory");
        Path meminfo = Path.of("/proc/meminfo");
        if (!Files.exists(overcommit) || !Files.exists(meminfo) || Files.readString(overcommit).strip().equals("1")) {
            return false;
        }
        long kib = 0;
        for (String line : Files.readAllLines(meminfo)) {
            if (line.startsWith("MemTotal:") || line.startsWith("SwapTotal:")) {
                kib += Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return kib * 1024 < bytes / 2;
    }
}
