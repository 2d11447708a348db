// SPDX-License-Identifier: GPL-2.0-or-later
// LD_PRELOAD helper for the interop tests on kernels built without SCTP: osmo-msc 1.9 exits when
// it cannot open its SCTP sockets (SGs server, M3UA client), although the tests use neither.
// An SCTP socket() that the kernel refuses becomes a TCP socket, and SCTP socket options become
// no-ops, so osmo-msc starts; SMPP, its SMSC and sms.db work as usual.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*socket_fn)(int, int, int);
typedef int (*setsockopt_fn)(int, int, int, const void*, socklen_t);
typedef int (*getsockopt_fn)(int, int, int, void*, socklen_t*);

int socket(int domain, int type, int protocol) {
    static socket_fn real;
    if (!real)
        real = (socket_fn)dlsym(RTLD_NEXT, "socket");
    int fd = real(domain, type, protocol);
    if (fd < 0 && protocol == IPPROTO_SCTP &&
        (errno == EPROTONOSUPPORT || errno == ESOCKTNOSUPPORT || errno == EAFNOSUPPORT)) {
        const int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
        fd = real(domain, SOCK_STREAM | flags, IPPROTO_TCP);
    }
    return fd;
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
    static setsockopt_fn real;
    if (!real)
        real = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
    if (level == IPPROTO_SCTP)
        return 0;
    return real(fd, level, name, value, len);
}

int getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
    static getsockopt_fn real;
    if (!real)
        real = (getsockopt_fn)dlsym(RTLD_NEXT, "getsockopt");
    if (level == IPPROTO_SCTP) {
        if (value && len)
            memset(value, 0, *len);
        return 0;
    }
    return real(fd, level, name, value, len);
}
