#if os(Linux)
    /// glibc's `malloc_trim` (declared in `<malloc.h>`, which the Glibc module does not export).
    @_silgen_name("malloc_trim")
    private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// Hands freed heap memory back to the operating system where the C library keeps it (glibc does,
/// after bursts of allocation), so a process's resident size falls back after a spike. The broker
/// calls it now and then; workers and clients once a burst has ended (see ``TrimAfterBurst``).
package enum MemoryTrim {
    /// Releases what can be released; does nothing where there is no such call.
    package static func release() {
        #if os(Linux)
            _ = glibcMallocTrim(0)
        #endif
    }
}
