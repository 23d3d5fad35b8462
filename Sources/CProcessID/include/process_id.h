#ifndef ZGRID_PROCESS_ID_H
#define ZGRID_PROCESS_ID_H

#include <stdbool.h>
#include <sys/types.h>

/// Whether calls to getpid(2) through the dynamic linker (libzmq's, for one) reach the cached
/// getpid of this module rather than the C library's system call.
bool zgrid_process_id_cache_active(void);

/// The process id as the kernel says it (a system call, never the cache).
pid_t zgrid_kernel_process_id(void);

/// Forks a child that compares getpid() with the kernel's answer and exits; returns whether the
/// child saw its own process id (not its parent's, which the cache held before the fork).
bool zgrid_process_id_cache_follows_fork(void);

#endif
