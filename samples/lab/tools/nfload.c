/*
 * nfload: tiny, bounded traffic generator for the nfdiag lab guest.
 * Built statically by samples/lab/build-vm.sh and copied into the guest's initramfs.
 * Every mode has hard count/time limits; it only ever talks to the address it is given
 * (the scenarios give it loopback or addresses of namespaces they create inside the guest).
 *
 *   nfload tcp-server ADDR PORT SECONDS          accept and hold connections, exit after SECONDS
 *   nfload tcp-sink ADDR PORT SECONDS            accept and hold only (never reads: cheap for 10k+ connections)
 *   nfload tcp-connect ADDR PORT N TIMEOUT_MS HOLD_S [CLOSE]
 *                                                 open N connections (batches of 256, non-blocking),
 *                                                 print ok/timeout/refused, hold HOLD_S, close
 *   nfload udp-send ADDR PORT0 N [NPORTS]         N datagrams from one socket to ports PORT0..+NPORTS-1
 *   nfload udp-hosts NET_A.B.C PORT N             one datagram to each of A.B.C+i (i < N, wraps octets)
 *   nfload ftp-server ADDR PORT SECONDS           fake FTP control server: 220, USER/PASS ok, PASV -> 227
 *   nfload ftp-client ADDR PORT N HOLD_S          N control connections: USER, PASS, PASV; hold HOLD_S
 *   nfload tcp-chatter ADDR PORT N ROUNDS GAP_MS  N connections, ROUNDS of 1-byte writes GAP_MS apart
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 20000
#define MAX_SEND 200000

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void raise_nofile(void) {
    struct rlimit r = {65536, 65536};
    if (setrlimit(RLIMIT_NOFILE, &r) != 0) {
        getrlimit(RLIMIT_NOFILE, &r);
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

static struct sockaddr_in mkaddr(const char *a, int port) {
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    s.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, a, &s.sin_addr) != 1) {
        fprintf(stderr, "nfload: bad address %s\n", a);
        exit(2);
    }
    return s;
}

static long clampl(const char *s, long lo, long hi) {
    long v = strtol(s, NULL, 10);
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return v;
}

static int listen_on(const char *a, int port) {
    struct sockaddr_in s = mkaddr(a, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&s, sizeof s) != 0 || listen(fd, 4096) != 0) {
        perror("nfload: bind/listen");
        exit(1);
    }
    return fd;
}

/* tcp-sink: accept only, keep the fds, never poll them (O(1) per accept) */
static int sink(const char *a, int port, long seconds) {
    int lfd = listen_on(a, port);
    long end = now_ms() + seconds * 1000L, accepted = 0;
    struct pollfd p = {lfd, POLLIN, 0};
    while (now_ms() < end) {
        if (poll(&p, 1, 200) <= 0) continue;
        int c = accept(lfd, NULL, NULL);
        if (c >= 0) accepted++;
        if (accepted >= 60000) break;
    }
    printf("nfload tcp-sink: accepted=%ld\n", accepted);
    return 0;
}

/* tcp-server and ftp-server share this loop */
static int server(const char *a, int port, long seconds, int ftp) {
    int lfd = listen_on(a, port);
    static struct pollfd pf[MAX_CONN + 1];
    int n = 1;
    long end = now_ms() + seconds * 1000L, accepted = 0, pasv = 0;
    pf[0].fd = lfd;
    pf[0].events = POLLIN;
    while (now_ms() < end) {
        int r = poll(pf, n, 200);
        if (r <= 0) continue;
        if (pf[0].revents & POLLIN) {
            int c = accept(lfd, NULL, NULL);
            if (c >= 0) {
                accepted++;
                if (n <= MAX_CONN) {
                    pf[n].fd = c;
                    pf[n].events = POLLIN;
                    pf[n].revents = 0;
                    n++;
                    if (ftp) {
                        const char *b = "220 nfdiag-lab fake FTP ready\r\n";
                        if (write(c, b, strlen(b)) < 0) {}
                    }
                } else {
                    close(c);
                }
            }
        }
        for (int i = 1; i < n; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[512];
            ssize_t k = read(pf[i].fd, buf, sizeof buf - 1);
            if (k <= 0) {
                close(pf[i].fd);
                pf[i] = pf[n - 1];
                n--;
                i--;
                continue;
            }
            if (!ftp) continue;
            buf[k] = 0;
            for (char *line = strtok(buf, "\r\n"); line; line = strtok(NULL, "\r\n")) {
                char out[128];
                if (!strncasecmp(line, "USER", 4)) snprintf(out, sizeof out, "331 ok\r\n");
                else if (!strncasecmp(line, "PASS", 4)) snprintf(out, sizeof out, "230 ok\r\n");
                else if (!strncasecmp(line, "PASV", 4)) {
                    int p = 40000 + (int)(pasv++ % 20000);
                    snprintf(out, sizeof out, "227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n",
                             p / 256, p % 256);
                } else snprintf(out, sizeof out, "200 ok\r\n");
                if (write(pf[i].fd, out, strlen(out)) < 0) {}
            }
        }
    }
    printf("nfload %s-server: accepted=%ld pasv=%ld\n", ftp ? "ftp" : "tcp", accepted, pasv);
    return 0;
}

