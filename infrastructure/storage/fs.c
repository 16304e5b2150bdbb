/*
 * infrastructure/storage/fs.c — the file-system steps shared by the storage files
 * (segment, time_index, topic_store, offset_log, log_dir); contract in fs.h.
 * Layer: infrastructure. May touch: domain/error.h, logging, POSIX files and directories.
 */
#include "infrastructure/storage/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

kl_err_t fs_io_error(const kl_log_t *log, const char *mod, const char *what, const char *path)
{
    int saved = errno;
    KL_LOG_ERR(log, mod, "%s %s: %s", what, path, strerror(saved));
    return KL_ERR_KAFKA_STORAGE_ERROR;
}

bool fs_path_format(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < cap;
}

char *fs_join(const char *dir, const char *name)
{
    size_t cap = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(cap);
    if (p != NULL)
        snprintf(p, cap, "%s/%s", dir, name);
    return p;
}

kl_err_t fs_fsync_dir(const kl_log_t *log, const char *mod, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fs_io_error(log, mod, "open directory", dir);
    kl_err_t err = KL_OK;
    if (fsync(fd) != 0)
        err = fs_io_error(log, mod, "fsync directory", dir);
    close(fd);
    return err;
}

kl_err_t fs_mkdir_durable(const kl_log_t *log, const char *mod, const char *path,
                          const char *parent)
{
    if (mkdir(path, 0755) == 0)
        return fs_fsync_dir(log, mod, parent);
    if (errno != EEXIST)
        return fs_io_error(log, mod, "mkdir", path);
    return KL_OK;
}

static bool fs_is_dot_or_dotdot(const char *name)
{
    return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* fs_each_entry, except that a missing `dir` counts as an empty one when `missing_ok`:
 * for fs_remove_dir, where a directory already gone is the goal reached. The public walk
 * has no such switch, because for every other caller a vanished directory is damage that
 * must not look like "no topics" or "no segments". */
static kl_err_t fs_walk(const kl_log_t *log, const char *mod, const char *dir, bool missing_ok,
                        fs_entry_visit_fn visit, void *arg)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return missing_ok && errno == ENOENT ? KL_OK : fs_io_error(log, mod, "opendir", dir);
    kl_err_t err = KL_OK;
    for (;;) {
        errno = 0;                  /* readdir's NULL is the end only while errno stays 0 */
        struct dirent *e = readdir(d);
        if (e == NULL) {
            if (errno != 0)
                err = fs_io_error(log, mod, "readdir", dir);
            break;
        }
        if (fs_is_dot_or_dotdot(e->d_name))
            continue;
        err = visit(arg, e->d_name);
        if (err != KL_OK)
            break;
    }
    closedir(d);
    return err;
}

kl_err_t fs_each_entry(const kl_log_t *log, const char *mod, const char *dir,
                       fs_entry_visit_fn visit, void *arg)
{
    return fs_walk(log, mod, dir, false, visit, arg);
}

/* What fs_unlink_entry needs besides the name: where, and whom to log as. */
typedef struct fs_remove {
    const kl_log_t *log;
    const char *mod;
    const char *dir;
} fs_remove_t;

/* Unlink one entry of the directory being removed; one already gone is fine. */
static kl_err_t fs_unlink_entry(void *arg, const char *name)
{
    const fs_remove_t *rm = arg;
    char *path = fs_join(rm->dir, name);
    if (path == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    kl_err_t err = KL_OK;
    if (unlink(path) != 0 && errno != ENOENT) {
        int saved = errno;                          /* for fs_io_error, past the snprintf */
        char what[300];
        snprintf(what, sizeof what, "unlink %s in", name);
        errno = saved;
        err = fs_io_error(rm->log, rm->mod, what, rm->dir);
    }
    free(path);
    return err;
}

kl_err_t fs_remove_dir(const kl_log_t *log, const char *mod, const char *path)
{
    fs_remove_t rm = { log, mod, path };
    kl_err_t err = fs_walk(log, mod, path, true, fs_unlink_entry, &rm);
    if (err == KL_OK && rmdir(path) != 0 && errno != ENOENT)
        err = fs_io_error(log, mod, "rmdir", path);
    return err;
}

kl_err_t fs_write_full(const kl_log_t *log, const char *mod, int fd, const char *path,
                       const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, (const char *)buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return fs_io_error(log, mod, "write", path);
        done += (size_t)w;
    }
    return KL_OK;
}

ssize_t fs_pread_all(int fd, void *buf, size_t n, int64_t pos)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(pos + (int64_t)done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;                         /* end of file */
        done += (size_t)r;
    }
    return (ssize_t)done;
}

kl_err_t fs_pread_full(const kl_log_t *log, const char *mod, int fd, const char *path,
                       void *buf, size_t n, int64_t pos)
{
    ssize_t r = fs_pread_all(fd, buf, n, pos);
    if (r < 0)
        return fs_io_error(log, mod, "pread", path);
    if ((size_t)r < n) {
        kl_log_write(log, KL_LOG_ERROR, mod, "pread %s: unexpected end of file at %" PRId64,
                     path, pos + (int64_t)r);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    return KL_OK;
}

kl_err_t fs_write_file(const kl_log_t *log, const char *mod, const char *path,
                       const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fs_io_error(log, mod, "open", path);
    kl_err_t err = fs_write_full(log, mod, fd, path, buf, len);
    if (err == KL_OK && fsync(fd) != 0)
        err = fs_io_error(log, mod, "fsync", path);
    close(fd);
    return err;
}

kl_err_t fs_replace_file(const kl_log_t *log, const char *mod, const char *tmp,
                         const char *final, const char *dir, const void *buf, size_t len)
{
    kl_err_t err = fs_write_file(log, mod, tmp, buf, len);
    if (err == KL_OK && rename(tmp, final) != 0)
        err = fs_io_error(log, mod, "rename", tmp);
    if (err != KL_OK) {
        unlink(tmp);
        return err;
    }
    return fs_fsync_dir(log, mod, dir);
}
