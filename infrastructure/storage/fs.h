/*
 * infrastructure/storage/fs.h — the small file-system steps the storage files share:
 * build a path, write a whole buffer, fsync a directory, create a directory durably, walk
 * a directory's entries, remove a directory of files, and replace a file atomically
 * (write a temp file, fsync it, rename it, fsync the directory).
 * Layer: infrastructure. May touch: domain/error.h, logging, POSIX files and directories.
 *
 * Why a directory fsync: creating, renaming or deleting a file changes its directory, and
 * that change is only durable once the directory itself is fsynced (a file fsync does not
 * cover its name). Every "create then rely on it after a crash" step ends with one.
 *
 * Errors are values: a failed system call becomes KL_ERR_KAFKA_STORAGE_ERROR with one
 * ERROR line "<what> <path>: <strerror(errno)>". The caller passes its logger and its
 * module name (`log` may be NULL, `mod` is e.g. "segment"), so the line names the store
 * that was doing the I/O.
 */
#ifndef KL_INFRA_STORAGE_FS_H
#define KL_INFRA_STORAGE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "domain/error.h"
#include "infrastructure/logging.h"

/* Log "<what> <path>: <strerror(errno)>" under `mod`; returns KL_ERR_KAFKA_STORAGE_ERROR.
 * Call it right after the failed system call, while errno still says why. */
kl_err_t fs_io_error(const kl_log_t *log, const char *mod, const char *what, const char *path);

/* printf into buf[cap]; false when the result does not fit (buf is then truncated). */
bool fs_path_format(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "<dir>/<name>" in a fresh malloc'd string (the caller frees it), or NULL when out of
 * memory. */
char *fs_join(const char *dir, const char *name);

/* fsync(2) the directory `dir`, making the creates/renames/unlinks in it durable. */
kl_err_t fs_fsync_dir(const kl_log_t *log, const char *mod, const char *dir);

/* mkdir `path` (0755) if it is missing; when this call created it, fsync `parent` so the
 * new name survives a crash. An existing `path` is fine (nothing is fsynced). */
kl_err_t fs_mkdir_durable(const kl_log_t *log, const char *mod, const char *path,
                          const char *parent);

/* A visitor of fs_each_entry, given one entry's name (not a path: join it with the
 * directory when it needs one). KL_OK goes on to the next entry; anything else stops the
 * walk and becomes fs_each_entry's result (the visitor logs its own errors). */
typedef kl_err_t (*fs_entry_visit_fn)(void *arg, const char *name);

/* Call visit(arg, name) for every entry of the directory `dir` except "." and "..":
 * files, subdirectories and hidden names alike (the visitor filters). The order is
 * readdir's, which is unspecified: a caller that needs one collects the names and sorts.
 * The walk stops at the first visit that does not return KL_OK and returns that value
 * unchanged — the only way to stop early, and no line is logged for it. A `dir` that
 * cannot be opened (missing, not a directory) or read is KAFKA_STORAGE_ERROR with one line
 * "opendir <dir>: ..." or "readdir <dir>: ..." under `mod`; a read error can come after
 * some entries were visited. The visitor may unlink the entry it is given; an entry
 * someone else creates or removes during the walk may or may not be visited (POSIX
 * readdir). Cost: 1 opendir + 1 getdents(2) per few hundred entries + 1 closedir. */
kl_err_t fs_each_entry(const kl_log_t *log, const char *mod, const char *dir,
                       fs_entry_visit_fn visit, void *arg);

/* Remove the directory `path` and the files in it: unlink every entry, then rmdir. Not
 * recursive: an entry that is itself a directory fails the call (a partition directory
 * holds only files; anything else there is not ours to delete). A missing `path` is
 * fine (already removed). On failure some entries may be gone already. Not durable by
 * itself: fsync the parent afterwards. Cost: 1 fs_each_entry walk + 1 unlink per file +
 * 1 rmdir. */
kl_err_t fs_remove_dir(const kl_log_t *log, const char *mod, const char *path);

/* Write all `n` bytes of `buf` to `fd` at its file position: one write(2) in the normal
 * case; the loop only resumes a short write or one interrupted by a signal (EINTR).
 * `path` only names the file in the log line. */
kl_err_t fs_write_full(const kl_log_t *log, const char *mod, int fd, const char *path,
                       const void *buf, size_t n);

/* Read `n` bytes at `pos` into `buf`, resuming short reads and EINTR. Returns the bytes
 * read — fewer than `n` only at end of file — or -1 with errno set. No log line: for
 * callers that decide themselves what a short file means (net/connection.c). */
ssize_t fs_pread_all(int fd, void *buf, size_t n, int64_t pos);

/* fs_pread_all where a short file is damage: an I/O error, or the end of the file before
 * `n` bytes, is KL_ERR_KAFKA_STORAGE_ERROR with one log line naming `path` and where it
 * ended. */
kl_err_t fs_pread_full(const kl_log_t *log, const char *mod, int fd, const char *path,
                       void *buf, size_t n, int64_t pos);

/* Create (or truncate) `path` holding exactly `len` bytes of `buf`, fsynced. */
kl_err_t fs_write_file(const kl_log_t *log, const char *mod, const char *path,
                       const void *buf, size_t len);

/* Atomically make `final` hold `len` bytes of `buf`: fs_write_file(tmp), rename(tmp, final),
 * fs_fsync_dir(dir), where `dir` is the directory holding both. A crash leaves either the
 * old `final` or the new one, never a mix (rename is atomic); a failure before the rename
 * deletes `tmp`. Cost: 2 fsyncs. */
kl_err_t fs_replace_file(const kl_log_t *log, const char *mod, const char *tmp,
                         const char *final, const char *dir, const void *buf, size_t len);

#endif