/* returns number of established sockets kept in fds[] */
static int connect_batch(struct sockaddr_in *dst, int count, long timeout_ms, int *fds,
                         long *ok, long *tmo, long *refused, long *other) {
    static struct pollfd pf[256];
    int m = 0;
    for (int i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) { (*other)++; continue; }
        int r = connect(fd, (struct sockaddr *)dst, sizeof *dst);
        if (r == 0) { fds[m] = fd; pf[m].fd = -1; m++; (*ok)++; continue; }
        if (errno != EINPROGRESS) { close(fd); (*other)++; continue; }
        pf[m].fd = fd;
        pf[m].events = POLLOUT;
        fds[m] = fd;
        m++;
    }
    long end = now_ms() + timeout_ms;
    int pending = 0;
    for (int i = 0; i < m; i++) if (pf[i].fd >= 0) pending++;
    while (pending > 0 && now_ms() < end) {
        int r = poll(pf, m, (int)(end - now_ms() > 0 ? end - now_ms() : 0));
        if (r <= 0) continue;
        for (int i = 0; i < m; i++) {
            if (pf[i].fd < 0 || !pf[i].revents) continue;
            int err = 0;
            socklen_t l = sizeof err;
            getsockopt(pf[i].fd, SOL_SOCKET, SO_ERROR, &err, &l);
            if (err == 0) (*ok)++;
            else if (err == ECONNREFUSED) { (*refused)++; close(fds[i]); fds[i] = -1; }
            else { (*other)++; close(fds[i]); fds[i] = -1; }
            pf[i].fd = -1;
            pending--;
        }
    }
    for (int i = 0; i < m; i++) {
        if (pf[i].fd >= 0) { (*tmo)++; close(fds[i]); fds[i] = -1; }
    }
    int k = 0;
    for (int i = 0; i < m; i++) if (fds[i] >= 0) fds[k++] = fds[i];
    return k;
}

static int tcp_connect(const char *a, int port, long n, long timeout_ms, long hold_s, int do_close) {
    struct sockaddr_in dst = mkaddr(a, port);
    static int all[MAX_CONN];
    int kept = 0;
    long ok = 0, tmo = 0, refused = 0, other = 0;
    long t0 = now_ms();
    for (long done = 0; done < n; done += 256) {
        int c = (int)(n - done > 256 ? 256 : n - done);
        int fds[256];
        int k = connect_batch(&dst, c, timeout_ms, fds, &ok, &tmo, &refused, &other);
        for (int i = 0; i < k; i++) all[kept++] = fds[i];
    }
    printf("nfload tcp-connect %s:%d: attempted=%ld ok=%ld timeout=%ld refused=%ld other=%ld elapsed_ms=%ld\n",
           a, port, n, ok, tmo, refused, other, now_ms() - t0);
    fflush(stdout);
    if (hold_s > 0) sleep((unsigned)hold_s);
    if (do_close) for (int i = 0; i < kept; i++) close(all[i]);
    return 0;
}

static int tcp_chatter(const char *a, int port, long n, long rounds, long gap_ms) {
    struct sockaddr_in dst = mkaddr(a, port);
    static int all[MAX_CONN];
    int kept = 0;
    long ok = 0, tmo = 0, refused = 0, other = 0, werr = 0, wok = 0;
    for (long done = 0; done < n; done += 256) {
        int c = (int)(n - done > 256 ? 256 : n - done);
        int fds[256];
        int k = connect_batch(&dst, c, 2000, fds, &ok, &tmo, &refused, &other);
        for (int i = 0; i < k; i++) all[kept++] = fds[i];
    }
    for (long r = 0; r < rounds; r++) {
        for (int i = 0; i < kept; i++) {
            if (write(all[i], "x", 1) == 1) wok++; else werr++;
        }
        usleep((useconds_t)(gap_ms * 1000));
    }
    printf("nfload tcp-chatter %s:%d: connections=%d writes_ok=%ld writes_failed=%ld\n", a, port, kept, wok, werr);
    for (int i = 0; i < kept; i++) close(all[i]);
    return 0;
}

