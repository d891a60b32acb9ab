package io.hce.memory.spring;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Keeps the records of some {@code java.util.logging} loggers (where commons-logging ends when no other
 * logging library is on the class path, as in these tests) off the console while a test runs, so that a test
 * that expects a warning asserts on it instead of printing it. What the test did not {@link #take} is printed on {@link #close()}, as it would have
 * been: the capture hides only what a test has checked.
 * A copy of the core tests' {@code io.hce.memory.testing.CapturedLog}.
 */
final class CapturedLog implements AutoCloseable {

    // Strong references: JUL holds loggers weakly, and a collected logger would forget the handler.
    private final List<Logger> loggers = new ArrayList<>();
    private final List<Boolean> usedParentHandlers = new ArrayList<>();
    private final List<LogRecord> records = new ArrayList<>(); // guarded by itself
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            record.getSourceClassName(); // infer the caller now: printed later, the record would name close()
            synchronized (records) {
                records.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private CapturedLog(String... loggerNames) {
        handler.setLevel(Level.ALL);
        for (String name : loggerNames) {
            Logger logger = Logger.getLogger(name);
            loggers.add(logger);
            usedParentHandlers.add(logger.getUseParentHandlers());
            logger.addHandler(handler);
            logger.setUseParentHandlers(false);
        }
    }

    /** Starts capturing what these loggers (and their children) log. */
    static CapturedLog of(String... loggerNames) {
        return new CapturedLog(loggerNames);
    }

    /** Removes and returns the records captured so far that match. */
    List<LogRecord> take(Predicate<LogRecord> matching) {
        synchronized (records) {
            List<LogRecord> taken = new ArrayList<>(records.stream().filter(matching).toList());
            records.removeAll(taken);
            return taken;
        }
    }

    /** How many records captured so far match, leaving them captured. */
    int count(Predicate<LogRecord> matching) {
        synchronized (records) {
            return (int) records.stream().filter(matching).count();
        }
    }

    /** Stops capturing and prints what no test took, through the loggers' parents. */
    @Override
    public void close() {
        for (int i = 0; i < loggers.size(); i++) {
            loggers.get(i).removeHandler(handler);
            loggers.get(i).setUseParentHandlers(usedParentHandlers.get(i));
        }
        for (LogRecord left : take(record -> true)) {
            Logger.getLogger(left.getLoggerName() != null ? left.getLoggerName() : "").log(left);
        }
    }
}
