/*
 * admission.c: connection budgets (see admission.h).
 *
 * Addresses are kept in a small array of (key, count) under one mutex; an
 * entry goes when its count reaches zero.  The array never holds more
 * entries than there are open connections, which civetweb's thread pool
 * and accept queue bound, so a linear search is enough.
 */
#include "admission.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "shared/md_alloc.h"

#define KEY_LEN INET6_ADDRSTRLEN

typedef struct addr_count {
    char key[KEY_LEN];
    int count;
} addr_count;

struct md_admission {
    int max_per_address, max_unauth;
    pthread_mutex_t mu;
    addr_count *addrs;
    int naddrs, cap;
    atomic_int unauth;
};

/* The budget key of an address: IPv4 as it is, IPv6 by its /64 prefix. */
static void address_key(const char *addr, char out[KEY_LEN]) {
    struct in6_addr a6;
    if (strchr(addr, ':') && inet_pton(AF_INET6, addr, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            inet_ntop(AF_INET, &a6.s6_addr[12], out, KEY_LEN);
            return;
        }
        memset(&a6.s6_addr[8], 0, 8);
        inet_ntop(AF_INET6, &a6, out, KEY_LEN);
        return;
    }
    snprintf(out, KEY_LEN, "%s", addr);
}

md_admission *md_admission_create(int max_per_address, int max_unauthenticated) {
    md_admission *a = md_calloc(1, sizeof *a);
    a->max_per_address = max_per_address;
    a->max_unauth = max_unauthenticated;
    pthread_mutex_init(&a->mu, NULL);
    atomic_init(&a->unauth, 0);
    return a;
}

void md_admission_destroy(md_admission **a) {
    if (!*a) return;
    pthread_mutex_destroy(&(*a)->mu);
    md_free((*a)->addrs);
    md_free(*a);
    *a = NULL;
}

static addr_count *find(md_admission *a, const char *key) {
    for (int i = 0; i < a->naddrs; i++)
        if (strcmp(a->addrs[i].key, key) == 0) return &a->addrs[i];
    return NULL;
}

int md_admission_address_open(md_admission *a, const char *addr) {
    char key[KEY_LEN];
    address_key(addr, key);
    int admitted = 1;
    pthread_mutex_lock(&a->mu);
    addr_count *e = find(a, key);
    if (!e) {
        if (a->naddrs == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 16;
            a->addrs = md_realloc(a->addrs, (size_t)a->cap * sizeof *a->addrs);
        }
        e = &a->addrs[a->naddrs++];
        memcpy(e->key, key, KEY_LEN);
        e->count = 0;
    }
    if (a->max_per_address > 0 && e->count >= a->max_per_address) admitted = 0;
    else e->count++;
    if (e->count == 0) *e = a->addrs[--a->naddrs];
    pthread_mutex_unlock(&a->mu);
    return admitted;
}

void md_admission_address_close(md_admission *a, const char *addr) {
    char key[KEY_LEN];
    address_key(addr, key);
    pthread_mutex_lock(&a->mu);
    addr_count *e = find(a, key);
    if (e && --e->count <= 0) *e = a->addrs[--a->naddrs];
    pthread_mutex_unlock(&a->mu);
}

int md_admission_unauth_enter(md_admission *a) {
    int n = atomic_fetch_add(&a->unauth, 1);
    if (a->max_unauth > 0 && n >= a->max_unauth) {
        atomic_fetch_sub(&a->unauth, 1);
        return 0;
    }
    return 1;
}

void md_admission_unauth_leave(md_admission *a) { atomic_fetch_sub(&a->unauth, 1); }
