import Foundation

/// Whether the tests run in a ThreadSanitizer build (`make test-tsan` sets `TSAN_OPTIONS`).
let underThreadSanitizer = ProcessInfo.processInfo.environment["TSAN_OPTIONS"] != nil

/// Whether the tests run in a sanitizer build: `make test-asan` sets `LSAN_OPTIONS`, `make
/// test-tsan` sets `TSAN_OPTIONS`.
let underSanitizer = underThreadSanitizer || ProcessInfo.processInfo.environment["LSAN_OPTIONS"] != nil
