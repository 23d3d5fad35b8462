// A cached getpid(2) for the processes ZGrid's programs run in.
//
// libzmq 4.3 checks on every signal between its threads (each wake-up, each command) whether the
// process has forked, by comparing the process id it started with against getpid(). Since glibc
// 2.25, getpid() is a system call each time: about 0.4 µs on the virtual machines ZGrid is
// measured on, and 0.3 to 0.4 of them per call in every process at high call rates.
//
// Defining getpid here, in the executable, makes the dynamic linker bind the shared libraries'
// calls (libzmq's among them) to this one. It answers from a cache that a pthread_atfork handler
// empties in a forked child, so a child still sees its own id and libzmq's fork check keeps
// working. Linked only into the zgrid executable and the test runner, never into the libraries:
// a program embedding ZGridClient keeps its C library's getpid.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process_id.h"

/// The process id, or 0 when not known yet (at start, and in a child right after fork).
static _Atomic pid_t cached_process_id = 0;
/// False when the fork handler could not be registered: then every call asks the kernel.
static _Atomic bool cache_usable = false;

pid_t zgrid_kernel_process_id(void) { return (pid_t)syscall(SYS_getpid); }

static void forget_after_fork(void) { atomic_store_explicit(&cached_process_id, 0, memory_order_relaxed); }

__attribute__((constructor)) static void register_fork_handler(void) {
    if (pthread_atfork(NULL, NULL, forget_after_fork) == 0) {
        atomic_store_explicit(&cache_usable, true, memory_order_relaxed);
    }
}

pid_t getpid(void) {
    if (!atomic_load_explicit(&cache_usable, memory_order_relaxed)) return zgrid_kernel_process_id();
    pid_t known = atomic_load_explicit(&cached_process_id, memory_order_relaxed);
    if (known != 0) return known;
    known = zgrid_kernel_process_id();
    atomic_store_explicit(&cached_process_id, known, memory_order_relaxed);
    return known;
}

bool zgrid_process_id_cache_active(void) {
    void *bound = dlsym(RTLD_DEFAULT, "getpid");
    return bound == (void *)getpid && atomic_load_explicit(&cache_usable, memory_order_relaxed);
}

bool zgrid_process_id_cache_follows_fork(void) {
    (void)getpid();  // fill the cache in the parent first
    pid_t child = fork();
    if (child < 0) return false;
    if (child == 0) _exit(getpid() == zgrid_kernel_process_id() ? 0 : 1);
    int status = 0;
    pid_t waited;
    do {
        waited = waitpid(child, &status, 0);
    } while (waited < 0 && errno == EINTR);
    return waited == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