static int udp_send(const char *a, int port0, long n, long nports) {
    struct sockaddr_in dst = mkaddr(a, port0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    long ok = 0, err = 0;
    if (nports < 1) nports = 1;
    for (long i = 0; i < n; i++) {
        dst.sin_port = htons((unsigned short)(port0 + (i % nports)));
        if (sendto(fd, "nfdiag-lab", 10, MSG_DONTWAIT, (struct sockaddr *)&dst, sizeof dst) == 10) ok++;
        else err++;
    }
    printf("nfload udp-send %s:%d+%ld: sent=%ld errors=%ld\n", a, port0, nports, ok, err);
    close(fd);
    return 0;
}

static int udp_hosts(const char *net3, int port, long n) {
    unsigned a, b, c;
    if (sscanf(net3, "%u.%u.%u", &a, &b, &c) != 3) { fprintf(stderr, "nfload: want A.B.C\n"); return 2; }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    long ok = 0, err = 0;
    for (long i = 0; i < n; i++) {
        unsigned host = (unsigned)(i % 254) + 1, third = c + (unsigned)(i / 254);
        char ip[32];
        snprintf(ip, sizeof ip, "%u.%u.%u.%u", a, b, third & 255, host);
        struct sockaddr_in dst = mkaddr(ip, port);
        if (sendto(fd, "nfdiag-lab", 10, MSG_DONTWAIT, (struct sockaddr *)&dst, sizeof dst) == 10) ok++;
        else err++;
    }
    printf("nfload udp-hosts %s.x: sent=%ld errors=%ld\n", net3, ok, err);
    close(fd);
    return 0;
}

static int ftp_client(const char *a, int port, long n, long hold_s) {
    struct sockaddr_in dst = mkaddr(a, port);
    static int all[MAX_CONN];
    int kept = 0;
    long got227 = 0;
    for (long i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) { close(fd); continue; }
        char buf[512];
        const char *cmds[] = {"USER anonymous\r\n", "PASS lab@\r\n", "PASV\r\n"};
        if (read(fd, buf, sizeof buf) <= 0) { close(fd); continue; }
        for (int j = 0; j < 3; j++) {
            if (write(fd, cmds[j], strlen(cmds[j])) < 0) break;
            ssize_t k = read(fd, buf, sizeof buf - 1);
            if (k <= 0) break;
            buf[k] = 0;
            if (!strncmp(buf, "227", 3)) got227++;
        }
        all[kept++] = fd;
    }
    printf("nfload ftp-client %s:%d: control=%d pasv_replies=%ld\n", a, port, kept, got227);
    fflush(stdout);
    if (hold_s > 0) sleep((unsigned)hold_s);
    for (int i = 0; i < kept; i++) close(all[i]);
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) goto usage;
    const char *m = argv[1];
    if (!strcmp(m, "tcp-server") && argc == 5)
        return server(argv[2], atoi(argv[3]), clampl(argv[4], 1, 3600), 0);
    if (!strcmp(m, "tcp-sink") && argc == 5)
        return sink(argv[2], atoi(argv[3]), clampl(argv[4], 1, 3600));
    if (!strcmp(m, "ftp-server") && argc == 5)
        return server(argv[2], atoi(argv[3]), clampl(argv[4], 1, 3600), 1);
    if (!strcmp(m, "tcp-connect") && (argc == 7 || argc == 8))
        return tcp_connect(argv[2], atoi(argv[3]), clampl(argv[4], 1, MAX_CONN), clampl(argv[5], 1, 60000),
                           clampl(argv[6], 0, 3600), argc == 8 ? atoi(argv[7]) : 1);
    if (!strcmp(m, "tcp-chatter") && argc == 7)
        return tcp_chatter(argv[2], atoi(argv[3]), clampl(argv[4], 1, MAX_CONN), clampl(argv[5], 1, 1000),
                           clampl(argv[6], 0, 10000));
    if (!strcmp(m, "udp-send") && (argc == 5 || argc == 6))
        return udp_send(argv[2], atoi(argv[3]), clampl(argv[4], 1, MAX_SEND), argc == 6 ? clampl(argv[5], 1, 60000) : 1);
    if (!strcmp(m, "udp-hosts") && argc == 5)
        return udp_hosts(argv[2], atoi(argv[3]), clampl(argv[4], 1, 60000));
    if (!strcmp(m, "ftp-client") && argc == 6)
        return ftp_client(argv[2], atoi(argv[3]), clampl(argv[4], 1, 1000), clampl(argv[5], 0, 3600));
usage:
    fprintf(stderr, "usage: see the comment at the top of nfload.c\n");
    return 2;
}
