package io.hce.memory.sample;

import io.hce.memory.HeapExhaustedException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.nio.charset.StandardCharsets;

/**
 * The cache over HTTP: {@code PUT /cache/{key}} stores the request body, {@code GET /cache/{key}} returns it
 * (404 once deleted or evicted), {@code DELETE /cache/{key}} removes it, {@code GET /cache} counts.
 * A key has 1 to {@value OffHeapCache#MAX_KEY_BYTES} bytes in UTF-8 ({@code 400} otherwise); a value too
 * large for the heap gets {@code 413}, and a put that finds every evictable block pinned at that moment
 * {@code 503}.
 */
@RestController
@RequestMapping("/cache")
final class CacheController {

    private final OffHeapCache cache;

    CacheController(OffHeapCache cache) {
        this.cache = cache;
    }

    @GetMapping
    OffHeapCache.Summary summary() {
        return cache.summary();
    }

    @PutMapping("/{key}")
    ResponseEntity<Void> put(@PathVariable String key, @RequestBody(required = false) byte[] value) {
        checkKey(key);
        if (value == null || value.length == 0) {
            throw new BadRequest("the value (the request body) must not be empty");
        }
        if (value.length > cache.maxValueSize()) {
            throw new ValueTooLarge(value.length, cache.maxValueSize());
        }
        cache.put(key, value);
        return ResponseEntity.noContent().build();
    }

    @GetMapping(value = "/{key}", produces = MediaType.APPLICATION_OCTET_STREAM_VALUE)
    ResponseEntity<byte[]> get(@PathVariable String key) {
        checkKey(key);
        return cache.get(key).map(ResponseEntity::ok).orElseGet(() -> ResponseEntity.notFound().build());
    }

    @DeleteMapping("/{key}")
    ResponseEntity<Void> delete(@PathVariable String key) {
        checkKey(key);
        return cache.delete(key) ? ResponseEntity.noContent().build() : ResponseEntity.notFound().build();
    }

    /** {@code /cache/} and {@code /cache/%20}: a key must have a visible character. */
    @PutMapping("/")
    ResponseEntity<Void> putWithoutKey() {
        throw new BadRequest("the key must not be empty");
    }

    private static void checkKey(String key) {
        if (key.isBlank()) {
            throw new BadRequest("the key must not be empty");
        }
        if (key.getBytes(StandardCharsets.UTF_8).length > OffHeapCache.MAX_KEY_BYTES) {
            throw new BadRequest("the key must have at most " + OffHeapCache.MAX_KEY_BYTES + " bytes in UTF-8");
        }
    }

    @ExceptionHandler
    ProblemDetail badRequest(BadRequest e) {
        return ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, e.getMessage());
    }

    /** Every block that could have been evicted for the value was pinned at that moment: try again. */
    @ExceptionHandler
    ProblemDetail exhausted(HeapExhaustedException e) {
        return ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage());
    }

    @ExceptionHandler
    ProblemDetail tooLarge(ValueTooLarge e) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONTENT_TOO_LARGE, e.getMessage());
        problem.setProperty("maxValueSize", e.limit);
        return problem;
    }

    static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message);
        }
    }

    static final class ValueTooLarge extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final long limit;

        ValueTooLarge(long size, long limit) {
            super("a value of " + size + " bytes is larger than the largest the heap can hold, " + limit + " bytes");
            this.limit = limit;
        }
    }
}
