#ifndef ZGRID_CZEROMQ_SHIM_H
#define ZGRID_CZEROMQ_SHIM_H

#include <zmq.h>
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

/// errno as a function, since Swift cannot read the macro portably.
static inline int czmq_errno(void) { return zmq_errno(); }

/// Creates a non-blocking, close-on-exec eventfd (0 on success path returns the fd, -1 on error).
static inline int czmq_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// Adds one to an eventfd counter; returns 0 or -1.
static inline int czmq_eventfd_signal(int fd) {
    eventfd_t one = 1;
    return eventfd_write(fd, one);
}

/// Resets an eventfd counter; returns the value read or 0 when nothing was pending.
static inline unsigned long long czmq_eventfd_drain(int fd) {
    eventfd_t value = 0;
    if (eventfd_read(fd, &value) != 0) return 0;
    return (unsigned long long)value;
}

#endif
