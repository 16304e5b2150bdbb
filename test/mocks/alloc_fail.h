/*
 * test/mocks/alloc_fail.h — make one allocation fail on demand, to test out-of-memory
 * paths. Layer: test support. May touch: <dlfcn.h>, the C library.
 *
 * Include it in exactly ONE .c file of a test binary: it defines malloc, calloc and
 * realloc. The dynamic linker binds every call in the process, libklamm.a's included,
 * to the executable's definition first (ELF symbol interposition). They forward to the
 * next definition, the C library's (or a sanitizer's), found with dlsym(RTLD_NEXT);
 * free is not replaced. Armed with alloc_fail_arm(n), the allocation after the next n
 * fails, once; alloc_fail_happened() then says whether it did (a run that needed fewer
 * than n + 1 allocations did not fail at all: the usual end of a sweep n = 0, 1, 2…).
 *
 * valgrind puts its own allocator in place of every malloc, this one's too, unless it
 * runs with --soname-synonyms=somalloc=nouserintercepts: tests call
 * alloc_fail_supported() first and skip() when it is false.
 */
#ifndef KL_TEST_MOCKS_ALLOC_FAIL_H
#define KL_TEST_MOCKS_ALLOC_FAIL_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

static long alloc_fail_countdown = -1;   /* allocations let through before one fails */
static bool alloc_fail_failed;           /* an allocation was refused since the arm */

static inline void alloc_fail_arm(long n)
{
    alloc_fail_countdown = n;
    alloc_fail_failed = false;
}

static inline void alloc_fail_disarm(void) { alloc_fail_countdown = -1; }

static inline bool alloc_fail_happened(void) { return alloc_fail_failed; }

static inline bool alloc_fail_now(void)
{
    if (alloc_fail_countdown < 0)
        return false;
    if (alloc_fail_countdown-- > 0)
        return false;
    alloc_fail_failed = true;            /* alloc_fail_countdown is -1 again: one failure */
    return true;
}

void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);

void *malloc(size_t n)
{
    static void *(*real)(size_t);
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "malloc");
    return alloc_fail_now() ? NULL : real(n);
}

/* dlsym may itself call calloc before the real one is known: serve that from here. */
static unsigned char alloc_fail_boot[1024] __attribute__((aligned(16)));
static size_t alloc_fail_boot_used;

void *calloc(size_t n, size_t size)
{
    static void *(*real)(size_t, size_t);
    static bool resolving;
    if (real == NULL) {
        if (resolving) {
            size_t want = (n * size + 15) & ~(size_t)15;
            if (want > sizeof alloc_fail_boot - alloc_fail_boot_used)
                return NULL;
            alloc_fail_boot_used += want;
            return alloc_fail_boot + alloc_fail_boot_used - want;   /* static: zero */
        }
        resolving = true;
        *(void **)&real = dlsym(RTLD_NEXT, "calloc");
        resolving = false;
    }
    return alloc_fail_now() ? NULL : real(n, size);
}

void *realloc(void *p, size_t n)
{
    static void *(*real)(void *, size_t);
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "realloc");
    return alloc_fail_now() ? NULL : real(p, n);
}

/* false under valgrind (see above): the probe allocation is not refused. Called through
 * a volatile pointer: the compiler may assume a direct malloc succeeds. */
static inline bool alloc_fail_supported(void)
{
    void *(*volatile alloc)(size_t) = malloc;
    alloc_fail_arm(0);
    void *probe = alloc(1);
    alloc_fail_disarm();
    if (probe != NULL) {
        free(probe);
        return false;
    }
    return true;
}

#endif
