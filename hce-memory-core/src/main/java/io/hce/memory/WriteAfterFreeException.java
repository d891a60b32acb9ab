package io.hce.memory;

/**
 * Checked mode found a freed block written to while it waited in quarantine. It is thrown by the call that
 * found it (the deallocation that pushed the block out of quarantine, {@code trim()} or {@code close()}),
 * after that call has done all of its own work: the report is about the block it names, not about the call.
 * Its cause is the stack that allocated the block; its suppressed exception, the stack that freed it.
 */
public final class WriteAfterFreeException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final long address;
    private final long byteSize;

    WriteAfterFreeException(String message, long address, long byteSize) {
        super(message);
        this.address = address;
        this.byteSize = byteSize;
    }

    /** @return the address of the block that was written after it was freed */
    public long address() {
        return address;
    }

    /** @return its size in bytes */
    public long byteSize() {
        return byteSize;
    }
}
